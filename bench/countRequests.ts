import {
  type AttributeValue,
  BatchGetItemCommand,
  type ConsumedCapacity,
  type CreateTableCommandInput,
  type DynamoDBClient,
  GetItemCommand,
  QueryCommand,
  type QueryCommandInput,
} from '@aws-sdk/client-dynamodb';
import {
  type BillableRequest,
  billedUnits,
  canonical,
  dynamodbLocalUnits,
  type Item,
  type ItemWrite,
  itemSize,
  keyOf,
  type TableSchema,
  tableSchema,
  type Units,
} from './billing';
import { msSince } from './stats';

const WRITE_COMMANDS = new Set([
  'PutItemCommand',
  'UpdateItemCommand',
  'DeleteItemCommand',
  'BatchWriteItemCommand',
  'TransactWriteItemsCommand',
]);
const READ_COMMANDS = new Set([
  'GetItemCommand',
  'QueryCommand',
  'ScanCommand',
  'BatchGetItemCommand',
  'TransactGetItemsCommand',
]);

/** Reported and modelled capacity of a request that disagreed. */
export interface CapacityMismatch {
  readonly command: string;
  /** What DynamoDB Local reported (`ConsumedCapacity`, summed over tables). */
  readonly reported: Units;
  /** What {@link dynamodbLocalUnits} predicted for it. */
  readonly modelled: Units;
  /** The items' sizes the prediction used (bytes; writes: before → after). */
  readonly sizes: readonly string[];
}

/** DynamoDB requests seen by a client since the last `reset`. */
export interface RequestCounts {
  writeRequests: number;
  readRequests: number;
  /** Write capacity units DynamoDB Local reported (ReturnConsumedCapacity on every request). */
  writeCapacityUnits: number;
  readCapacityUnits: number;
  /** Conditional writes refused by their condition. */
  conditionFailures: number;
  /** `TransactWriteItems` cancelled (nothing written). */
  cancelledTransactions: number;
  /** Requests per command name. */
  byCommand: Record<string, number>;
  /**
   * Write units DynamoDB bills for these requests ({@link billedUnits}, from the items read before
   * and after each write); 0 when the counter does not bill.
   */
  billedWriteUnits: number;
  /** Of `billedWriteUnits`: on global secondary indexes. */
  billedIndexWriteUnits: number;
  /** Of `billedWriteUnits`: writes refused by their condition (DynamoDB Local reports none). */
  billedFailedWriteUnits: number;
  /** Read units DynamoDB bills for these requests ({@link billedUnits}). */
  billedReadUnits: number;
  /** What the model predicts DynamoDB Local reports ({@link dynamodbLocalUnits}), writes. */
  modelledLocalWriteUnits: number;
  /** The same, reads. */
  modelledLocalReadUnits: number;
  /** Requests whose units the model computed and compared with what DynamoDB Local reported. */
  checkedRequests: number;
  /** Requests the model does not cover (Scan, TransactGetItems, ConditionCheck, PartiQL…). */
  unmodelledRequests: number;
  /** Checked requests whose reported capacity differs from the prediction. */
  mismatches: number;
  /** The first few of them. */
  mismatchSamples: CapacityMismatch[];
  /** Uncounted requests the counter made itself to size items (before/after reads). */
  sideReads: number;
  /**
   * Wall-clock time during which at least one side read was in flight (concurrent ones counted
   * once): at most what billing added to the measured run.
   */
  sideReadMs: number;
}

/** A zero {@link RequestCounts}. */
export const emptyCounts = (): RequestCounts => ({
  writeRequests: 0,
  readRequests: 0,
  writeCapacityUnits: 0,
  readCapacityUnits: 0,
  conditionFailures: 0,
  cancelledTransactions: 0,
  byCommand: {},
  billedWriteUnits: 0,
  billedIndexWriteUnits: 0,
  billedFailedWriteUnits: 0,
  billedReadUnits: 0,
  modelledLocalWriteUnits: 0,
  modelledLocalReadUnits: 0,
  checkedRequests: 0,
  unmodelledRequests: 0,
  mismatches: 0,
  mismatchSamples: [],
  sideReads: 0,
  sideReadMs: 0,
});

