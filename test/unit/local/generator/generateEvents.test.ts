import { createZipf } from '#local/generator/createZipf';
import {
  createRandom,
  DEGRADING_SERVICE,
  type GeneratedRecord,
  generateEvents,
  keysCoveringShards,
  shardOf,
} from '#local/generator/index';
import { Request } from '#pipelines/error-rate';
import { PageView } from '#pipelines/page-views';
import { ProductView } from '#pipelines/trending';

const START = Date.UTC(2026, 0, 5, 10);
const run = (pipeline: 'page-views' | 'sessions' | 'error-rate' | 'trending', seed = 1) => [
  ...generateEvents({
    pipeline,
    start: START,
    rate: 2,
    durationMs: 30 * 60_000,
    seed,
    lateFraction: 0.05,
    invalidFraction: 0.05,
    lateByMs: 5 * 60_000,
  }),
];
const tsOf = (r: GeneratedRecord) =>
  typeof r.event?.ts === 'number' ? r.event.ts : Date.parse(String(r.event?.ts));

describe('generateEvents', () => {
  it('is deterministic with a seed and differs between seeds', () => {
    // THEN
    expect(run('trending', 4)).toEqual(run('trending', 4));
    expect(run('trending', 4)).not.toEqual(run('trending', 5));
  });

  it.each([
    ['page-views', PageView],
    ['error-rate', Request],
    ['trending', ProductView],
  ] as const)(
    'generates %s events that match the pipeline schema, invalid ones that do not',
    (pipeline, schema) => {
      // WHEN
      const records = run(pipeline);
      // THEN
      for (const record of records) {
        if (record.kind === 'invalid' && record.expectedReason === 'NOT_JSON') {
          expect(() => JSON.parse(record.data)).toThrow();
        } else {
          expect(schema.safeParse(JSON.parse(record.data)).success).toBe(record.kind !== 'invalid');
        }
      }
      const share = (kind: string) =>
        records.filter((r) => r.kind === kind).length / records.length;
      expect(share('invalid')).toBeGreaterThan(0.03);
      expect(share('late')).toBeGreaterThan(0.02);
    },
  );

  it('keeps valid events in time order and makes late ones at least lateBy behind the clock', () => {
    // WHEN
    const records = run('page-views');
    // THEN
    const valid = records.filter((r) => r.kind === 'valid').map(tsOf);
    expect(valid).toEqual([...valid].sort((a, b) => a - b));
    for (const r of records.filter((x) => x.kind === 'late')) {
      expect(r.sentAt - tsOf(r)).toBeGreaterThanOrEqual(5 * 60_000);
    }
  });

  it('late session events come from users silent for lateBy', () => {
    // WHEN
    const records = run('sessions');
    // THEN
    const lastSeen = new Map<string, number>();
    for (const r of records) {
      const user = String(r.event?.userId);
      if (r.kind === 'late') {
        expect(r.sentAt - (lastSeen.get(user) ?? 0)).toBeGreaterThanOrEqual(5 * 60_000);
      } else if (r.kind === 'valid') lastSeen.set(user, r.sentAt);
    }
  });

  it('degrades one service mid-run: its error rate rises', () => {
    // WHEN
    const records = run('error-rate').filter(
      (r) => r.kind === 'valid' && r.event?.service === DEGRADING_SERVICE,
    );
    const rate = (from: number, to: number) => {
      const part = records.filter((r) => r.sentAt >= START + from && r.sentAt < START + to);
      return part.filter((r) => (r.event?.status as number) >= 500).length / part.length;
    };
    // THEN
    expect(rate(0, 9 * 60_000)).toBeLessThan(0.05);
    expect(rate(17 * 60_000, 24 * 60_000)).toBeGreaterThan(0.15);
  });

  it('fails for an unknown pipeline or fractions out of range', () => {
    // THEN
    expect(() => [...generateEvents({ pipeline: 'nope' as 'trending', start: 0 })]).toThrow(
      /no generator/,
    );
    expect(() => [
      ...generateEvents({
        pipeline: 'trending',
        start: 0,
        lateFraction: 0.7,
        invalidFraction: 0.5,
      }),
    ]).toThrow(RangeError);
  });
});

describe('createZipf and keysCoveringShards', () => {
  it('samples rank 0 most often, about 1/H(n) of the time', () => {
    // GIVEN
    const sample = createZipf(10, 1);
    const random = createRandom(3);
    // WHEN
    const counts = new Array(10).fill(0);
    for (let i = 0; i < 20_000; i++) counts[sample(random)] += 1;
    // THEN H(10) ≈ 2.929
    expect(counts[0] / 20_000).toBeCloseTo(1 / 2.929, 1);
    expect(counts[0]).toBeGreaterThan(counts[9] * 5);
  });

  it('finds one key per shard', () => {
    // WHEN
    const keys = keysCoveringShards('k', 4);
    // THEN
    expect(keys.map((k) => shardOf(k, 4))).toEqual([0, 1, 2, 3]);
  });
});
