import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { ACC_ATTR_PREFIX, FENCE_ATTR_PREFIX, REFUSED_ATTR_PREFIX } from './constants';
import type { AccSet } from './types';

/** A raw DynamoDB item. */
export type RawItem = Record<string, AttributeValue>;

/** String attribute value. */
export function str(value: string): AttributeValue {
  return { S: value };
}

/** Number attribute value (finite numbers only). */
export function num(value: number): AttributeValue {
  if (!Number.isFinite(value)) {
    throw new TypeError(`cannot store non-finite number ${value}`);
  }
  return { N: String(value) };
}

/** Reads a string attribute, `undefined` when absent or not a string. */
export function readString(item: RawItem, name: string): string | undefined {
  return item[name]?.S;
}

/** Reads a number attribute, `undefined` when absent or not a number. */
export function readNumber(item: RawItem, name: string): number | undefined {
  const n = item[name]?.N;
  return n === undefined ? undefined : Number(n);
}

/**
 * Encodes one accumulator: additive ones as a DynamoDB number (so `ADD` works), every other one
 * as a JSON string (compact, size-predictable, no DynamoDB number-range surprises).
 */
export function encodeAcc(
  name: string,
  value: unknown,
  additive: ReadonlySet<string>,
): AttributeValue {
  if (additive.has(name) && typeof value === 'number') {
    return num(value);
  }
  return str(JSON.stringify(value));
}

/** Decodes one accumulator written by {@link encodeAcc}. */
export function decodeAcc(value: AttributeValue): unknown {
  if (value.N !== undefined) {
    return Number(value.N);
  }
  if (value.S !== undefined) {
    return JSON.parse(value.S);
  }
  throw new TypeError(`unexpected accumulator attribute ${JSON.stringify(value)}`);
}

/** Attribute name of an aggregate's accumulator. */
export function accAttr(name: string): string {
  return `${ACC_ATTR_PREFIX}${name}`;
}

/** Attribute name of a lane's fence. */
export function fenceAttr(lane: string): string {
  return `${FENCE_ATTR_PREFIX}${lane}`;
}

/** Attribute name of a lane's remembered refusals on a session fence item. */
export function refusedAttr(lane: string): string {
  return `${REFUSED_ATTR_PREFIX}${lane}`;
}

/** Per lane, the encoded refusals a session fence item remembers (see `encodeElementIds`). */
export function readRefused(item: RawItem): Map<string, string> {
  const refused = new Map<string, string>();
  for (const [name, value] of Object.entries(item)) {
    if (name.startsWith(REFUSED_ATTR_PREFIX) && value.S !== undefined) {
      refused.set(name.slice(REFUSED_ATTR_PREFIX.length), value.S);
    }
  }
  return refused;
}

/** The accumulators stored on a slice item, `undefined` when it holds none. */
export function readAccSet(item: RawItem): AccSet | undefined {
  let acc: AccSet | undefined;
  for (const [name, value] of Object.entries(item)) {
    if (name.startsWith(ACC_ATTR_PREFIX)) {
      acc ??= {};
      acc[name.slice(ACC_ATTR_PREFIX.length)] = decodeAcc(value);
    }
  }
  return acc;
}

/** The padded fences stored on a slice item, by lane. */
export function readFences(item: RawItem): Map<string, string> {
  const fences = new Map<string, string>();
  for (const [name, value] of Object.entries(item)) {
    if (name.startsWith(FENCE_ATTR_PREFIX) && value.S !== undefined) {
      fences.set(name.slice(FENCE_ATTR_PREFIX.length), value.S);
    }
  }
  return fences;
}

function numberSize(text: string): number {
  const digits = text
    .replace(/^-/, '')
    .replace(/[eE].*$/, '')
    .replace('.', '')
    .replace(/^0+/, '');
  return Math.min(21, Math.ceil(Math.max(digits.length, 1) / 2) + 1);
}

function valueSize(value: AttributeValue): number {
  if (value.S !== undefined) return Buffer.byteLength(value.S, 'utf8');
  if (value.N !== undefined) return numberSize(value.N);
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.B !== undefined) return value.B.byteLength;
  if (value.L !== undefined) return 3 + value.L.reduce((sum, v) => sum + 1 + valueSize(v), 0);
  if (value.M !== undefined) return 3 + estimateItemSize(value.M) + Object.keys(value.M).length;
  if (value.SS !== undefined)
    return value.SS.reduce((sum, v) => sum + Buffer.byteLength(v, 'utf8'), 0);
  if (value.NS !== undefined) return value.NS.reduce((sum, v) => sum + numberSize(v), 0);
  return 0;
}

/**
 * Estimates an item's size the way DynamoDB counts it (UTF-8 attribute names + values; numbers
 * ~1 byte per 2 significant digits + 1). Slightly generous, never low for S/N/BOOL items.
 */
export function estimateItemSize(item: RawItem): number {
  let size = 0;
  for (const [name, value] of Object.entries(item)) {
    size += Buffer.byteLength(name, 'utf8') + valueSize(value);
  }
  return size;
}
