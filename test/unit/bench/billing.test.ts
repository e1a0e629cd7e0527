import {
  attributeSize,
  billedUnits,
  dynamodbLocalUnits,
  type Item,
  indexEntry,
  itemSize,
  numberSize,
  type TableSchema,
  tableSchema,
} from '#bench/billing';
import { createTableInput } from '#state/index';

// Every expected value below is worked out by hand from the DynamoDB Developer Guide ("DynamoDB
// item sizes and formats", "Capacity unit consumption for reads / writes", "Global secondary
// indexes"), with the arithmetic in the comment next to it. Numbers: the guide's "1 byte per two
// significant digits + 1", pairs counted from the decimal point (measured on DynamoDB Local).

/** A table keyed by `pk` + `sk` with one index `gsi1` (`gsi1pk`, `gsi1sk`) that includes `key`. */
const table: TableSchema = {
  name: 'state',
  partitionKey: 'pk',
  sortKey: 'sk',
  indexes: [
    {
      name: 'gsi1',
      partitionKey: 'gsi1pk',
      sortKey: 'gsi1sk',
      projection: 'INCLUDE',
      nonKeyAttributes: ['key'],
    },
  ],
};

/** An item of `table` of exactly `bytes` bytes, without index keys: pk 'p' (3 B) + sk + padding. */
const sized = (sk: string, bytes: number): Item => {
  // 'pk' + 'p' = 3, 'sk' + sk, 'b' + padding
  const padding = bytes - 3 - (2 + sk.length) - 1;
  return { pk: { S: 'p' }, sk: { S: sk }, b: { S: 'x'.repeat(padding) } };
};

describe('attributeSize', () => {
  it('counts strings in UTF-8 bytes and binaries in raw bytes', () => {
    expect(attributeSize({ S: 'abc' })).toBe(3);
    expect(attributeSize({ S: 'é' })).toBe(2); // U+00E9: 2 bytes in UTF-8
    expect(attributeSize({ S: '€' })).toBe(3); // U+20AC: 3 bytes
    expect(attributeSize({ S: '😀' })).toBe(4); // outside the BMP: 4 bytes
    expect(attributeSize({ B: new Uint8Array(10) })).toBe(10);
  });

  it('counts null and booleans as 1 byte', () => {
    expect(attributeSize({ NULL: true })).toBe(1);
    expect(attributeSize({ BOOL: false })).toBe(1);
  });

  it('counts lists and maps as 3 bytes plus each element and 1 byte per element', () => {
    expect(attributeSize({ L: [] })).toBe(3);
    expect(attributeSize({ M: {} })).toBe(3);
    expect(attributeSize({ L: [{ S: 'b' }, { S: 'c' }] })).toBe(3 + (1 + 1) + (1 + 1));
    // a map entry also counts its name: 3 + ('a' 1 + 'b' 1 + 1)
    expect(attributeSize({ M: { a: { S: 'b' } } })).toBe(6);
    // nested: inner {b: 1} = 3 + (1 + 2 + 1) = 7; outer = 3 + (1 + 7 + 1) = 12
    expect(attributeSize({ M: { a: { M: { b: { N: '1' } } } } })).toBe(12);
    expect(attributeSize({ L: [{ L: [] }] })).toBe(3 + 3 + 1);
  });

  it('counts sets as the sum of their elements, without overhead', () => {
    expect(attributeSize({ SS: ['a', 'bc'] })).toBe(3);
    expect(attributeSize({ NS: ['1', '123'] })).toBe(2 + 3);
    expect(attributeSize({ BS: [new Uint8Array(3), new Uint8Array(4)] })).toBe(7);
  });

  it('fails on a value of no known type', () => {
    expect(() => attributeSize({} as never)).toThrow(/unknown attribute value type/);
  });
});

