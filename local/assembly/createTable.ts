import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  type DynamoDBClient,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { DeploymentError } from './errors';
import type { TablePlan } from './types';
import { waitUntil } from './waitUntil';

/**
 * Creates a DynamoDB table on the engine, or reuses it if it already exists (restart with
 * persisted state), waits until it is ACTIVE and enables TTL if the template does.
 * @throws DeploymentError if the engine refuses the table or it does not become ACTIVE
 */
export async function createTable(dynamodb: DynamoDBClient, plan: TablePlan): Promise<void> {
  const fail = (message: string, cause?: unknown) =>
    new DeploymentError(`table ${plan.tableName}: ${message}`, plan.stack, plan.logicalId, {
      cause,
    });
  try {
    await dynamodb.send(new CreateTableCommand(plan.createTable));
  } catch (error) {
    if ((error as Error).name !== 'ResourceInUseException') throw fail('cannot create', error);
  }
  await waitUntil(
    async () => {
      const { Table: table } = await dynamodb.send(
        new DescribeTableCommand({ TableName: plan.tableName }),
      );
      return table?.TableStatus === 'ACTIVE';
    },
    () => fail('did not become ACTIVE'),
  );
  if (plan.timeToLiveAttribute === undefined) return;
  const { TimeToLiveDescription: ttl } = await dynamodb.send(
    new DescribeTimeToLiveCommand({ TableName: plan.tableName }),
  );
  if (ttl?.TimeToLiveStatus === 'ENABLED' && ttl.AttributeName === plan.timeToLiveAttribute) return;
  try {
    await dynamodb.send(
      new UpdateTimeToLiveCommand({
        TableName: plan.tableName,
        TimeToLiveSpecification: { AttributeName: plan.timeToLiveAttribute, Enabled: true },
      }),
    );
  } catch (error) {
    throw fail(`cannot enable TTL on ${plan.timeToLiveAttribute}`, error);
  }
}
