import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repairKinesisState } from '#local/engines/kinesisStateFile';

describe('repairKinesisState', () => {
  let dataDir: string;
  const state = () => join(dataDir, 'kinesis-data.json');

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'shardflow-kinesis-state-'));
  });

  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('leaves a complete state file alone', async () => {
    // GIVEN
    await writeFile(state(), '{"streams":{}}');

    // WHEN
    const message = await repairKinesisState(dataDir);

    // THEN
    expect(message).toBeUndefined();
    expect(await readFile(state(), 'utf8')).toBe('{"streams":{}}');
  });

  it('does nothing without a state file', async () => {
    // WHEN
    const message = await repairKinesisState(dataDir);

    // THEN
    expect(message).toBeUndefined();
  });

  it('restores an empty state file from the snapshot', async () => {
    // GIVEN
    await writeFile(state(), '');
    await writeFile(`${state()}.bak`, '{"streams":{"s":{}}}');

    // WHEN
    const message = await repairKinesisState(dataDir);

    // THEN
    expect(message).toMatch(/restored/);
    expect(await readFile(state(), 'utf8')).toBe('{"streams":{"s":{}}}');
  });

  it('moves an empty state file aside when there is no snapshot', async () => {
    // GIVEN
    await writeFile(state(), '');

    // WHEN
    const message = await repairKinesisState(dataDir);

    // THEN
    expect(message).toMatch(/moved it to/);
    expect(
      (await readdir(dataDir)).filter((name) => name.startsWith('kinesis-data.json.broken-')),
    ).toHaveLength(1);
    expect(await readdir(dataDir)).not.toContain('kinesis-data.json');
  });
});