describe('numberSize', () => {
  it.each([
    ['0', 1], // zero: the exponent byte alone
    ['1', 2], // 01
    ['99', 2], // 99
    ['100', 2], // 01|00 → trailing zero pair dropped → 01
    ['123', 3], // 01|23
    ['1234', 3], // 12|34
    ['12345', 4], // 01|23|45
    ['1000', 2], // 10|00 → 10
    ['1E3', 2], // the same number
    ['007', 2], // leading zeros trimmed: 07
    ['1.5', 3], // 01.50
    ['1.50', 3], // the same number
    ['0.5', 2], // .50
    ['0.05', 2], // .05
    ['0.001', 2], // .00|10 → leading zero pair dropped → 10
    ['12.5', 3], // 12.50
    ['1700000000000', 3], // 01|70|00|00|00|00|00 → 01|70
    ['1764236700000', 6], // 01|76|42|36|70
    ['1764236712345', 8], // 01|76|42|36|71|23|45
    ['-1', 3], // a negative number takes one more byte
    ['-123', 4],
    ['12345678901234567890123456789012345678', 20], // 38 digits: 19 pairs
  ])('%s is %i bytes', (text, bytes) => {
    expect(numberSize(text)).toBe(bytes);
  });
});

describe('itemSize', () => {
  it('adds up attribute names and values', () => {
    // 'pk' 2 + 'p' 1 + 'sk' 2 + 'ab' 2 + 'n' 1 + 12 → 2 + 'ok' 2 + true 1 = 13
    expect(itemSize({ pk: { S: 'p' }, sk: { S: 'ab' }, n: { N: '12' }, ok: { BOOL: true } })).toBe(
      2 + 1 + 2 + 2 + 1 + 2 + 2 + 1,
    );
  });

  it('counts an absent item as 0 bytes', () => {
    expect(itemSize(undefined)).toBe(0);
  });
});

describe('tableSchema and indexEntry', () => {
  it("reads shardflow's state table: key, due index and its projection", () => {
    const schema = tableSchema(createTableInput('t'));
    expect(schema).toMatchObject({ name: 't', partitionKey: 'pk', sortKey: 'sk' });
    expect(schema.indexes[0]).toMatchObject({
      name: 'gsi1',
      partitionKey: 'gsi1pk',
      sortKey: 'gsi1sk',
      projection: 'INCLUDE',
    });
  });

  it('fails on an input without a partition key', () => {
    expect(() => tableSchema({ TableName: 't', KeySchema: [] })).toThrow(
      /no table name or partition key/,
    );
  });

  it('holds the table key, the index key and the projected attributes only', () => {
    const item: Item = {
      pk: { S: 'p' },
      sk: { S: 's' },
      gsi1pk: { S: 'g' },
      gsi1sk: { S: 'h' },
      key: { S: 'k' },
      acc: { S: 'x'.repeat(3000) },
    };
    const entry = indexEntry(item, table, table.indexes[0] as never);
    expect(entry).toEqual({
      pk: { S: 'p' },
      sk: { S: 's' },
      gsi1pk: { S: 'g' },
      gsi1sk: { S: 'h' },
      key: { S: 'k' },
    });
    // 'pk'+'p' 3, 'sk'+'s' 3, 'gsi1pk'+'g' 7, 'gsi1sk'+'h' 7, 'key'+'k' 4
    expect(itemSize(entry)).toBe(24);
  });

  it('has no entry for an item without the index key', () => {
    expect(indexEntry(sized('s', 100), table, table.indexes[0] as never)).toBeUndefined();
  });
});

