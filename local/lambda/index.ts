export * from './constants';
export * from './errors';
export { FunctionHost } from './FunctionHost';
export type * from './types';
