import { X509Certificate } from 'node:crypto';
import {
  chmod,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import { defaultTlsCertificateDir, ensureTlsCertificate } from '#local/engines/tlsCertificate';

const DAY_MS = 24 * 60 * 60 * 1000;

/** A certificate as an attacker or an old version may have left it, in kinesis-mock's format. */
async function storeCertificate(
  dir: string,
  options: {
    ca?: boolean;
    host?: string;
    notBeforeDate?: Date;
    notAfterDate?: Date;
  } = {},
): Promise<string> {
  const host = options.host ?? 'localhost';
  const pems = await generate([{ name: 'commonName', value: host }], {
    keySize: 2048,
    algorithm: 'sha256',
    notBeforeDate: options.notBeforeDate ?? new Date(Date.now() - DAY_MS),
    notAfterDate: options.notAfterDate ?? new Date(Date.now() + 365 * DAY_MS),
    extensions: [
      { name: 'basicConstraints', cA: options.ca ?? false },
      options.ca
        ? { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true }
        : { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: host },
          ...(host === 'localhost' ? [{ type: 7 as const, ip: '127.0.0.1' }] : []),
        ],
      },
    ],
  });
  await writeFile(
    join(dir, 'server.json'),
    JSON.stringify({ server: { key: pems.private, cert: pems.cert } }),
    { mode: 0o600 },
  );
  await writeFile(join(dir, 'ca.pem'), pems.cert, { mode: 0o600 });
  return pems.cert;
}

const modeOf = async (path: string): Promise<number> => (await stat(path)).mode & 0o777;

