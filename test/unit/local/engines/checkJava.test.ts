import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkJava, javaMajorVersion } from '#local/engines/checkJava';
import { JavaMissingError, JavaTooOldError } from '#local/engines/errors';

describe('checkJava', () => {
  let binDir: string;

  beforeEach(async () => {
    binDir = await mkdtemp(join(tmpdir(), 'shardflow-fake-java-'));
  });

  afterEach(async () => {
    await rm(binDir, { recursive: true, force: true });
  });

  /** A `java` that prints `java -version` output like the real one (on stderr). */
  async function fakeJava(versionLine: string, exitCode = 0): Promise<NodeJS.ProcessEnv> {
    const script = join(binDir, 'java');
    await writeFile(script, `#!/bin/sh\necho '${versionLine}' >&2\nexit ${exitCode}\n`);
    await chmod(script, 0o755);
    return { PATH: binDir };
  }

  it('accepts Java 17', async () => {
    // GIVEN
    const env = await fakeJava('openjdk version "17.0.15" 2025-04-15');

    // WHEN
    const checking = checkJava(env);

    // THEN
    await expect(checking).resolves.toBeUndefined();
  });

  it('fails with JavaMissingError when java is not on PATH', async () => {
    // GIVEN
    const env = { PATH: binDir };

    // WHEN
    const checking = checkJava(env);

    // THEN
    await expect(checking).rejects.toThrow(JavaMissingError);
    await expect(checking).rejects.toThrow(
      'DynamoDB Local needs Java 17 or newer: install it (e.g. `apt-get install openjdk-17-jre-headless` or https://adoptium.net) and make sure `java` is on PATH.',
    );
  });

  it('fails with JavaMissingError when java -version fails', async () => {
    // GIVEN
    const env = await fakeJava('Error: could not find libjava.so', 1);

    // WHEN
    const checking = checkJava(env);

    // THEN
    await expect(checking).rejects.toThrow(JavaMissingError);
  });

  it('fails with JavaTooOldError naming the version when java is 11', async () => {
    // GIVEN
    const env = await fakeJava('openjdk version "11.0.22" 2024-01-16');

    // WHEN
    const checking = checkJava(env);

    // THEN
    await expect(checking).rejects.toThrow(JavaTooOldError);
    await expect(checking).rejects.toThrow(/Java 17 or newer, but `java` on PATH is 11\.0\.22/);
  });

  it.each([
    ['1.8.0_392', 8],
    ['11.0.22', 11],
    ['17.0.15', 17],
    ['21', 21],
    ['22-ea', 22],
  ])('reads the major version of %s as %d', (version, major) => {
    // WHEN
    const parsed = javaMajorVersion(version);

    // THEN
    expect(parsed).toBe(major);
  });
});
