export { ChaosInvoker } from './ChaosInvoker';
export { ChaosProxy, type ChaosProxyKind, type ChaosProxyOptions } from './ChaosProxy';
export * from './constants';
export { seededRandom } from './seededRandom';
export { type ChaosProxies, startChaosProxies } from './startChaosProxies';
export type * from './types';
