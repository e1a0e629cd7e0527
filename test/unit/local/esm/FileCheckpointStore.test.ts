import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileCheckpointStore } from '#local/esm/FileCheckpointStore';

describe('FileCheckpointStore', () => {
  it('keeps checkpoints across instances (a restarted runtime resumes)', async () => {
    // GIVEN
    const dir = join(mkdtempSync(join(tmpdir(), 'shardflow-cp-')), 'state');
    const first = new FileCheckpointStore(dir);

    // WHEN
    await first.save('m-1', 'shardId-000000000000', { sequenceNumber: '123', ended: false });
    await first.save('m-1', 'shardId-000000000001', { ended: true });
    const second = new FileCheckpointStore(dir);

    // THEN
    expect(await second.load('m-1', 'shardId-000000000000')).toEqual({
      sequenceNumber: '123',
      ended: false,
    });
    expect(await second.load('m-1', 'shardId-000000000001')).toEqual({ ended: true });
    expect(await second.load('m-2', 'shardId-000000000000')).toBeUndefined();
    expect(readdirSync(dir)).toEqual(['checkpoints.json']);
  });
});
