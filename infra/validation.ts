import { Token } from 'aws-cdk-lib';
import { NAME_PATTERN } from '#runtime/constants';

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

/**
 * Fails unless `name` is a pipeline name `pipeline()` accepts: 1..64 characters of `[a-z0-9-]` starting
 * with a letter or digit. Infra checks it again because a definition's config is plain JSON anyone can
 * write, and the name becomes the IAM pattern `<name>#*` of its state partitions, where `*` and `?` would
 * be wildcards and `#` would let one pipeline's pattern match another's keys. Unresolved tokens are not
 * checked.
 */
export function validatePipelineName(name: string): void {
  if (Token.isUnresolved(name)) {
    return;
  }
  if (!NAME_PATTERN.test(name)) {
    throw new Error(
      `pipeline name must be 1..64 characters of [a-z0-9-] starting with a letter or digit, got ${JSON.stringify(name)}: ` +
        'it becomes the dynamodb:LeadingKeys pattern "<name>#*" of its state partitions',
    );
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
