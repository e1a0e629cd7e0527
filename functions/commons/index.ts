export { compareSequenceNumbers } from './compareSequenceNumbers';
export { ShardflowError } from './errors';
export { METRIC, METRICS_NAMESPACE } from './metrics';
