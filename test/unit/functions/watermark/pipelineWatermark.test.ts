import {
  isSilent,
  pipelineWatermark,
  type ShardClock,
  type WatermarkInput,
} from '#watermark/index';

const NOW = 1_000_000;
const shard = (shardId: string, eventTime: number | undefined, processedAt = NOW): ShardClock => ({
  shardId,
  eventTime,
  processedAt,
  retired: false,
});
const input = (overrides: Partial<WatermarkInput>): WatermarkInput => ({
  shards: [],
  behind: new Set(),
  pending: 0,
  committed: undefined,
  now: NOW,
  maxOutOfOrderness: 1_000,
  idleTimeout: 60_000,
  ...overrides,
});

describe('isSilent', () => {
  it('is true only strictly after the idle timeout', () => {
    expect(isSilent({ processedAt: NOW - 60_000 }, NOW, 60_000)).toBe(false);
    expect(isSilent({ processedAt: NOW - 60_001 }, NOW, 60_000)).toBe(true);
    expect(isSilent({ processedAt: NOW }, NOW, 0)).toBe(false);
  });
});

describe('pipelineWatermark', () => {
  it('is the min over active shards minus the out-of-orderness', () => {
    // GIVEN two active shards
    const out = pipelineWatermark(
      input({ shards: [shard('a', 100_000), shard('b', 50_000), shard('c', 70_000)] }),
    );
    // THEN
    expect(out).toEqual({ watermark: 49_000, mode: 'event-time', idle: new Set() });
  });

  it('leaves out silent shards that are caught up, keeps silent ones still behind', () => {
    const shards = [shard('a', 100_000), shard('b', 10_000, NOW - 60_001)];
    expect(pipelineWatermark(input({ shards }))).toEqual({
      watermark: 99_000,
      mode: 'event-time',
      idle: new Set(['b']),
    });
    expect(pipelineWatermark(input({ shards, behind: new Set(['b']) }))).toEqual({
      watermark: 9_000,
      mode: 'event-time',
      idle: new Set(),
    });
    // a shard silent exactly the idle timeout is not idle yet
    expect(
      pipelineWatermark(input({ shards: [shard('a', 100_000), shard('b', 10_000, NOW - 60_000)] }))
        .watermark,
    ).toBe(9_000);
  });

  it('with every shard idle, runs the furthest clock on with processing time', () => {
    // GIVEN a: clock 100 s, last batch 70 s ago; b: clock 150 s, last batch 100 s ago
    const shards = [shard('a', 100_000, NOW - 70_000), shard('b', 150_000, NOW - 100_000)];
    // THEN max(100 + 70, 150 + 100) − 1
    expect(pipelineWatermark(input({ shards }))).toEqual({
      watermark: 249_000,
      mode: 'processing-time',
      idle: new Set(['a', 'b']),
    });
  });

  it('ignores retired shards, and shards without an event clock, for holding and for moving it', () => {
    const retired = { ...shard('r', 1_000), retired: true };
    const filtered = shard('f', undefined);
    expect(
      pipelineWatermark(input({ shards: [retired, filtered, shard('a', 100_000)] })),
    ).toMatchObject({ watermark: 99_000, mode: 'event-time' });
    // only shards without a clock (or retired): nothing moves it
    expect(pipelineWatermark(input({ shards: [retired, filtered] }))).toEqual({
      watermark: undefined,
      mode: 'none',
      idle: new Set(),
    });
    expect(pipelineWatermark(input({ shards: [filtered], committed: 5 }))).toMatchObject({
      watermark: 5,
      mode: 'committed',
    });
    // an idle retired shard does not count idle either
    expect(pipelineWatermark(input({ shards: [{ ...retired, processedAt: 0 }] })).idle).toEqual(
      new Set(),
    );
  });

  it('holds at the committed watermark while a shard without a clock is behind (its backlog may hide event times)', () => {
    const shards = [shard('a', 100_000), shard('f', undefined, NOW - 120_000)];
    expect(pipelineWatermark(input({ shards, behind: new Set(['f']), committed: 40_000 }))).toEqual(
      { watermark: 40_000, mode: 'committed', idle: new Set() },
    );
    // caught up, it holds nothing
    expect(pipelineWatermark(input({ shards, committed: 40_000 })).watermark).toBe(99_000);
  });

  it('holds at the committed watermark while an unreported shard still has its first batch coming', () => {
    const shards = [shard('a', 100_000)];
    expect(pipelineWatermark(input({ shards, pending: 1 }))).toEqual({
      watermark: undefined,
      mode: 'none',
      idle: new Set(),
    });
    expect(pipelineWatermark(input({ shards, pending: 1, committed: 40_000 }))).toEqual({
      watermark: 40_000,
      mode: 'committed',
      idle: new Set(),
    });
  });

  it('never goes below the committed watermark, in any mode', () => {
    expect(
      pipelineWatermark(input({ shards: [shard('a', 10_000)], committed: 20_000 })),
    ).toMatchObject({ watermark: 20_000, mode: 'event-time' });
    expect(
      pipelineWatermark(input({ shards: [shard('a', 10_000, 0)], committed: 2_000_000 })),
    ).toMatchObject({ watermark: 2_000_000, mode: 'processing-time' });
    // equal is kept as is, above it wins
    expect(
      pipelineWatermark(input({ shards: [shard('a', 21_000)], committed: 20_000 })).watermark,
    ).toBe(20_000);
    expect(
      pipelineWatermark(input({ shards: [shard('a', 22_000)], committed: 20_000 })).watermark,
    ).toBe(21_000);
  });

  it('uses no shard that has not reported when there is none: nothing known, nothing committed', () => {
    expect(pipelineWatermark(input({}))).toEqual({
      watermark: undefined,
      mode: 'none',
      idle: new Set(),
    });
  });
});
