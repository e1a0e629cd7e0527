import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

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

/** DynamoDB requests seen by a client since the last `reset`. */
export interface RequestCounts {
  writeRequests: number;
  readRequests: number;
  /** Write capacity units DynamoDB reported (ReturnConsumedCapacity=TOTAL on every request). */
  writeCapacityUnits: number;
  readCapacityUnits: number;
  /** Conditional writes refused by their condition. */
  conditionFailures: number;
  /** Requests per command name. */
  byCommand: Record<string, number>;
}

const empty = (): RequestCounts => ({
  writeRequests: 0,
  readRequests: 0,
  writeCapacityUnits: 0,
  readCapacityUnits: 0,
  conditionFailures: 0,
  byCommand: {},
});

/** The counter installed on a client by {@link countRequests}. */
export interface RequestCounter {
  readonly counts: RequestCounts;
  /** Returns the counts so far and starts again from zero. */
  reset(): RequestCounts;
}

type Capacity = { CapacityUnits?: number } | undefined;

/**
 * Installs a middleware on a DynamoDB client that counts every request by kind (one per `send`,
 * whatever the caller — shardflow's store, Powertools' persistence layer or plain code), asks
 * DynamoDB for the consumed capacity of each (`ReturnConsumedCapacity: TOTAL` when the caller did
 * not) and sums it.
 */
export function countRequests(client: DynamoDBClient): RequestCounter {
  let counts = empty();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const command = String(context.commandName ?? 'unknown');
      const isWrite = WRITE_COMMANDS.has(command);
      const isRead = READ_COMMANDS.has(command);
      const input = args.input as Record<string, unknown>;
      if ((isWrite || isRead) && input.ReturnConsumedCapacity === undefined) {
        input.ReturnConsumedCapacity = 'TOTAL';
      }
      const c = counts;
      c.byCommand[command] = (c.byCommand[command] ?? 0) + 1;
      if (isWrite) c.writeRequests++;
      if (isRead) c.readRequests++;
      try {
        const result = await next(args);
        const consumed = (result.output as { ConsumedCapacity?: Capacity | Capacity[] })
          .ConsumedCapacity;
        const units = (Array.isArray(consumed) ? consumed : [consumed]).reduce(
          (sum, x) => sum + (x?.CapacityUnits ?? 0),
          0,
        );
        if (isWrite) c.writeCapacityUnits += units;
        if (isRead) c.readCapacityUnits += units;
        return result;
      } catch (error) {
        if ((error as Error).name === 'ConditionalCheckFailedException') c.conditionFailures++;
        throw error;
      }
    },
    { step: 'initialize', name: 'shardflowBenchRequestCounter' },
  );
  return {
    get counts() {
      return counts;
    },
    reset() {
      const before = counts;
      counts = empty();
      return before;
    },
  };
}
