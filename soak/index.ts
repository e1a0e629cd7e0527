export * from './constants';
export { judgedSpan, judgeLag, judgeMemory, judgeSeries, median, slopePerMinute } from './judge';
export { renderReport } from './renderReport';
export { runSoak } from './runSoak';
export type * from './types';