/** Two counts added up (samples: the first few of both). */
export function addCounts(a: RequestCounts, b: RequestCounts): RequestCounts {
  const out = emptyCounts();
  for (const key of Object.keys(out) as (keyof RequestCounts)[]) {
    const x = a[key];
    const y = b[key];
    if (typeof x === 'number' && typeof y === 'number') (out[key] as number) = x + y;
  }
  for (const k of new Set([...Object.keys(a.byCommand), ...Object.keys(b.byCommand)])) {
    out.byCommand[k] = (a.byCommand[k] ?? 0) + (b.byCommand[k] ?? 0);
  }
  out.mismatchSamples = [...a.mismatchSamples, ...b.mismatchSamples].slice(0, MAX_SAMPLES);
  return out;
}

/** The counter installed on a client by {@link countRequests}. */
export interface RequestCounter {
  readonly counts: RequestCounts;
  /** Returns the counts so far and starts again from zero. */
  reset(): RequestCounts;
}

/** What {@link countRequests} needs to bill requests. */
export interface BillingOptions {
  /**
   * A client on the same endpoint *without* the counter: it reads each written item before and
   * after the write (strongly consistent), and whole items where a read used a projection or
   * filter. Its requests are neither counted nor billed.
   */
  readonly side: DynamoDBClient;
  /** Every table the counted client uses, as created. */
  readonly tables: readonly CreateTableCommandInput[];
}

const MAX_SAMPLES = 5;
const EPSILON = 1e-9;

/** Sums a response's `ConsumedCapacity` (one object, or an array of one per table). */
function reportedUnits(consumed: ConsumedCapacity | ConsumedCapacity[] | undefined): Units {
  let total = 0;
  let indexes = 0;
  for (const c of Array.isArray(consumed) ? consumed : [consumed]) {
    total += c?.CapacityUnits ?? 0;
    for (const index of Object.values(c?.GlobalSecondaryIndexes ?? {})) {
      indexes += index.CapacityUnits ?? 0;
    }
  }
  return { total, indexes };
}

type Input = Record<string, unknown>;
type Keyed = { readonly table: TableSchema; readonly key: Item };

/** The items a write request writes, or `undefined` if the model does not cover it. */
function writtenItems(
  command: string,
  input: Input,
  tables: ReadonlyMap<string, TableSchema>,
): { keys: Keyed[]; transactional: boolean } | undefined {
  const table = (name: unknown): TableSchema | undefined => tables.get(String(name));
  const one = (name: unknown, key: Item | undefined): Keyed | undefined => {
    const t = table(name);
    return t === undefined || key === undefined ? undefined : { table: t, key: keyOf(t, key) };
  };
  const all = (list: (Keyed | undefined)[]): Keyed[] | undefined =>
    list.every((k) => k !== undefined) ? (list as Keyed[]) : undefined;
  switch (command) {
    case 'PutItemCommand': {
      const keys = all([one(input.TableName, input.Item as Item)]);
      return keys && { keys, transactional: false };
    }
    case 'UpdateItemCommand':
    case 'DeleteItemCommand': {
      const keys = all([one(input.TableName, input.Key as Item)]);
      return keys && { keys, transactional: false };
    }
    case 'BatchWriteItemCommand': {
      const requests = Object.entries(
        (input.RequestItems ?? {}) as Record<
          string,
          { PutRequest?: { Item?: Item }; DeleteRequest?: { Key?: Item } }[]
        >,
      ).flatMap(([name, list]) =>
        list.map((r) => one(name, r.PutRequest?.Item ?? r.DeleteRequest?.Key)),
      );
      const keys = all(requests);
      return keys && { keys, transactional: false };
    }
    case 'TransactWriteItemsCommand': {
      type Action = { TableName?: string; Key?: Item; Item?: Item };
      const actions = (input.TransactItems ?? []) as {
        Put?: Action;
        Update?: Action;
        Delete?: Action;
        ConditionCheck?: Action;
      }[];
      if (actions.some((a) => a.ConditionCheck !== undefined)) return undefined;
      const keys = all(
        actions.map((a) => {
          const action = a.Put ?? a.Update ?? a.Delete;
          return one(action?.TableName, action?.Item ?? action?.Key);
        }),
      );
      return keys && { keys, transactional: true };
    }
    default:
      return undefined;
  }
}

