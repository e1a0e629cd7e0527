import { Token } from 'aws-cdk-lib';

/** An inclusive integer range. */
export interface Range {
  readonly min: number;
  readonly max: number;
}

/**
 * Fails unless `value` is an integer in `range`; the message names the value and the range
 * (`batchSize must be an integer in 1..10000, got 20000`). Unresolved tokens are not checked.
 */
export function validateRange(name: string, value: number, range: Range): void {
  if (Token.isUnresolved(value)) {
    return;
  }
  if (!Number.isInteger(value) || value < range.min || value > range.max) {
    throw new Error(`${name} must be an integer in ${range.min}..${range.max}, got ${value}`);
  }
}

/** `numbers-doubled` → `NumbersDoubled`: construct ids derived from logical names. */
export function pascalCase(name: string): string {
  return name
    .split(/[^a-zA-Z0-9]/)
    .filter((part) => part.length > 0)
    .map((part) => part[0]?.toUpperCase() + part.slice(1))
    .join('');
}
