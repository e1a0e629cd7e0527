import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CHECKPOINT_FILE } from './constants';
import type { CheckpointStore, ShardCheckpoint } from './types';

/**
 * Checkpoints kept in one JSON file (`<stateDir>/checkpoints.json`), so a restarted runtime
 * resumes each shard where it stopped. Every save rewrites the file atomically (a temporary file
 * renamed over it), so a crash leaves the previous or the new version, never a torn one.
 *
 * @example
 * ```ts
 * const runtime = await startLocalRuntime({ cdkOut, engines, checkpoints: new FileCheckpointStore('.shardflow/state') });
 * ```
 */
export class FileCheckpointStore implements CheckpointStore {
  /** Path of the checkpoint file. */
  public readonly file: string;
  private readonly checkpoints: Record<string, ShardCheckpoint>;

  /** @param stateDir directory of the checkpoint file (created if missing) */
  public constructor(stateDir: string) {
    this.file = join(stateDir, CHECKPOINT_FILE);
    let loaded: Record<string, ShardCheckpoint> = {};
    try {
      loaded = JSON.parse(readFileSync(this.file, 'utf8')) as Record<string, ShardCheckpoint>;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    this.checkpoints = loaded;
  }

  public async load(mappingId: string, shardId: string): Promise<ShardCheckpoint | undefined> {
    return this.checkpoints[`${mappingId}/${shardId}`];
  }

  public async save(
    mappingId: string,
    shardId: string,
    checkpoint: ShardCheckpoint,
  ): Promise<void> {
    this.checkpoints[`${mappingId}/${shardId}`] = checkpoint;
    mkdirSync(dirname(this.file), { recursive: true });
    const temporary = `${this.file}.${process.pid}.tmp`;
    writeFileSync(temporary, `${JSON.stringify(this.checkpoints, null, 2)}\n`);
    renameSync(temporary, this.file);
  }
}
