/**
 * Every constant of the bench's dollar figures (`cost.*.usdPerMillionRecords`): AWS list prices in
 * one region, each with the date and source it was taken from, and the assumptions the bench adds
 * where it measures nothing. Prices were taken from the sources named, not re-checked against the
 * live AWS pricing pages from this machine: re-check them before quoting a dollar figure.
 */
export const PRICES = {
  /** US East (N. Virginia). */
  region: 'us-east-1',
  /** DynamoDB, on-demand capacity mode, Standard table class. */
  dynamodb: {
    usdPerMillionWriteUnits: 0.625,
    usdPerMillionReadUnits: 0.125,
    asOf: '2024-11-01',
    source:
      'aws.amazon.com/dynamodb/pricing/on-demand, after the 50 % on-demand throughput price cut effective 2024-11-01',
  },
  /** Lambda, arm64 (the architecture infra/pipelineFunction.ts deploys), first pricing tier. */
  lambda: {
    usdPerMillionRequests: 0.2,
    usdPerGbSecond: 0.0000133334,
    asOf: '2024-11-01',
    source: 'aws.amazon.com/lambda/pricing (arm64 duration, first 7.5 billion GB-s a month)',
  },
  /** Kinesis Data Streams, on-demand capacity mode. */
  kinesis: {
    usdPerStreamHour: 0.04,
    /** Each record's size rounded up to the next KB. */
    usdPerGbIngested: 0.08,
    /** Bytes as stored, no rounding; per consumer (each contender reads the stream once). */
    usdPerGbRetrieved: 0.04,
    asOf: '2023-09-21',
    source:
      'aws.amazon.com/kinesis/data-streams/pricing, on-demand mode, as quoted by Trek10, "Amazon Kinesis Data Streams On-demand vs. Provisioned Billing Mode Cost Comparison" (2023-09-21)',
  },
} as const;

/**
 * What the dollar figure assumes where the bench measures nothing. Lambda's share is small next to
 * DynamoDB's on the reference workload (see docs/benchmarks.md), so these move the total little.
 */
export const COST_ASSUMPTIONS = {
  /** Memory of a pipeline function (FUNCTION_DEFAULTS.memorySize in infra). */
  lambdaMemoryMb: 512,
  /**
   * A 512 MB function gets 512/1769 of a vCPU (Lambda gives a full vCPU at 1,769 MB): CPU time
   * measured here on a full core is stretched by this factor.
   */
  lambdaCpuStretch: 1769 / 512,
  /** Round trip of one DynamoDB request from Lambda in the same region (ms). */
  dynamodbRoundTripMs: 10,
  /** Sockets of the SDK's default HTTP agent in Lambda: requests sent at once by per-record handlers. */
  sdkMaxSockets: 50,
  /**
   * The stream's rate (records/s) over which its hourly charge is spread: the reference workload's
   * event rate.
   */
  streamRecordsPerSecond: 200,
} as const;
