import { runBench, TARGETS } from '#bench/harness';

/** The contenders the write-cost benchmark bills from item sizes. */
const BILLED = [
  'shardflow',
  'shardflowItemByItem',
  'shardflowHopping',
  'naive',
  'powertools',
] as const;
/** The contenders of `cost.*`. */
const COSTED = [...BILLED, 'lambdaTumbling'] as const;

// biome-ignore lint/suspicious/noExplicitAny: the figures are read back by path
type Figures = Record<string, any>;

describe('bench harness (tiny profile)', () => {
  let results: Figures;

  beforeAll(async () => {
    results = await runBench('tiny');
  }, 420_000);

  it('produces every figure of the tiny profile', () => {
    // THEN no section failed and the required keys are numbers
    for (const section of ['core', 'writes', 'overlap', 'cost']) {
      expect(results[section]).toBeDefined();
      expect(results[section].error).toBeUndefined();
    }
    for (const key of [
      'core.floorRecordsPerSec',
      'core.pipelineRecordsPerSec',
      'core.ratioToFloor',
      'writes.shardflowPer1k',
      'writes.naivePer1k',
      'writes.powertoolsPer1k',
      'writes.vsNaive',
      'writes.vsPowertools',
      'overlap.hoppingWrites',
      'overlap.tumblingWrites',
      'overlap.ratio',
      'cost.wruVsNaive',
      'cost.wruVsPowertools',
      ...COSTED.flatMap((c) => [
        `cost.${c}.wruPer1k`,
        `cost.${c}.rruPer1k`,
        `cost.${c}.usdPerMillionRecords`,
      ]),
      ...BILLED.flatMap((c) => [`cost.${c}.wruVsNaive`, `cost.${c}.wruVsPowertools`]),
    ]) {
      const value = key.split('.').reduce((v: Figures | undefined, k) => v?.[k], results);
      expect({ key, type: typeof value }).toEqual({ key, type: 'number' });
    }
  });

  it('counts the per-record contenders at their known cost per record', () => {
    // THEN naive writes once per page view; Powertools adds its two idempotency writes per record
    const { naive, powertools } = results.writes;
    expect(naive.byCommand.UpdateItemCommand).toBe(naive.writeRequests);
    expect(powertools.byCommand.PutItemCommand).toBe(powertools.records);
    expect(powertools.writeRequests).toBe(2 * powertools.records + naive.writeRequests);
  });

  it('counts exactly the writes the in-memory model predicts for the items layout (grouped)', () => {
    // THEN the modelled figures (core, scaling) stand for what DynamoDB Local was sent
    const grouped = results.writes.shardflowItemsGrouped;
    expect(grouped.modelWritesPer1k).toBe(grouped.writesPer1k);
  });

  it("meets issue 14's billed-unit targets, and no other workload bills more than the items layout", () => {
    // THEN (counts of seeded workloads: they do not depend on the machine)
    expect(results.cost.wruVsNaive).toBeGreaterThanOrEqual(TARGETS.wruVsNaive);
    expect(results.cost.wruVsPowertools).toBeGreaterThanOrEqual(TARGETS.wruVsPowertools);
    expect(results.cost.shardflowHopping.wruPer1k).toBeLessThanOrEqual(
      results.cost.shardflowItemByItem.wruPer1k,
    );
    for (const name of ['trending', 'highCardinality', 'smallBatches']) {
      expect({ name, ratio: results.writes.workloads[name].ratio }).toEqual({
        name,
        ratio: expect.any(Number),
      });
      expect(results.writes.workloads[name].ratio).toBeLessThanOrEqual(1);
    }
  });

  it('keeps hopping 10 min / 1 min within the overlap target of tumbling 1 min writes', () => {
    expect(results.overlap.ratio).toBeLessThanOrEqual(TARGETS.overlapRatio);
  });

  it('agrees, request by request, with the capacity DynamoDB Local reports', () => {
    // THEN every request of every billed contender was modelled and checked, and DynamoDB Local's
    // reported capacity is what the model predicts it reports (its known deviations included)
    for (const name of BILLED) {
      const { check, writeRequests, readRequests } = results.writes[name];
      expect({ name, ...check, samples: check.samples.length }).toEqual({
        name,
        ...check,
        checkedRequests: writeRequests + readRequests,
        mismatches: 0,
        unmodelledRequests: 0,
        localModelledWcu: check.localReportedWcu,
        localModelledRcu: check.localReportedRcu,
        samples: 0,
      });
    }
  });

  it('bills at least what DynamoDB Local reports, at least one unit per item write', () => {
    // THEN the billed figure is never below the reported one (Local under-reports transactions)
    // and each write request costs at least a unit
    for (const name of BILLED) {
      const c = results.writes[name];
      expect(c.wruPer1k).toBeGreaterThanOrEqual(c.localReportedWcuPer1k);
      expect(c.wruPer1k).toBeGreaterThanOrEqual(c.writesPer1k);
    }
    expect(results.cost.lambdaTumbling).toMatchObject({
      wruPer1k: 0,
      rruPer1k: 0,
      wruVsNaive: null,
    });
  });

  it('writes the items layout item by item with one request per touched item and fewer units than grouped', () => {
    // THEN without grouping, every (key, slice) write is its own request: more requests, and fewer
    // billed units (a transaction bills each item write twice)
    const { shardflowItemsGrouped: grouped, shardflowItemByItem: single } = results.writes;
    expect(single.writesPer1k).toBeGreaterThan(grouped.writesPer1k);
    expect(single.byCommand.TransactWriteItemsCommand ?? 0).toBe(0);
    expect(grouped.byCommand.TransactWriteItemsCommand).toBeGreaterThan(0);
    expect(single.wruPer1k).toBeLessThan(grouped.wruPer1k);
  });

  it('writes lane packs with one transaction per batch and lane, and no per-item updates', () => {
    // THEN the default store puts packs: TransactWriteItems carry the batches; the UpdateItems
    // left are watermarks and closing (a few per slice, not per key)
    const { shardflow, shardflowItemByItem: single } = results.writes;
    expect(shardflow.byCommand.TransactWriteItemsCommand).toBeGreaterThan(0);
    expect(shardflow.writesPer1k).toBeLessThan(single.writesPer1k / 10);
    expect(shardflow.wruPer1k).toBeLessThan(single.wruPer1k);
  });
});
