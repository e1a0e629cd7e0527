import type { AttributeValue, CreateTableCommandInput } from '@aws-sdk/client-dynamodb';

/**
 * DynamoDB's on-demand billing rules, as pure functions: the size of an item, and the capacity
 * units one request consumes given the items it read, or each item it wrote as it was before and
 * after. Sources: the DynamoDB Developer Guide, "DynamoDB item sizes and formats"
 * (CapacityUnitCalculations), "Capacity unit consumption for reads / writes"
 * (read-write-operations), "Global secondary indexes: provisioned throughput considerations",
 * "Capacity management for transactions". Where the guide says "approximately" (numbers), the
 * exact rule was measured on DynamoDB Local 3.3 and agrees with the guide's approximation.
 *
 * Two views of every request:
 * - {@link billedUnits}: what DynamoDB bills, by the guide;
 * - {@link dynamodbLocalUnits}: what DynamoDB Local 3.3 reports in `ConsumedCapacity` for the same
 *   request — the same rules except for four measured deviations, listed there. The bench checks
 *   every request's reported capacity against this view, so the item sizes behind the billed figure
 *   are checked by an independent implementation.
 */

/** A DynamoDB item (or key) as the low-level API carries it. */
export type Item = Readonly<Record<string, AttributeValue>>;

/** Bytes per write unit: each item write is billed per started KB. */
export const WRITE_UNIT_BYTES = 1024;
/** Bytes per read unit: reads are billed per started 4 KB. */
export const READ_UNIT_BYTES = 4096;
/** Transactional item writes (and reads) bill twice: a prepare and a commit. */
export const TRANSACTION_FACTOR = 2;
/**
 * Index writes made by a transactional item write, counted twice. DynamoDB Local reports them so;
 * the guide says only that a transaction writes each *item* twice and that indexes are updated
 * after it completes. Unverified on AWS: the larger of the two readings is taken.
 */
export const TRANSACTIONAL_INDEX_FACTOR = 2;
/** An eventually consistent read costs half a strongly consistent one. */
export const EVENTUAL_READ_FACTOR = 0.5;

const utf8 = (text: string): number => Buffer.byteLength(text, 'utf8');

/**
 * Bytes of a number in DynamoDB's encoding: zero is 1 byte; otherwise 1 byte plus one per pair of
 * decimal digits, pairs aligned on the decimal point, leading and trailing zero pairs dropped, plus
 * 1 byte if negative. The guide's "(1 byte per two significant digits) + 1" is this, approximately;
 * measured on DynamoDB Local: `1` 2, `100` 2, `123` 3, `1.5` 3, `0.001` 2, `1764236700000` 6,
 * `-1` 3.
 */
export function numberSize(text: string): number {
  let s = text.trim();
  let negative = false;
  if (s.startsWith('-')) {
    negative = true;
    s = s.slice(1);
  } else if (s.startsWith('+')) s = s.slice(1);
  let exponent = 0;
  const e = s.search(/[eE]/);
  if (e >= 0) {
    exponent = Number(s.slice(e + 1));
    s = s.slice(0, e);
  }
  const dot = s.indexOf('.');
  const whole = dot >= 0 ? s.slice(0, dot) : s;
  let digits = whole + (dot >= 0 ? s.slice(dot + 1) : '');
  // The decimal point sits after `point` digits of `digits` (negative: before them).
  let point = whole.length + exponent;
  const leading = digits.length - digits.replace(/^0+/, '').length;
  digits = digits.slice(leading).replace(/0+$/, '');
  point -= leading;
  if (digits === '') return 1;
  if (((point % 2) + 2) % 2 === 1) {
    digits = `0${digits}`;
    point += 1;
  }
  if (digits.length % 2 === 1) digits += '0';
  return 1 + digits.length / 2 + (negative ? 1 : 0);
}

/**
 * Bytes of one attribute value (without its name), by the guide's rules: strings their UTF-8
 * bytes, binaries their raw bytes, numbers {@link numberSize}, null and booleans 1 byte, sets the
 * sum of their elements, lists and maps 3 bytes plus, per element, its size (a map entry: its
 * name's UTF-8 bytes too) plus 1 byte.
 */
