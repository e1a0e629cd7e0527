import { COST_ASSUMPTIONS, PRICES } from './prices';
import { round } from './stats';

/** What one contender costs per 1,000 records, and per million in dollars. */
export interface ContenderCost {
  /** Write request units DynamoDB bills per 1,000 records. */
  readonly wruPer1k: number;
  /** Read request units DynamoDB bills per 1,000 records. */
  readonly rruPer1k: number;
  /** Naive's `wruPer1k` over this one's (`null` when this one writes nothing). */
  readonly wruVsNaive: number | null;
  /** Powertools' `wruPer1k` over this one's (`null` when this one writes nothing). */
  readonly wruVsPowertools: number | null;
  /** DynamoDB on-demand + Lambda + Kinesis on-demand, per million records ({@link PRICES}). */
  readonly usdPerMillionRecords: number;
  /** The three parts of `usdPerMillionRecords`. */
  readonly usd: { readonly dynamodb: number; readonly lambda: number; readonly kinesis: number };
  /** The Lambda model behind `usd.lambda` (see {@link COST_ASSUMPTIONS}). */
  readonly lambda: { readonly invocationsPer1k: number; readonly msPerInvocation: number };
}

/** One measured contender, as `runWrites` reports it (units and requests per 1,000 records). */
export interface MeasuredContender {
  readonly wruPer1k: number;
  readonly rruPer1k: number;
  readonly writesPer1k: number;
  readonly readsPer1k: number;
}

/** What the cost figures are computed from. */
export interface CostInputs {
  readonly workload: {
    readonly batchSize: number;
    readonly eventsPerSecond: number;
    readonly windowSeconds: number;
    /** Mean bytes of a record's data. */
    readonly recordBytes: number;
  };
  readonly shardflow: MeasuredContender;
  readonly shardflowItemByItem: MeasuredContender;
  readonly shardflowHopping: MeasuredContender;
  readonly naive: MeasuredContender;
  readonly powertools: MeasuredContender;
  /**
   * Records per CPU second measured by the core benchmark (in-process, no I/O): the page-views
   * handler with the in-memory store, and the decode floor (what a per-record handler or Lambda's
   * own tumbling-window handler does at least). Missing: CPU time is left out of Lambda duration.
   */
  readonly cpu: { readonly shardflow?: number; readonly floor?: number };
}

const GB = 1024 ** 3;

/** Dollars per million records of the Kinesis stream the contenders read: the same for all. */
function kinesisUsdPerMillion(recordBytes: number): number {
  const k = PRICES.kinesis;
  const records = 1e6;
  const ingestedGb = (records * Math.ceil(recordBytes / 1024) * 1024) / GB;
  const retrievedGb = (records * recordBytes) / GB;
  const streamHours = records / COST_ASSUMPTIONS.streamRecordsPerSecond / 3600;
  return (
    ingestedGb * k.usdPerGbIngested +
    retrievedGb * k.usdPerGbRetrieved +
    streamHours * k.usdPerStreamHour
  );
}

/**
 * One contender's cost. Lambda duration per batch is modelled: the batch's CPU time (from the core
 * benchmark, stretched to a 512 MB function's share of a vCPU) plus its DynamoDB round trips
 * (`roundTrips`) at {@link COST_ASSUMPTIONS}.dynamodbRoundTripMs each.
 */