describe('billedUnits: writes', () => {
  const write = (before: Item | undefined, after: Item | undefined, transactional = false) =>
    billedUnits({ kind: 'write', transactional, writes: [{ table, before, after }] });

  it('bills one unit per started KB of the item', () => {
    expect(write(undefined, sized('a', 1024))).toEqual({ total: 1, indexes: 0 });
    expect(write(undefined, sized('a', 1025))).toEqual({ total: 2, indexes: 0 });
    expect(write(undefined, sized('a', 3000))).toEqual({ total: 3, indexes: 0 });
  });

  it('bills an update on the larger of the item before and after', () => {
    // 900 B → 1,100 B: 2 units; 3,000 B → 100 B: 3 units
    expect(write(sized('a', 900), sized('a', 1100))).toEqual({ total: 2, indexes: 0 });
    expect(write(sized('a', 3000), sized('a', 100))).toEqual({ total: 3, indexes: 0 });
  });

  it('bills a delete on the item deleted, and at least one unit', () => {
    expect(write(sized('a', 2500), undefined)).toEqual({ total: 3, indexes: 0 });
    expect(write(undefined, undefined)).toEqual({ total: 1, indexes: 0 });
  });

  it('bills every item of a transaction twice', () => {
    // 3 KB item: 3 units alone, 6 in a transaction; with a 100 B item: 2 × (3 + 1) = 8
    expect(write(sized('a', 3000), sized('a', 3000), true)).toEqual({ total: 6, indexes: 0 });
    expect(
      billedUnits({
        kind: 'write',
        transactional: true,
        writes: [
          { table, before: sized('a', 3000), after: sized('a', 3000) },
          { table, before: undefined, after: sized('b', 100) },
        ],
      }),
    ).toEqual({ total: 8, indexes: 0 });
  });

  describe('index writes', () => {
    const indexed = (sk: string, gsi1sk: string, key: string, padding = 0): Item => ({
      pk: { S: 'p' },
      sk: { S: sk },
      gsi1pk: { S: 'g' },
      gsi1sk: { S: gsi1sk },
      key: { S: key },
      b: { S: 'x'.repeat(padding) },
    });
    // entry of indexed('s', 't', k): 3 + 3 + 7 + 7 + (3 + k.length) = 23 + k.length bytes

    it('bills an entry added or removed as one write of the entry', () => {
      // item: 23 + 1 + 'b' 1 + 3,000 = 3,025 B → 3; entry 24 B → 1
      expect(write(undefined, indexed('s', 't', 'k', 3000))).toEqual({ total: 4, indexes: 1 });
      expect(write(indexed('s', 't', 'k'), sized('s', 100))).toEqual({ total: 2, indexes: 1 });
    });

    it('bills an index key change as a delete and a put', () => {
      // old entry 23 + 1,500 B → 2, new entry 24 B → 1; the item 1,524 B → 2
      expect(write(indexed('s', 't', 'k'.repeat(1500)), indexed('s', 'u', 'k'))).toEqual({
        total: 5,
        indexes: 3,
      });
    });

    it('bills a projected attribute change as one write of the larger entry', () => {
      // entries 24 B and 1,523 B → 2; the item 1,524 B → 2
      expect(write(indexed('s', 't', 'k'), indexed('s', 't', 'k'.repeat(1500)))).toEqual({
        total: 4,
        indexes: 2,
      });
    });

    it('bills nothing on the index when its entry is unchanged', () => {
      // only the unprojected `b` changes: the item 2,025 B → 2, no index write
      expect(write(indexed('s', 't', 'k'), indexed('s', 't', 'k', 2000))).toEqual({
        total: 2,
        indexes: 0,
      });
    });

    it('bills index writes twice in a transaction', () => {
      expect(write(undefined, indexed('s', 't', 'k'), true)).toEqual({ total: 4, indexes: 2 });
    });
  });

  it('bills a write refused by its condition on the existing item, 1 unit for a new one', () => {
    expect(billedUnits({ kind: 'failedWrite', existing: sized('a', 2100) })).toEqual({
      total: 3,
      indexes: 0,
    });
    expect(billedUnits({ kind: 'failedWrite', existing: undefined })).toEqual({
      total: 1,
      indexes: 0,
    });
  });
});