export function attributeSize(value: AttributeValue): number {
  if (value.S !== undefined) return utf8(value.S);
  if (value.N !== undefined) return numberSize(value.N);
  if (value.B !== undefined) return value.B.byteLength;
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.SS !== undefined) return value.SS.reduce((n, s) => n + utf8(s), 0);
  if (value.NS !== undefined) return value.NS.reduce((n, s) => n + numberSize(s), 0);
  if (value.BS !== undefined) return value.BS.reduce((n, b) => n + b.byteLength, 0);
  if (value.L !== undefined) return value.L.reduce((n, v) => n + attributeSize(v) + 1, 3);
  if (value.M !== undefined) {
    return Object.entries(value.M).reduce((n, [k, v]) => n + utf8(k) + attributeSize(v) + 1, 3);
  }
  throw new Error(`attributeSize: unknown attribute value type ${Object.keys(value).join(', ')}`);
}

/**
 * Bytes of an item: the sum over its attributes of the name's UTF-8 bytes and the value's size
 * ({@link attributeSize}). An absent item is 0 bytes.
 *
 * @example
 * itemSize({ pk: { S: 'a' }, n: { N: '12' } }); // 2 + 1 + 1 + 2 = 6
 */
export function itemSize(item: Item | undefined): number {
  if (item === undefined) return 0;
  let size = 0;
  for (const [name, value] of Object.entries(item)) size += utf8(name) + attributeSize(value);
  return size;
}

/** A global secondary index, enough to build its entry for an item. */
export interface IndexSchema {
  readonly name: string;
  readonly partitionKey: string;
  readonly sortKey?: string;
  readonly projection: 'ALL' | 'KEYS_ONLY' | 'INCLUDE';
  /** With `INCLUDE`: the projected non-key attributes. */
  readonly nonKeyAttributes?: readonly string[];
}

/** A table's key and global secondary indexes. */
export interface TableSchema {
  readonly name: string;
  readonly partitionKey: string;
  readonly sortKey?: string;
  readonly indexes: readonly IndexSchema[];
}

/** The {@link TableSchema} of a table as its `CreateTable` input defines it. */
export function tableSchema(input: CreateTableCommandInput): TableSchema {
  const keyOf = (schema: readonly { AttributeName?: string; KeyType?: string }[] | undefined) => ({
    partitionKey: schema?.find((k) => k.KeyType === 'HASH')?.AttributeName ?? '',
    sortKey: schema?.find((k) => k.KeyType === 'RANGE')?.AttributeName,
  });
  const key = keyOf(input.KeySchema);
  if (input.TableName === undefined || key.partitionKey === '') {
    throw new Error('tableSchema: the input has no table name or partition key');
  }
  return {
    name: input.TableName,
    ...key,
    indexes: (input.GlobalSecondaryIndexes ?? []).map((index) => ({
      name: index.IndexName ?? '',
      ...keyOf(index.KeySchema),
      projection: index.Projection?.ProjectionType ?? 'ALL',
      nonKeyAttributes: index.Projection?.NonKeyAttributes,
    })),
  };
}

/** The key attributes of `item` under the table's key schema. */
export function keyOf(table: TableSchema, item: Item): Item {
  const key: Record<string, AttributeValue> = {};
  for (const name of [table.partitionKey, table.sortKey]) {
    const value = name === undefined ? undefined : item[name];
    if (name !== undefined && value !== undefined) key[name] = value;
  }
  return key;
}

/**
 * The entry `item` has in `index`, or `undefined` when it has none (an index key attribute is
 * absent): the table's key, the index's key, and the projected attributes. Its size is what an
 * index write is billed on (the guide's 100 bytes of per-entry overhead are storage only).
 */
export function indexEntry(
  item: Item | undefined,
  table: TableSchema,
  index: IndexSchema,
): Item | undefined {
  if (item === undefined) return undefined;
  if (item[index.partitionKey] === undefined) return undefined;
  if (index.sortKey !== undefined && item[index.sortKey] === undefined) return undefined;
  if (index.projection === 'ALL') return item;
  const names = new Set([table.partitionKey, index.partitionKey]);
  for (const name of [table.sortKey, index.sortKey]) if (name !== undefined) names.add(name);
  if (index.projection === 'INCLUDE')
    for (const name of index.nonKeyAttributes ?? []) names.add(name);
  const entry: Record<string, AttributeValue> = {};
  for (const name of names) {
    const value = item[name];
    if (value !== undefined) entry[name] = value;
  }
  return entry;
}

