export { compareSequenceNumbers } from './compareSequenceNumbers';
export { ShardflowError } from './errors';