const idOf = (k: Keyed): string => `${k.table.name}\u0000${canonical(k.key)}`;

/** A query input stripped of what does not change its bill: projection, filter, count-only. */
function wholeItemsQuery(input: QueryCommandInput): QueryCommandInput | undefined {
  const { ProjectionExpression, FilterExpression, Select, AttributesToGet, QueryFilter } = input;
  if (
    ProjectionExpression === undefined &&
    FilterExpression === undefined &&
    (Select === undefined || Select === 'ALL_ATTRIBUTES') &&
    AttributesToGet === undefined &&
    QueryFilter === undefined
  ) {
    return undefined;
  }
  const used = `${input.KeyConditionExpression ?? ''}`;
  const pick = <T>(map: Record<string, T> | undefined) =>
    map === undefined
      ? undefined
      : Object.fromEntries(Object.entries(map).filter(([name]) => used.includes(name)));
  const names = pick(input.ExpressionAttributeNames);
  const values = pick(input.ExpressionAttributeValues);
  return {
    TableName: input.TableName,
    IndexName: input.IndexName,
    KeyConditionExpression: input.KeyConditionExpression,
    KeyConditions: input.KeyConditions,
    ExpressionAttributeNames: names && Object.keys(names).length > 0 ? names : undefined,
    ExpressionAttributeValues: values && Object.keys(values).length > 0 ? values : undefined,
    ExclusiveStartKey: input.ExclusiveStartKey,
    Limit: input.Limit,
    ScanIndexForward: input.ScanIndexForward,
    ConsistentRead: input.ConsistentRead,
  };
}

/**
 * Installs a middleware on a DynamoDB client that counts every request by kind (one per `send`,
 * whatever the caller — shardflow's store, Powertools' persistence layer or plain code), asks
 * DynamoDB for the consumed capacity of each (`ReturnConsumedCapacity: INDEXES`, whatever the
 * caller asked) and sums it.
 *
 * With `billing`, it also computes each request's units with the model of `billing.ts`: for a
 * write, it reads every written item before and after it with the uncounted side client (by key,
 * strongly consistent); for a read, it sizes the items returned (re-read whole through the side
 * client when a projection or filter hid part of them). It sums what DynamoDB bills
 * ({@link billedUnits}) and checks what DynamoDB Local reported against {@link dynamodbLocalUnits}
 * request by request, counting disagreements. Writes to the same item are serialized (each waits
 * for the earlier ones: concurrent ADDs to one item would otherwise interleave with its before
 * and after reads). The side reads and that wait make requests slower: use billing only where
 * units are counted, and read `sideReadMs`.
 *
 * @example
 * const counter = countRequests(client, { side: new DynamoDBClient(config), tables: [tableInput] });
 * await handler(event);
 * const { billedWriteUnits, mismatches } = counter.reset();
 */
