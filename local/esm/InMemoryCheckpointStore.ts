import type { CheckpointStore, ShardCheckpoint } from './types';

/** Checkpoints kept in memory: lost when the process ends (a fresh run starts from StartingPosition). */
export class InMemoryCheckpointStore implements CheckpointStore {
  private readonly checkpoints = new Map<string, ShardCheckpoint>();

  public async load(mappingId: string, shardId: string): Promise<ShardCheckpoint | undefined> {
    return this.checkpoints.get(`${mappingId}/${shardId}`);
  }

  public async save(
    mappingId: string,
    shardId: string,
    checkpoint: ShardCheckpoint,
  ): Promise<void> {
    this.checkpoints.set(`${mappingId}/${shardId}`, checkpoint);
  }
}
