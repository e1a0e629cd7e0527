import { X509Certificate } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import {
  LOOPBACK_HOST,
  TLS_CERT_CACHE_VERSION,
  TLS_CERT_RENEW_BEFORE_MS,
  TLS_CERT_VALIDITY_DAYS,
} from './constants';

/** The files of the certificate kinesis-mock presents on its TLS port. */
export interface TlsCertificateFiles {
  /** `{"server":{"key":PEM,"cert":PEM}}`, the format of kinesis-mock's KINESIS_MOCK_CERT_PATH. */
  readonly serverJsonPath: string;
  /** The certificate alone as PEM, to trust it (NODE_EXTRA_CA_CERTS). */
  readonly caFile: string;
}

/**
 * Returns a self-signed certificate for `localhost` and 127.0.0.1, generating it on first use and
 * reusing it afterwards (so NODE_EXTRA_CA_CERTS stays valid across engine restarts).
 *
 * kinesis-mock's bundled certificate has CN=Unknown and no subject alternative name, so no
 * verifying client accepts it; this one verifies for `https://127.0.0.1:PORT` and `https://localhost:PORT`.
 *
 * @param cacheDir - where to keep the files (default: a folder under `os.tmpdir()`)
 */
export async function ensureTlsCertificate(
  cacheDir: string = join(tmpdir(), `shardflow-tls-${TLS_CERT_CACHE_VERSION}`),
): Promise<TlsCertificateFiles> {
  const files = { serverJsonPath: join(cacheDir, 'server.json'), caFile: join(cacheDir, 'ca.pem') };
  if (await isUsable(files)) return files;

  const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
    keySize: 2048,
    algorithm: 'sha256',
    notAfterDate: new Date(Date.now() + TLS_CERT_VALIDITY_DAYS * 24 * 60 * 60 * 1000),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: LOOPBACK_HOST },
        ],
      },
    ],
  });
  await mkdir(cacheDir, { recursive: true });
  // Write the key file first: a reader that finds ca.pem finds a matching server.json.
  await writeAtomically(
    files.serverJsonPath,
    JSON.stringify({ server: { key: pems.private, cert: pems.cert } }),
  );
  await writeAtomically(files.caFile, pems.cert);
  return files;
}

async function isUsable(files: TlsCertificateFiles): Promise<boolean> {
  try {
    const [pem, serverJson] = await Promise.all([
      readFile(files.caFile, 'utf8'),
      readFile(files.serverJsonPath, 'utf8'),
    ]);
    const stored = JSON.parse(serverJson) as { server?: { cert?: string } };
    const certificate = new X509Certificate(pem);
    return (
      stored.server?.cert === pem &&
      Date.parse(certificate.validTo) - Date.now() > TLS_CERT_RENEW_BEFORE_MS
    );
  } catch {
    return false;
  }
}

/** Concurrent starters (parallel test workers) may race here; rename makes each file whole. */
async function writeAtomically(path: string, content: string): Promise<void> {
  const temporary = `${path}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(temporary, content, { mode: 0o600 });
  await rename(temporary, path);
}
