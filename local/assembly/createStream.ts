import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import { DeploymentError } from './errors';
import type { StreamPlan } from './types';
import { waitUntil } from './waitUntil';

/**
 * Creates a Kinesis stream on the engine, or reuses it if it already exists (restart with
 * persisted state), and waits until it is ACTIVE.
 * @throws DeploymentError if the engine refuses the stream or it does not become ACTIVE
 */
export async function createStream(kinesis: KinesisClient, plan: StreamPlan): Promise<void> {
  try {
    await kinesis.send(
      new CreateStreamCommand({ StreamName: plan.streamName, ShardCount: plan.shardCount }),
    );
  } catch (error) {
    if ((error as Error).name !== 'ResourceInUseException') {
      throw new DeploymentError(
        `cannot create stream ${plan.streamName}`,
        plan.stack,
        plan.logicalId,
        {
          cause: error,
        },
      );
    }
  }
  await waitUntil(
    async () => {
      const { StreamDescriptionSummary: summary } = await kinesis.send(
        new DescribeStreamSummaryCommand({ StreamName: plan.streamName }),
      );
      return summary?.StreamStatus === 'ACTIVE' || summary?.StreamStatus === 'UPDATING';
    },
    () =>
      new DeploymentError(
        `stream ${plan.streamName} did not become ACTIVE`,
        plan.stack,
        plan.logicalId,
      ),
  );
}
