export { type AvgAcc, avg } from './aggregates/avg';
export { count } from './aggregates/count';
export { DDSketch, type SketchAcc, type SketchBuckets } from './aggregates/DDSketch';
export {
  type DistinctAcc,
  type DistinctOptions,
  type DistinctWork,
  distinct,
} from './aggregates/distinct';
export { HyperLogLog } from './aggregates/HyperLogLog';
export { hash53 } from './aggregates/hash53';
export { max } from './aggregates/max';
export { min } from './aggregates/min';
export { type PercentilesOptions, percentiles, quantileName } from './aggregates/percentiles';
export { type SpanAcc, span } from './aggregates/span';
export { sum } from './aggregates/sum';
export {
  type TopKAcc,
  type TopKEntry,
  type TopKOptions,
  type TopKWork,
  topK,
} from './aggregates/topK';
export { compiledSchema } from './compiledSchema';
export * from './constants';
export { type DecodedData, decodeData, decodeRecord, recordMeta, shardIdOf } from './decodeRecord';
export * from './errors';
export { foldAccumulators } from './foldAccumulators';
export { type AggregatesOf, emptyAccumulators, mergeAccumulators } from './mergeAccumulators';
export { parseDuration } from './parseDuration';
export * from './pipeline';
export { foldSessions, laneFunction, partialKey, preAggregate } from './preAggregate';
export { rebuildPartial } from './rebuildPartial';
export { sideOutputId, sideOutputRecords } from './sideOutputRecords';
export { toEventTime } from './toEventTime';
export type * from './types';
export { resultId, type WindowResultOptions, windowResult } from './windowResult';
export { hopping } from './windows/hopping';
export { mergeSessions } from './windows/mergeSessions';
export { SlicedAssigner } from './windows/SlicedAssigner';
export { session } from './windows/session';
export { tumbling } from './windows/tumbling';