/** A canonical text of an attribute value: equal values, equal texts (set order ignored). */
export function canonical(value: AttributeValue | Item): string {
  const text = (v: unknown): string => {
    if (v instanceof Uint8Array) return `b:${Buffer.from(v).toString('base64')}`;
    if (Array.isArray(v)) return `[${v.map(text).join(',')}]`;
    if (v !== null && typeof v === 'object') {
      const entries = Object.entries(v as Record<string, unknown>).filter(
        ([, x]) => x !== undefined,
      );
      entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      return `{${entries
        .map(([k, x]) =>
          ['SS', 'NS', 'BS'].includes(k) && Array.isArray(x)
            ? `${JSON.stringify(k)}:[${x.map(text).sort().join(',')}]`
            : `${JSON.stringify(k)}:${text(x)}`,
        )
        .join(',')}}`;
    }
    return JSON.stringify(v);
  };
  return text(value);
}

/** One item written by a request: as it was before (absent: new) and after (absent: deleted). */
export interface ItemWrite {
  readonly table: TableSchema;
  readonly before: Item | undefined;
  readonly after: Item | undefined;
}

/** One request, with what it read or wrote. */
export type BillableRequest =
  /** PutItem, UpdateItem, DeleteItem, BatchWriteItem (one entry per item), TransactWriteItems. */
  | {
      readonly kind: 'write';
      readonly transactional: boolean;
      readonly writes: readonly ItemWrite[];
    }
  /** A PutItem, UpdateItem or DeleteItem refused by its condition: the item as it is. */
  | { readonly kind: 'failedWrite'; readonly existing: Item | undefined }
  /** GetItem: the whole item (a projection does not change the bill), absent or not. */
  | { readonly kind: 'getItem'; readonly consistent: boolean; readonly item: Item | undefined }
  /** BatchGetItem, one table: the whole item for each processed key, absent or not. */
  | {
      readonly kind: 'batchGetItem';
      readonly consistent: boolean;
      readonly items: readonly (Item | undefined)[];
    }
  /** Query (table or index): every item it evaluated, as stored (whole, before any filter). */
  | {
      readonly kind: 'query';
      readonly consistent: boolean;
      readonly index?: string;
      readonly items: readonly Item[];
    };

/** Capacity units of one request. */
export interface Units {
  /** All of them: the table's and its indexes'. */
  readonly total: number;
  /** Of `total`, those of global secondary indexes. */
  readonly indexes: number;
}

const units = (bytes: number, per: number): number => Math.ceil(bytes / per);

/** Write units of one item write on the table: the larger of before and after, at least 1. */
const tableWriteUnits = (write: ItemWrite): number =>
  Math.max(1, units(Math.max(itemSize(write.before), itemSize(write.after)), WRITE_UNIT_BYTES));

/**
 * Write units of one item write on each index, by the guide: an entry added or removed is one
 * write of it; an index key changed is two (the old entry deleted, the new put); a projected
 * attribute changed under the same key is one write (the larger entry); nothing changed in the
 * entry, none.
 */
const indexWriteUnits = (write: ItemWrite): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const index of write.table.indexes) {
    const was = indexEntry(write.before, write.table, index);
    const is = indexEntry(write.after, write.table, index);
    const size = (entry: Item) => units(itemSize(entry), WRITE_UNIT_BYTES);
    let n = 0;
    if (was !== undefined && is !== undefined) {
      const keys = [index.partitionKey, index.sortKey].filter((k): k is string => k !== undefined);
      const sameKey = keys.every(
        (k) => canonical(was[k] as AttributeValue) === canonical(is[k] as AttributeValue),
      );
      if (!sameKey) n = size(was) + size(is);
      else if (canonical(was) !== canonical(is)) n = Math.max(size(was), size(is));
    } else if (was !== undefined) n = size(was);
    else if (is !== undefined) n = size(is);
    if (n > 0) out[index.name] = n;
  }
  return out;
};

const sum = (values: Iterable<number>): number => {
  let n = 0;
  for (const v of values) n += v;
  return n;
};

/** Read units of items read one by one (GetItem, BatchGetItem): each rounded up to 4 KB. */
const perItemReadUnits = (items: readonly (Item | undefined)[], absent: number): number =>
  sum(items.map((item) => (item === undefined ? absent : units(itemSize(item), READ_UNIT_BYTES))));

