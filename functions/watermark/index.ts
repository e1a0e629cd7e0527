export {
  ARRIVAL_TOLERANCE_MS,
  DEFAULT_RETENTION_MS,
  PROBE_FRESHNESS_MS,
  SESSION_COMMIT_GRANULARITY_MS,
  WATERMARK_MODE,
} from './constants';
export { commitTarget, isExpired, isWindowLate, watermarkTime } from './lateness';
export { isSilent, pipelineWatermark } from './pipelineWatermark';
export type { ShardClock, WatermarkInput, WatermarkOutcome } from './types';
