import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureTlsCertificate } from '#local/engines/tlsCertificate';

describe('ensureTlsCertificate', () => {
  let cacheDir: string;

  beforeEach(async () => {
    cacheDir = await mkdtemp(join(tmpdir(), 'shardflow-tls-test-'));
  });

  afterEach(async () => {
    await rm(cacheDir, { recursive: true, force: true });
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
});
