import { AggregateValueError } from '../errors';

/** Returns `value` when it is a finite number; throws {@link AggregateValueError} otherwise. */
export const requireFinite = (aggregate: string, value: unknown): number => {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  throw new AggregateValueError(aggregate, value, 'a finite number');
};
