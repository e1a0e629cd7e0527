export * from './constants';
export { FailureCapture } from './FailureCapture';
export { readFailures } from './readFailures';
export { type FailureSource, toFailureRecord } from './toFailureRecord';
export type * from './types';
