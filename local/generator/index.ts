export * from './constants';
export { createRandom, type Random } from './createRandom';
export { createScenario, DEGRADING_SERVICE, degradation } from './createScenario';
export { createZipf } from './createZipf';
export { generateEvents, inputStreamOf } from './generateEvents';
export { keysCoveringShards, shardOf } from './shardOf';
export type * from './types';