function contenderCost(
  inputs: CostInputs,
  units: { readonly wruPer1k: number; readonly rruPer1k: number },
  lambda: {
    readonly recordsPerCpuSecond: number | undefined;
    readonly roundTripsPerBatch: number;
    readonly extraInvocationsPer1k?: number;
  },
): ContenderCost {
  const { batchSize } = inputs.workload;
  const d = PRICES.dynamodb;
  const dynamodb =
    1000 *
    ((units.wruPer1k / 1e6) * d.usdPerMillionWriteUnits +
      (units.rruPer1k / 1e6) * d.usdPerMillionReadUnits);
  const cpuMs =
    lambda.recordsPerCpuSecond === undefined
      ? 0
      : (batchSize / lambda.recordsPerCpuSecond) * 1000 * COST_ASSUMPTIONS.lambdaCpuStretch;
  const msPerInvocation = cpuMs + lambda.roundTripsPerBatch * COST_ASSUMPTIONS.dynamodbRoundTripMs;
  const batchesPerMillion = 1e6 / batchSize;
  const invocationsPerMillion = batchesPerMillion + 1000 * (lambda.extraInvocationsPer1k ?? 0);
  const gbSeconds =
    batchesPerMillion * (msPerInvocation / 1000) * (COST_ASSUMPTIONS.lambdaMemoryMb / 1024);
  const lambdaUsd =
    (invocationsPerMillion / 1e6) * PRICES.lambda.usdPerMillionRequests +
    gbSeconds * PRICES.lambda.usdPerGbSecond;
  const kinesis = kinesisUsdPerMillion(inputs.workload.recordBytes);
  const ratio = (other: number): number | null =>
    units.wruPer1k > 0 ? round(other / units.wruPer1k, 2) : null;
  return {
    wruPer1k: units.wruPer1k,
    rruPer1k: units.rruPer1k,
    wruVsNaive: ratio(inputs.naive.wruPer1k),
    wruVsPowertools: ratio(inputs.powertools.wruPer1k),
    usdPerMillionRecords: round(dynamodb + lambdaUsd + kinesis, 4),
    usd: { dynamodb: round(dynamodb, 4), lambda: round(lambdaUsd, 4), kinesis: round(kinesis, 4) },
    lambda: {
      invocationsPer1k: round(invocationsPerMillion / 1000, 3),
      msPerInvocation: round(msPerInvocation, 1),
    },
  };
}

/**
 * The `cost.*` figures: per contender, billed DynamoDB units per 1,000 records, their ratio to the
 * naive and Powertools handlers, and dollars per million records (DynamoDB on-demand + Lambda +
 * Kinesis on-demand, {@link PRICES} in {@link PRICES.region}). Besides the measured contenders,
 * Lambda's own tumbling windows for Kinesis (state passed between invocations of a shard: no
 * DynamoDB at all, but state ≤ 1 MB per shard and windows by arrival time only), which cost one
 * more invocation per window and shard.
 *
 * @example
 * const cost = costFigures({ workload, shardflow, shardflowItemByItem, shardflowHopping, naive, powertools, cpu });
 * cost.shardflow.wruVsNaive; // billed write units: naive's over shardflow's
 */
export function costFigures(inputs: CostInputs) {
  const { batchSize, eventsPerSecond, windowSeconds } = inputs.workload;
  const perBatch = (c: MeasuredContender): number =>
    ((c.writesPer1k + c.readsPer1k) * batchSize) / 1000;
  // shardflow's store sends its requests one after the other (an upper bound on its duration);
  // the per-record handlers send a batch's records at once, up to the SDK's sockets.
  const sequential = (c: MeasuredContender) => perBatch(c);
  const concurrent = (c: MeasuredContender) =>
    Math.ceil(perBatch(c) / COST_ASSUMPTIONS.sdkMaxSockets);
  const shardflow = (c: MeasuredContender) =>
    contenderCost(inputs, c, {
      recordsPerCpuSecond: inputs.cpu.shardflow,
      roundTripsPerBatch: sequential(c),
    });
  const perRecord = (c: MeasuredContender) =>
    contenderCost(inputs, c, {
      recordsPerCpuSecond: inputs.cpu.floor,
      roundTripsPerBatch: concurrent(c),
    });
  const reference = shardflow(inputs.shardflow);
  return {
    region: PRICES.region,
    prices: PRICES,
    assumptions: COST_ASSUMPTIONS,
    /** shardflow's default (grouped writes) on the reference workload: the headline. */
    wruVsNaive: reference.wruVsNaive,
    wruVsPowertools: reference.wruVsPowertools,
    shardflow: reference,
    shardflowItemByItem: shardflow(inputs.shardflowItemByItem),
    naive: perRecord(inputs.naive),
    powertools: perRecord(inputs.powertools),
    lambdaTumbling: contenderCost(
      inputs,
      { wruPer1k: 0, rruPer1k: 0 },
      {
        recordsPerCpuSecond: inputs.cpu.floor,
        roundTripsPerBatch: 0,
        // each window ends with one more invocation per shard, carrying no records
        extraInvocationsPer1k: 1000 / eventsPerSecond / windowSeconds,
      },
    ),
    /** Another workload: the same events on hopping 10 min / 1 min windows. */
    shardflowHopping: shardflow(inputs.shardflowHopping),
  };
}
