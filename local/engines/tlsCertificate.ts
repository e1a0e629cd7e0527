import { createPrivateKey, randomUUID, X509Certificate } from 'node:crypto';
import { constants, lstatSync } from 'node:fs';
import { type FileHandle, open, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { generate } from 'selfsigned';
import {
  currentUid,
  ensurePrivateDirectory,
  GROUP_OTHER_BITS,
  PRIVATE_FILE_MODE,
} from '#local/io/privateDirectory';
import {
  LOOPBACK_HOST,
  TLS_CERT_CACHE_VERSION,
  TLS_CERT_RENEW_BEFORE_MS,
  TLS_CERT_VALIDITY_DAYS,
} from './constants';
import { EngineError } from './errors';

/** The files of the certificate kinesis-mock presents on its TLS port. */
export interface TlsCertificateFiles {
  /** `{"server":{"key":PEM,"cert":PEM}}`, the format of kinesis-mock's KINESIS_MOCK_CERT_PATH. */
  readonly serverJsonPath: string;
  /** The certificate alone as PEM, to trust it (NODE_EXTRA_CA_CERTS). */
  readonly caFile: string;
}

/** The host name the certificate is for, besides {@link LOOPBACK_HOST}. */
const CERTIFICATE_HOST = 'localhost';

/** Extended key usage OID of a TLS server certificate. */
const SERVER_AUTH_OID = '1.3.6.1.5.5.7.3.1';

/** How long a starter waits for another one to generate the certificate. */
const GENERATE_WAIT_MS = 60_000;

/** A generation lock this old was left by a starter that died. */
const STALE_LOCK_MS = 15_000;

/**
 * The per-user folder that keeps the certificate when no state directory is given:
 * `$XDG_RUNTIME_DIR/shardflow-tls-v1` when XDG_RUNTIME_DIR is an absolute directory private to this user
 * (as the XDG spec requires: owned by the user, mode 0700), otherwise `<os.tmpdir()>/shardflow-tls-v1-<uid>`.
 */
export function defaultTlsCertificateDir(env: NodeJS.ProcessEnv = process.env): string {
  const name = `shardflow-tls-${TLS_CERT_CACHE_VERSION}`;
  const runtimeDir = env.XDG_RUNTIME_DIR;
  if (runtimeDir !== undefined && isAbsolute(runtimeDir) && isPrivateDirectory(runtimeDir)) {
    return join(runtimeDir, name);
  }
  return join(tmpdir(), `${name}-${currentUid() ?? userInfo().username}`);
}

/**
 * Returns a self-signed certificate for `localhost` and 127.0.0.1, generating it on first use and
 * reusing it afterwards (so NODE_EXTRA_CA_CERTS stays valid across engine restarts).
 *
 * kinesis-mock's bundled certificate has CN=Unknown and no subject alternative name, so no
 * verifying client accepts it; this one verifies for `https://127.0.0.1:PORT` and `https://localhost:PORT`.
 *
 * The certificate is trusted by the handler processes (NODE_EXTRA_CA_CERTS), so nobody else may be
 * able to supply it: the folder must be a real directory (not a symbolic link) owned by the current
 * user with mode 0700 — it is created so, and refused otherwise. A stored certificate is reused only
 * when both files are regular files of this user with mode 0600, the certificate is not a CA
 * (`basicConstraints CA:FALSE`), is for `localhost` and 127.0.0.1, serves TLS servers, is valid now
 * and for longer than {@link TLS_CERT_RENEW_BEFORE_MS}, and matches the stored key; anything else is
 * replaced by a fresh certificate.
 *
 * @param cacheDir - where to keep the files (default: {@link defaultTlsCertificateDir})
 * @throws UnsafePathError when `cacheDir` is a symbolic link, not a directory, owned by another user,
 *   or accessible to group or others
 */
export async function ensureTlsCertificate(
  cacheDir: string = defaultTlsCertificateDir(),
): Promise<TlsCertificateFiles> {
  ensurePrivateDirectory(cacheDir, { purpose: 'the local TLS certificate' });
  const files = { serverJsonPath: join(cacheDir, 'server.json'), caFile: join(cacheDir, 'ca.pem') };
  const lockFile = join(cacheDir, 'generate.lock');
  const deadline = Date.now() + GENERATE_WAIT_MS;
  for (;;) {
    if (await isUsable(files)) return files;
    // One starter generates, the others (parallel test workers) wait for its files: two generating
    // at once could leave server.json of one and ca.pem of the other.
    const lock = await tryLock(lockFile);
    if (lock === undefined) {
      if (Date.now() > deadline) {
        throw new EngineError(
          `gave up waiting for ${lockFile}: remove it if no shardflow is starting`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
      continue;
    }
    try {
      if (!(await isUsable(files))) await generateInto(files);
      return files;
    } finally {
      await lock.close();
      await rm(lockFile, { force: true });
    }
  }
}

async function generateInto(files: TlsCertificateFiles): Promise<void> {
  const now = Date.now();
  const pems = await generate([{ name: 'commonName', value: CERTIFICATE_HOST }], {
    keySize: 2048,
    algorithm: 'sha256',
    notBeforeDate: new Date(now - 60_000),
    notAfterDate: new Date(now + TLS_CERT_VALIDITY_DAYS * 24 * 60 * 60 * 1000),
    // Set explicitly rather than left to selfsigned's defaults: a leaf certificate that cannot sign
    // others, for exactly the loopback names.
    extensions: [
      { name: 'basicConstraints', cA: false, critical: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: CERTIFICATE_HOST },
          { type: 7, ip: LOOPBACK_HOST },
        ],
      },
    ],
  });
  // Write the key file first: a reader that finds ca.pem finds a matching server.json.
  await writeAtomically(
    files.serverJsonPath,
    JSON.stringify({ server: { key: pems.private, cert: pems.cert } }),
  );
  await writeAtomically(files.caFile, pems.cert);
}

/**
 * Takes the generation lock (a file created exclusively), or returns undefined when another starter
 * holds it. A lock older than {@link STALE_LOCK_MS} was left by a starter that died: it is removed.
 */
async function tryLock(lockFile: string): Promise<FileHandle | undefined> {
  try {
    return await open(lockFile, 'wx', PRIVATE_FILE_MODE);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const held = await stat(lockFile).catch(() => undefined);
    if (held !== undefined && Date.now() - held.mtimeMs > STALE_LOCK_MS) {
      await rm(lockFile, { force: true });
    }
    return undefined;
  }
}

async function isUsable(files: TlsCertificateFiles): Promise<boolean> {
  try {
    const [pem, serverJson] = await Promise.all([
      readPrivateFile(files.caFile),
      readPrivateFile(files.serverJsonPath),
    ]);
    const stored = JSON.parse(serverJson) as { server?: { key?: string; cert?: string } };
    if (stored.server?.cert !== pem || typeof stored.server.key !== 'string') return false;
    const certificate = new X509Certificate(pem);
    const now = Date.now();
    return (
      !certificate.ca &&
      certificate.checkHost(CERTIFICATE_HOST) === CERTIFICATE_HOST &&
      certificate.checkIP(LOOPBACK_HOST) === LOOPBACK_HOST &&
      (certificate.keyUsage ?? []).includes(SERVER_AUTH_OID) &&
      Date.parse(certificate.validFrom) <= now &&
      Date.parse(certificate.validTo) - now > TLS_CERT_RENEW_BEFORE_MS &&
      certificate.checkPrivateKey(createPrivateKey(stored.server.key))
    );
  } catch {
    return false;
  }
}

/**
 * Reads a file only if it is a regular file of this user that group and others cannot access, checked
 * on the open descriptor (no symbolic link is followed), so what is checked is what is read.
 */
async function readPrivateFile(path: string): Promise<string> {
  const handle = await open(path, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
  try {
    const stats = await handle.stat();
    const uid = currentUid();
    if (
      !stats.isFile() ||
      (uid !== undefined && (stats.uid !== uid || (stats.mode & GROUP_OTHER_BITS) !== 0))
    ) {
      throw new Error(`${path} is not a private file of this user`);
    }
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}

/**
 * Concurrent starters (parallel test workers) may race here: each writes a file of its own, created
 * exclusively with mode 0600 (never through an existing file or link), and renames it over the old
 * one, so every file is whole.
 */
async function writeAtomically(path: string, content: string): Promise<void> {
  const temporary = `${path}.${randomUUID()}.tmp`;
  try {
    await writeFile(temporary, content, { mode: PRIVATE_FILE_MODE, flag: 'wx' });
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

function isPrivateDirectory(dir: string): boolean {
  try {
    const stats = lstatSync(dir);
    return (
      stats.isDirectory() && stats.uid === currentUid() && (stats.mode & GROUP_OTHER_BITS) === 0
    );
  } catch {
    return false;
  }
}