describe('billedUnits: reads', () => {
  it('bills GetItem per started 4 KB, half when eventually consistent, one unit if absent', () => {
    expect(billedUnits({ kind: 'getItem', consistent: true, item: sized('a', 3500) }).total).toBe(
      1,
    );
    expect(billedUnits({ kind: 'getItem', consistent: true, item: sized('a', 10_240) }).total).toBe(
      3,
    );
    expect(
      billedUnits({ kind: 'getItem', consistent: false, item: sized('a', 10_240) }).total,
    ).toBe(1.5);
    expect(billedUnits({ kind: 'getItem', consistent: true, item: undefined }).total).toBe(1);
    expect(billedUnits({ kind: 'getItem', consistent: false, item: undefined }).total).toBe(0.5);
  });

  it('bills BatchGetItem item by item, each rounded up to 4 KB', () => {
    // the guide's example: 1.5 KB + 6.5 KB → 4 KB + 8 KB = 3 units; an absent key: 1 more
    const items = [sized('a', 1536), sized('b', 6656), undefined];
    expect(billedUnits({ kind: 'batchGetItem', consistent: true, items }).total).toBe(4);
    expect(billedUnits({ kind: 'batchGetItem', consistent: false, items }).total).toBe(2);
  });

  it('bills a Query on the sum of the items evaluated, rounded up to 4 KB once', () => {
    // 3 × 1,500 B = 4,500 B → 8 KB → 2 units (item by item it would be 3)
    const items = [sized('a', 1500), sized('b', 1500), sized('c', 1500)];
    expect(billedUnits({ kind: 'query', consistent: true, items })).toEqual({
      total: 2,
      indexes: 0,
    });
    expect(billedUnits({ kind: 'query', consistent: false, index: 'gsi1', items })).toEqual({
      total: 1,
      indexes: 1,
    });
    expect(billedUnits({ kind: 'query', consistent: false, items: [] }).total).toBe(0.5);
  });
});

describe('dynamodbLocalUnits', () => {
  it('counts the items of a transaction that weigh the same once per table (DynamoDB Local 3.3)', () => {
    // fifty 3 KB items: billed 2 × 50 × 3 = 300; DynamoDB Local reports 2 × 3 = 6
    const writes = Array.from({ length: 50 }, (_, i) => ({
      table,
      before: sized(`k${String(i).padStart(2, '0')}`, 3000),
      after: sized(`k${String(i).padStart(2, '0')}`, 3000),
    }));
    expect(billedUnits({ kind: 'write', transactional: true, writes }).total).toBe(300);
    expect(dynamodbLocalUnits({ kind: 'write', transactional: true, writes }).total).toBe(6);
  });

  it('counts items of different weights, and the same weight in another table, apart', () => {
    // 1 + 1 + 2 + 3 KB: billed 2 × 7 = 14; Local 2 × (1 + 2 + 3) = 12; a second table's 1 KB
    // item adds 2 on both
    const other = { ...table, name: 'other' };
    const writes = [
      { table, before: undefined, after: sized('a', 1000) },
      { table, before: undefined, after: sized('b', 1000) },
      { table, before: undefined, after: sized('c', 2000) },
      { table, before: undefined, after: sized('d', 3000) },
      { table: other, before: undefined, after: sized('e', 1000) },
    ];
    expect(billedUnits({ kind: 'write', transactional: true, writes }).total).toBe(16);
    expect(dynamodbLocalUnits({ kind: 'write', transactional: true, writes }).total).toBe(14);
  });

  it('tells items with and without an index write apart', () => {
    // both 1 unit on the table, one adds a 1-unit index entry: distinct, 2 × (1 + 1) + 2 × 1
    const withIndex: Item = { ...sized('a', 100), gsi1pk: { S: 'g' }, gsi1sk: { S: 'h' } };
    const writes = [
      { table, before: undefined, after: withIndex },
      { table, before: undefined, after: sized('b', 100) },
    ];
    expect(dynamodbLocalUnits({ kind: 'write', transactional: true, writes })).toEqual({
      total: 6,
      indexes: 2,
    });
  });

  it('reports single writes and GetItem as billed', () => {
    const request = {
      kind: 'write' as const,
      transactional: false,
      writes: [{ table, before: sized('a', 900), after: sized('a', 1100) }],
    };
    expect(dynamodbLocalUnits(request)).toEqual(billedUnits(request));
    expect(dynamodbLocalUnits({ kind: 'getItem', consistent: true, item: undefined }).total).toBe(
      1,
    );
  });

  it('reports nothing for absent BatchGetItem keys, empty queries and refused writes', () => {
    const items = [sized('a', 3000), undefined];
    expect(dynamodbLocalUnits({ kind: 'batchGetItem', consistent: false, items }).total).toBe(0.5);
    expect(dynamodbLocalUnits({ kind: 'query', consistent: true, items: [] }).total).toBe(0);
    expect(dynamodbLocalUnits({ kind: 'failedWrite', existing: sized('a', 100) }).total).toBe(0);
  });
});
