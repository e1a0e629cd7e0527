import { CfnOutput, type Duration, type RemovalPolicy } from 'aws-cdk-lib';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import { acknowledge } from './acknowledge';
import { LIMITS, STREAM_DEFAULTS } from './stream-pipeline-defaults';
import { pascalCase, validateRange } from './validation';

/** The metadata key that names a resource the way users and the CLI refer to it (`numbers`). */
export const LOGICAL_NAME_METADATA = 'shardflow:name';

/** Properties of {@link createLogicalStream}. */
export interface LogicalStreamProps {
  /**
   * Shards of the stream.
   * @default 2
   */
  readonly shardCount?: number;
  /**
   * How long records stay readable: whole hours from 24 hours to 365 days.
   * @default Duration.hours(24)
   */
  readonly retentionPeriod?: Duration;
  /**
   * Customer managed key; without one the stream is encrypted with the AWS managed key `aws/kinesis`.
   * @default - AWS managed key
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * What happens to the stream when it leaves the stack.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * A Kinesis stream known by its logical name (`clicks`): encrypted at rest, with the name as CloudFormation
 * metadata `shardflow:name` and in a stack output `<Name>StreamName` whose description is
 * `shardflow:name=<name>`. The local loader and the CLI (on AWS) resolve logical names through both.
 *
 * @example
 * const clicks = createLogicalStream(stack, 'clicks', { shardCount: 4 });
 */
export function createLogicalStream(
  scope: Construct,
  logicalName: string,
  props: LogicalStreamProps = {},
): kinesis.Stream {
  const shardCount = props.shardCount ?? STREAM_DEFAULTS.shardCount;
  const retentionPeriod = props.retentionPeriod ?? STREAM_DEFAULTS.retentionPeriod;
  validateRange(`shardCount of stream ${logicalName}`, shardCount, LIMITS.shardCount);
  validateRange(
    `retention (hours) of stream ${logicalName}`,
    retentionPeriod.toHours({ integral: false }),
    LIMITS.streamRetentionHours,
  );
  const id = pascalCase(logicalName);
  const stream = new kinesis.Stream(scope, `${id}Stream`, {
    shardCount,
    retentionPeriod,
    // AWS managed key unless the user brings one: KMS-backed, CloudTrail-audited, no key to administer,
    // and what cdk-nag AwsSolutions-KDS3 recommends (customer keys cost per producer/consumer call).
    ...(props.encryptionKey
      ? { encryption: kinesis.StreamEncryption.KMS, encryptionKey: props.encryptionKey }
      : { encryption: kinesis.StreamEncryption.MANAGED }),
    ...(props.removalPolicy ? { removalPolicy: props.removalPolicy } : {}),
  });
  if (props.encryptionKey) {
    acknowledge(
      stream,
      'AwsSolutions-KDS3',
      'The user passed a customer managed key (encryptionKey) on purpose, for key rotation control or a key policy as a second gate; its KMS request cost is the accepted price.',
    );
  }
  (stream.node.defaultChild as kinesis.CfnStream).addMetadata(LOGICAL_NAME_METADATA, logicalName);
  new CfnOutput(scope, `${id}StreamName`, {
    value: stream.streamName,
    description: `${LOGICAL_NAME_METADATA}=${logicalName}`,
  });
  return stream;
}