export function countRequests(client: DynamoDBClient, billing?: BillingOptions): RequestCounter {
  let counts = emptyCounts();
  const tables = new Map<string, TableSchema>();
  for (const input of billing?.tables ?? []) {
    const schema = tableSchema(input);
    tables.set(schema.name, schema);
  }

  // Writes in flight per item: a write waits for the earlier ones on its items, so the items read
  // before and after it are its own before and after (concurrent ADDs to one item would interleave).
  const locks = new Map<string, Promise<void>>();
  const exclusively = async <T>(ids: readonly string[], run: () => Promise<T>): Promise<T> => {
    const releases: (() => void)[] = [];
    // In one order for every write, so two writes never wait for each other.
    for (const id of [...new Set(ids)].sort()) {
      const earlier = locks.get(id) ?? Promise.resolve();
      let release = (): void => undefined;
      const mine = new Promise<void>((resolve) => {
        release = resolve;
      });
      const queue = earlier.then(() => mine);
      locks.set(id, queue);
      releases.push(() => {
        release();
        if (locks.get(id) === queue) locks.delete(id);
      });
      await earlier;
    }
    try {
      return await run();
    } finally {
      for (const release of releases) release();
    }
  };

  // Side reads in flight, and since when at least one has been.
  let inFlight = 0;
  let busySince = 0n;
  const timed = async <T>(c: RequestCounts, read: () => Promise<T>): Promise<T> => {
    if (inFlight++ === 0) busySince = process.hrtime.bigint();
    try {
      return await read();
    } finally {
      if (--inFlight === 0) c.sideReadMs += msSince(busySince);
    }
  };

  /** Whole items by key through the side client, strongly consistent (absent: not in the map). */
  const readWhole = async (
    c: RequestCounts,
    keys: readonly Keyed[],
  ): Promise<Map<string, Item>> => {
    const found = new Map<string, Item>();
    if (billing === undefined || keys.length === 0) return found;
    return timed(c, async () => {
      if (keys.length === 1) {
        const k = keys[0] as Keyed;
        c.sideReads++;
        const out = await billing.side.send(
          new GetItemCommand({ TableName: k.table.name, Key: { ...k.key }, ConsistentRead: true }),
        );
        if (out.Item !== undefined) found.set(idOf(k), out.Item);
        return found;
      }
      const byTable = new Map<string, Keyed[]>();
      for (const k of keys) {
        const list = byTable.get(k.table.name) ?? [];
        if (!list.some((x) => idOf(x) === idOf(k))) list.push(k);
        byTable.set(k.table.name, list);
      }
      for (const [name, list] of byTable) {
        const table = tables.get(name) as TableSchema;
        for (let i = 0; i < list.length; i += 100) {
          let pending: Record<string, AttributeValue>[] = list
            .slice(i, i + 100)
            .map((k) => ({ ...k.key }));
          for (let attempt = 0; pending.length > 0; attempt++) {
            if (attempt > 0)
              await new Promise((r) => setTimeout(r, Math.min(100, 5 * 2 ** attempt)));
            c.sideReads++;
            const out = await billing.side.send(
              new BatchGetItemCommand({
                RequestItems: { [name]: { Keys: pending, ConsistentRead: true } },
              }),
            );
            for (const item of out.Responses?.[name] ?? []) {
              found.set(idOf({ table, key: keyOf(table, item) }), item);
            }
            pending = out.UnprocessedKeys?.[name]?.Keys ?? [];
          }
        }
      }
      return found;
    });
  };

  /** Adds a modelled request's units and checks them against what DynamoDB Local reported. */
  const account = (
    c: RequestCounts,
    command: string,
    requests: readonly BillableRequest[],
    reported: Units | undefined,
    sizes: () => string[],
  ): void => {
    let billedTotal = 0;
    let billedIndexes = 0;
    let localTotal = 0;
    let localIndexes = 0;
    for (const request of requests) {
      const billed = billedUnits(request);
      const local = dynamodbLocalUnits(request);
      billedTotal += billed.total;
      billedIndexes += billed.indexes;
      localTotal += local.total;
      localIndexes += local.indexes;
    }
    const isWrite = WRITE_COMMANDS.has(command);
    if (isWrite) {
      c.billedWriteUnits += billedTotal;
      c.billedIndexWriteUnits += billedIndexes;
      c.modelledLocalWriteUnits += localTotal;
      if (requests.some((r) => r.kind === 'failedWrite')) c.billedFailedWriteUnits += billedTotal;
    } else {
      c.billedReadUnits += billedTotal;
      c.modelledLocalReadUnits += localTotal;
    }
    if (reported === undefined) return;
    c.checkedRequests++;
    // Reads report an index's units apart only on an index query; writes always split them.
    const indexesAgree = !isWrite || Math.abs(reported.indexes - localIndexes) < EPSILON;
    if (Math.abs(reported.total - localTotal) >= EPSILON || !indexesAgree) {
      c.mismatches++;
      if (c.mismatchSamples.length < MAX_SAMPLES) {
        c.mismatchSamples.push({
          command,
          reported,
          modelled: { total: localTotal, indexes: localIndexes },
          sizes: sizes().slice(0, 20),
        });
      }
    }
  };

  const writeSizes = (writes: readonly ItemWrite[]) => () =>
    writes.map((w) => `${itemSizeText(w.before)} → ${itemSizeText(w.after)}`);

  /** The billable view of a read that succeeded, or `undefined` if the model does not cover it. */
  const readRequests = async (
    c: RequestCounts,
    command: string,
    input: Input,
    output: Record<string, unknown>,
  ): Promise<BillableRequest[] | undefined> => {
    if (billing === undefined) return undefined;
    switch (command) {
      case 'GetItemCommand': {
        const table = tables.get(String(input.TableName));
        if (table === undefined) return undefined;
        const key = { table, key: keyOf(table, input.Key as Item) };
        const partial =
          input.ProjectionExpression !== undefined || input.AttributesToGet !== undefined;
        const item = partial
          ? (await readWhole(c, [key])).get(idOf(key))
          : (output.Item as Item | undefined);
        return [{ kind: 'getItem', consistent: input.ConsistentRead === true, item }];
      }
      case 'BatchGetItemCommand': {
        const requested = (input.RequestItems ?? {}) as Record<
          string,
          {
            Keys?: Item[];
            ConsistentRead?: boolean;
            ProjectionExpression?: string;
            AttributesToGet?: string[];
          }
        >;
        const responses = (output.Responses ?? {}) as Record<string, Item[]>;
        const unprocessed = (output.UnprocessedKeys ?? {}) as Record<string, { Keys?: Item[] }>;
        const out: BillableRequest[] = [];
        for (const [name, request] of Object.entries(requested)) {
          const table = tables.get(name);
          if (table === undefined) return undefined;
          const left = new Set(
            (unprocessed[name]?.Keys ?? []).map((k) => idOf({ table, key: keyOf(table, k) })),
          );
          const keys = (request.Keys ?? [])
            .map((k) => ({ table, key: keyOf(table, k) }))
            .filter((k) => !left.has(idOf(k)));
          const partial =
            request.ProjectionExpression !== undefined || request.AttributesToGet !== undefined;
          let found: Map<string, Item>;
          if (partial) found = await readWhole(c, keys);
          else {
            found = new Map();
            for (const item of responses[name] ?? [])
              found.set(idOf({ table, key: keyOf(table, item) }), item);
          }
          out.push({
            kind: 'batchGetItem',
            consistent: request.ConsistentRead === true,
            items: keys.map((k) => found.get(idOf(k))),
          });
        }
        return out;
      }
      case 'QueryCommand': {
        const query = input as unknown as QueryCommandInput;
        const whole = wholeItemsQuery(query);
        let items = (output.Items ?? []) as Item[];
        if (whole !== undefined) {
          c.sideReads++;
          items = (await timed(c, () => billing.side.send(new QueryCommand(whole)))).Items ?? [];
        }
        return [
          {
            kind: 'query',
            consistent: query.ConsistentRead === true,
            index: query.IndexName,
            items,
          },
        ];
      }
      default:
        return undefined;
    }
  };

  client.middlewareStack.add(
    (next, context) => async (args) => {
      const command = String(context.commandName ?? 'unknown');
      const isWrite = WRITE_COMMANDS.has(command);
      const isRead = READ_COMMANDS.has(command);
      const input = args.input as Input;
      const sent =
        isWrite || isRead
          ? { ...args, input: { ...input, ReturnConsumedCapacity: 'INDEXES' } }
          : args;
      const c = counts;
      c.byCommand[command] = (c.byCommand[command] ?? 0) + 1;
      if (isWrite) c.writeRequests++;
      if (isRead) c.readRequests++;

      const written = billing && isWrite ? writtenItems(command, input, tables) : undefined;
      if (billing && isWrite && written === undefined) c.unmodelledRequests++;
      const handle = async () => {
        const before = written ? await readWhole(c, written.keys) : undefined;
        try {
          const result = await next(sent);
          const output = result.output as unknown as Record<string, unknown>;
          const reported = reportedUnits(
            output.ConsumedCapacity as ConsumedCapacity | ConsumedCapacity[] | undefined,
          );
          if (isWrite) c.writeCapacityUnits += reported.total;
          if (isRead) c.readCapacityUnits += reported.total;
          if (written !== undefined && before !== undefined) {
            let keys = written.keys;
            if (command === 'BatchWriteItemCommand') {
              const unprocessed = new Set<string>();
              const left = (output.UnprocessedItems ?? {}) as Record<
                string,
                { PutRequest?: { Item?: Item }; DeleteRequest?: { Key?: Item } }[]
              >;
              for (const [name, list] of Object.entries(left)) {
                const table = tables.get(name);
                for (const r of list) {
                  const item = r.PutRequest?.Item ?? r.DeleteRequest?.Key;
                  if (table && item) unprocessed.add(idOf({ table, key: keyOf(table, item) }));
                }
              }
              keys = keys.filter((k) => !unprocessed.has(idOf(k)));
            }
            const after = await readWhole(c, keys);
            const writes = keys.map((k) => ({
              table: k.table,
              before: before.get(idOf(k)),
              after: after.get(idOf(k)),
            }));
            account(
              c,
              command,
              [{ kind: 'write', transactional: written.transactional, writes }],
              reported,
              writeSizes(writes),
            );
          } else if (billing && isRead) {
            const requests = await readRequests(c, command, input, output);
            if (requests === undefined) c.unmodelledRequests++;
            else {
              account(c, command, requests, reported, () =>
                requests.flatMap((r) =>
                  r.kind === 'getItem'
                    ? [itemSizeText(r.item)]
                    : r.kind === 'batchGetItem' || r.kind === 'query'
                      ? r.items.map(itemSizeText)
                      : [],
                ),
              );
            }
          }
          return result;
        } catch (error) {
          const name = (error as Error).name;
          if (name === 'ConditionalCheckFailedException') {
            c.conditionFailures++;
            const k = written?.keys[0];
            if (k !== undefined && before !== undefined) {
              account(
                c,
                command,
                [{ kind: 'failedWrite', existing: before.get(idOf(k)) }],
                undefined,
                () => [],
              );
            }
          }
          if (name === 'TransactionCanceledException') c.cancelledTransactions++;
          throw error;
        }
      };
      return written === undefined ? handle() : exclusively(written.keys.map(idOf), handle);
    },
    { step: 'initialize', name: 'shardflowBenchRequestCounter' },
  );

  return {
    get counts() {
      return counts;
    },
    reset() {
      const before = counts;
      counts = emptyCounts();
      return before;
    },
  };
}

const itemSizeText = (item: Item | undefined): string =>
  item === undefined ? 'absent' : String(itemSize(item));