describe('ensureTlsCertificate', () => {
  let workDir: string;
  let cacheDir: string;

  beforeEach(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'shardflow-tls-test-'));
    cacheDir = join(workDir, 'tls');
  });

  afterEach(async () => {
    jest.restoreAllMocks();
    await rm(workDir, { recursive: true, force: true });
  });

  it('generates a certificate valid for 127.0.0.1 and localhost in kinesis-mock format', async () => {
    // WHEN
    const files = await ensureTlsCertificate(cacheDir);

    // THEN
    const pem = await readFile(files.caFile, 'utf8');
    const certificate = new X509Certificate(pem);
    expect(certificate.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(certificate.checkHost('localhost')).toBe('localhost');
    const serverJson = JSON.parse(await readFile(files.serverJsonPath, 'utf8'));
    expect(serverJson.server.cert).toBe(pem);
    expect(serverJson.server.key).toMatch(/^-----BEGIN PRIVATE KEY-----/);
  });

  it('generates a leaf certificate (CA:FALSE) for TLS servers only', async () => {
    // WHEN
    const files = await ensureTlsCertificate(cacheDir);

    // THEN
    const certificate = new X509Certificate(await readFile(files.caFile, 'utf8'));
    expect(certificate.ca).toBe(false);
    expect(certificate.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
  });

  it('creates the folder with mode 0700 and the files with mode 0600, whatever the umask', async () => {
    // GIVEN
    const umask = process.umask(0o022);

    try {
      // WHEN
      const files = await ensureTlsCertificate(cacheDir);

      // THEN
      expect((await modeOf(cacheDir)).toString(8)).toBe('700');
      expect((await modeOf(files.caFile)).toString(8)).toBe('600');
      expect((await modeOf(files.serverJsonPath)).toString(8)).toBe('600');
      expect(await readdir(cacheDir)).toEqual(['ca.pem', 'server.json']);
    } finally {
      process.umask(umask);
    }
  });

  it('reuses the cached certificate', async () => {
    // GIVEN
    const first = await ensureTlsCertificate(cacheDir);
    const pem = await readFile(first.caFile, 'utf8');

    // WHEN
    const second = await ensureTlsCertificate(cacheDir);

    // THEN
    expect(await readFile(second.caFile, 'utf8')).toBe(pem);
  });

  it('regenerates a certificate whose files do not match', async () => {
    // GIVEN
    const first = await ensureTlsCertificate(cacheDir);
    const pem = await readFile(first.caFile, 'utf8');
    await writeFile(first.serverJsonPath, '{}');

    // WHEN
    const second = await ensureTlsCertificate(cacheDir);

    // THEN
    expect(await readFile(second.caFile, 'utf8')).not.toBe(pem);
  });

  it.each([
    ['a CA certificate (CA:TRUE)', { ca: true }],
    [
      'an expired certificate',
      {
        notBeforeDate: new Date(Date.now() - 20 * DAY_MS),
        notAfterDate: new Date(Date.now() - DAY_MS),
      },
    ],
    [
      'a certificate that expires within the renewal margin',
      { notAfterDate: new Date(Date.now() + DAY_MS) },
    ],
    ['a certificate not yet valid', { notBeforeDate: new Date(Date.now() + DAY_MS) }],
    ['a certificate for another host', { host: 'evil.example' }],
  ])('regenerates %s found in the folder', async (_, options) => {
    // GIVEN
    await mkdir(cacheDir, { mode: 0o700 });
    const planted = await storeCertificate(cacheDir, options);

    // WHEN
    const files = await ensureTlsCertificate(cacheDir);

    // THEN
    const pem = await readFile(files.caFile, 'utf8');
    expect(pem).not.toBe(planted);
    const certificate = new X509Certificate(pem);
    expect(certificate.ca).toBe(false);
    expect(certificate.checkHost('localhost')).toBe('localhost');
    expect(JSON.parse(await readFile(files.serverJsonPath, 'utf8')).server.cert).toBe(pem);
  });

  it('regenerates a certificate whose files group or others may read', async () => {
    // GIVEN
    const first = await ensureTlsCertificate(cacheDir);
    const pem = await readFile(first.caFile, 'utf8');
    await chmod(first.serverJsonPath, 0o644);

    // WHEN
    const second = await ensureTlsCertificate(cacheDir);

    // THEN
    expect(await readFile(second.caFile, 'utf8')).not.toBe(pem);
    expect((await modeOf(second.serverJsonPath)).toString(8)).toBe('600');
  });

  it('regenerates a certificate whose files are symbolic links', async () => {
    // GIVEN a valid certificate elsewhere, linked into the folder
    const elsewhere = join(workDir, 'elsewhere');
    await mkdir(elsewhere, { mode: 0o700 });
    const planted = await storeCertificate(elsewhere);
    await mkdir(cacheDir, { mode: 0o700 });
    await symlink(join(elsewhere, 'ca.pem'), join(cacheDir, 'ca.pem'));
    await symlink(join(elsewhere, 'server.json'), join(cacheDir, 'server.json'));

    // WHEN
    const files = await ensureTlsCertificate(cacheDir);

    // THEN the links are replaced, the linked files untouched
    expect(await readFile(files.caFile, 'utf8')).not.toBe(planted);
    expect(await readFile(join(elsewhere, 'ca.pem'), 'utf8')).toBe(planted);
  });

  it('fails on a folder that group or others may access, and leaves it alone', async () => {
    // GIVEN
    await mkdir(cacheDir);
    await chmod(cacheDir, 0o755);
    const planted = await storeCertificate(cacheDir);

    // WHEN
    const result = ensureTlsCertificate(cacheDir);

    // THEN
    await expect(result).rejects.toThrow(
      `refusing to use ${cacheDir} for the local TLS certificate: its mode is 0755`,
    );
    expect(await readFile(join(cacheDir, 'ca.pem'), 'utf8')).toBe(planted);
    expect((await modeOf(cacheDir)).toString(8)).toBe('755');
  });

  it('fails on a symbolic link to another folder', async () => {
    // GIVEN
    const target = join(workDir, 'theirs');
    await mkdir(target, { mode: 0o700 });
    await storeCertificate(target);
    await symlink(target, cacheDir);

    // WHEN
    const result = ensureTlsCertificate(cacheDir);

    // THEN
    await expect(result).rejects.toThrow(
      `refusing to use ${cacheDir} for the local TLS certificate: it is a symbolic link`,
    );
  });

  it('fails on a folder owned by another user', async () => {
    // GIVEN a folder that is not the current user's (seen as another uid)
    await mkdir(cacheDir, { mode: 0o700 });
    await storeCertificate(cacheDir);
    const owner = (await stat(cacheDir)).uid;
    jest.spyOn(process, 'getuid').mockReturnValue(owner + 1);

    // WHEN
    const result = ensureTlsCertificate(cacheDir);

    // THEN
    await expect(result).rejects.toThrow(
      `refusing to use ${cacheDir} for the local TLS certificate: it is owned by uid ${owner}, not by you (uid ${owner + 1})`,
    );
  });

  it('fails on a file in place of the folder', async () => {
    // GIVEN
    await writeFile(cacheDir, 'not a folder');

    // WHEN
    const result = ensureTlsCertificate(cacheDir);

    // THEN
    await expect(result).rejects.toThrow('it is not a directory');
  });

  it('leaves one matching pair when several starters race on an empty folder', async () => {
    // WHEN
    await Promise.all([1, 2, 3, 4].map(() => ensureTlsCertificate(cacheDir)));

    // THEN
    const pem = await readFile(join(cacheDir, 'ca.pem'), 'utf8');
    const stored = JSON.parse(await readFile(join(cacheDir, 'server.json'), 'utf8'));
    expect(stored.server.cert).toBe(pem);
    expect(await readdir(cacheDir)).toEqual(['ca.pem', 'server.json']);
  });
});

describe('defaultTlsCertificateDir', () => {
  let runtimeDir: string;

  beforeEach(async () => {
    runtimeDir = await mkdtemp(join(tmpdir(), 'shardflow-xdg-test-'));
  });

  afterEach(async () => {
    await rm(runtimeDir, { recursive: true, force: true });
  });

  it('is in XDG_RUNTIME_DIR when that is a private folder of this user', () => {
    // WHEN
    const dir = defaultTlsCertificateDir({ XDG_RUNTIME_DIR: runtimeDir });

    // THEN
    expect(dir).toBe(join(runtimeDir, 'shardflow-tls-v1'));
  });

  it('is a per-user folder of the OS temp folder otherwise', async () => {
    // GIVEN an XDG_RUNTIME_DIR others may access (e.g. inherited through su)
    await chmod(runtimeDir, 0o755);
    const perUser = join(tmpdir(), `shardflow-tls-v1-${process.getuid?.()}`);

    // WHEN
    const unset = defaultTlsCertificateDir({});
    const shared = defaultTlsCertificateDir({ XDG_RUNTIME_DIR: runtimeDir });
    const relative = defaultTlsCertificateDir({ XDG_RUNTIME_DIR: 'run/user' });

    // THEN
    expect([unset, shared, relative]).toEqual([perUser, perUser, perUser]);
    expect(perUser).not.toBe(join(tmpdir(), 'shardflow-tls-v1'));
  });
});