/**
 * The capacity units DynamoDB bills for one request, by the Developer Guide:
 * - item writes: one unit per started KB of the larger of the item before and after, at least 1
 *   (a delete: the item deleted; a new item: the item written); inside `TransactWriteItems` twice;
 *   plus the index writes the change causes ({@link TRANSACTIONAL_INDEX_FACTOR} in a transaction);
 * - a write refused by its condition: the existing item's size in KB, 1 for a new item (the guide:
 *   "DynamoDB still consumes write capacity units"; no index write);
 * - GetItem and BatchGetItem: per item, its size rounded up to 4 KB, one unit per 4 KB; an item
 *   that does not exist still costs one unit ("If you perform a read operation on an item that does
 *   not exist, DynamoDB still consumes provisioned read throughput");
 * - Query: the sizes of all items evaluated summed, then rounded up to 4 KB (at least one unit, the
 *   same rule for a query that finds nothing);
 * - reads: eventually consistent ones (every index query) half.
 *
 * @example
 * // UpdateItem growing a 900-byte item to 1,100 bytes: 2 units; inside a transaction: 4
 * billedUnits({ kind: 'write', transactional: false, writes: [{ table, before, after }] });
 */
export function billedUnits(request: BillableRequest): Units {
  switch (request.kind) {
    case 'write': {
      const factor = request.transactional ? TRANSACTION_FACTOR : 1;
      const indexFactor = request.transactional ? TRANSACTIONAL_INDEX_FACTOR : 1;
      let table = 0;
      let indexes = 0;
      for (const write of request.writes) {
        table += factor * tableWriteUnits(write);
        indexes += indexFactor * sum(Object.values(indexWriteUnits(write)));
      }
      return { total: table + indexes, indexes };
    }
    case 'failedWrite':
      return {
        total: Math.max(1, units(itemSize(request.existing), WRITE_UNIT_BYTES)),
        indexes: 0,
      };
    case 'getItem':
    case 'batchGetItem': {
      const items = request.kind === 'getItem' ? [request.item] : request.items;
      const n = perItemReadUnits(items, 1) * (request.consistent ? 1 : EVENTUAL_READ_FACTOR);
      return { total: n, indexes: 0 };
    }
    case 'query': {
      const bytes = sum(request.items.map(itemSize));
      const n =
        Math.max(1, units(bytes, READ_UNIT_BYTES)) *
        (request.consistent ? 1 : EVENTUAL_READ_FACTOR);
      return { total: n, indexes: request.index === undefined ? 0 : n };
    }
  }
}

/**
 * The capacity DynamoDB Local 3.3 reports (`ConsumedCapacity`, summed over tables) for one
 * request: {@link billedUnits} except for four deviations, each measured on it (and pinned by
 * test/integration/bench/billing.test.ts):
 * 1. `TransactWriteItems`: per table, items whose capacity is the same (the same table units and
 *    the same units on each index) are counted **once** — a transaction of fifty 3 KB items
 *    reports 6 units, not 300. (This is why the bench's former `localReportedWcuPer1k`, 21.8,
 *    was far below the billed figure: most of a batch's slices weigh the same.)
 * 2. `BatchGetItem`: a key whose item does not exist costs nothing.
 * 3. `Query`: a query that finds nothing costs nothing.
 * 4. A write refused by its condition reports no capacity (the exception carries none).
 */
export function dynamodbLocalUnits(request: BillableRequest): Units {
  switch (request.kind) {
    case 'write': {
      if (!request.transactional) return billedUnits(request);
      const distinct = new Map<string, Map<string, { table: number; indexes: number }>>();
      for (const write of request.writes) {
        const indexUnits = indexWriteUnits(write);
        const one = { table: tableWriteUnits(write), indexes: sum(Object.values(indexUnits)) };
        const id = JSON.stringify([one.table, Object.entries(indexUnits).sort()]);
        const byTable = distinct.get(write.table.name) ?? new Map();
        distinct.set(write.table.name, byTable.set(id, one));
      }
      let table = 0;
      let indexes = 0;
      for (const byTable of distinct.values()) {
        for (const one of byTable.values()) {
          table += TRANSACTION_FACTOR * one.table;
          indexes += TRANSACTIONAL_INDEX_FACTOR * one.indexes;
        }
      }
      return { total: table + indexes, indexes };
    }
    case 'failedWrite':
      return { total: 0, indexes: 0 };
    case 'batchGetItem': {
      const n =
        perItemReadUnits(request.items, 0) * (request.consistent ? 1 : EVENTUAL_READ_FACTOR);
      return { total: n, indexes: 0 };
    }
    case 'query': {
      const bytes = sum(request.items.map(itemSize));
      const n = units(bytes, READ_UNIT_BYTES) * (request.consistent ? 1 : EVENTUAL_READ_FACTOR);
      return { total: n, indexes: request.index === undefined ? 0 : n };
    }
    case 'getItem':
      return billedUnits(request);
  }
}
