import type { ResourceEnvironment } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as sqs from 'aws-cdk-lib/aws-sqs';

/**
 * One way a principal uses a resource: the exact actions it calls on the resource and, when the resource is
 * encrypted with a customer managed key, the exact actions the resource's service then calls on the key
 * with the principal's credentials.
 */
export interface Access {
  /** The service that calls KMS on the principal's behalf (the `kms:ViaService` prefix). */
  readonly service: 'kinesis' | 'sqs' | 'dynamodb';
  /** Actions on the resource. */
  readonly actions: readonly string[];
  /** Actions on its customer managed key. */
  readonly keyActions: readonly string[];
}

/**
 * What shardflow's principals do with streams and queues, and nothing more: no action is a wildcard, none
 * comes from a CDK `grant*` helper (whose key grants add `kms:ReEncrypt*` and `kms:GenerateDataKey*`).
 */
export const ACCESS = {
  /**
   * The Kinesis event source mapping polls the stream with the function's role, and the windowed
   * handler's tail probe reads it. These are the permissions Lambda's documentation lists for a
   * Kinesis mapping ("Process Amazon Kinesis Data Streams records with Lambda"), including
   * `SubscribeToShard` although shardflow uses no enhanced fan-out consumer: Lambda may check the
   * list when it creates the mapping. A consumer of a stream encrypted with a customer key needs
   * `kms:Decrypt`.
   */
  consumeStream: {
    service: 'kinesis',
    actions: [
      'kinesis:DescribeStream',
      'kinesis:DescribeStreamSummary',
      'kinesis:ListShards',
      'kinesis:GetShardIterator',
      'kinesis:GetRecords',
      'kinesis:SubscribeToShard',
    ],
    keyActions: ['kms:Decrypt'],
  },
  /** The sweeper's tail probe (`KinesisTailProbe`): one iterator and one `GetRecords` per silent shard. */
  probeStream: {
    service: 'kinesis',
    // ListShards: the open shards and their parents (a split's unreported children hold the watermark).
    actions: ['kinesis:ListShards', 'kinesis:GetShardIterator', 'kinesis:GetRecords'],
    keyActions: ['kms:Decrypt'],
  },
  /**
   * What a person (`shardflow tail <pipeline>-failures`) needs to read a failure stream: list its shards,
   * one iterator per shard, `GetRecords` (the read access of Kinesis' resource-policy examples), and
   * `kms:Decrypt` on a customer key.
   */
  readFailures: {
    service: 'kinesis',
    actions: [
      'kinesis:DescribeStreamSummary',
      'kinesis:ListShards',
      'kinesis:GetShardIterator',
      'kinesis:GetRecords',
    ],
    keyActions: ['kms:Decrypt'],
  },
  /** `KinesisSink` calls `PutRecords` only; a producer to a customer-key stream needs `kms:GenerateDataKey`. */
  writeStream: {
    service: 'kinesis',
    actions: ['kinesis:PutRecords'],
    keyActions: ['kms:GenerateDataKey'],
  },
  /**
   * The event source mapping sends the metadata of a discarded batch to its on-failure queue with the
   * function's role; a producer to a customer-key queue needs `kms:GenerateDataKey` and `kms:Decrypt`.
   */
  sendToQueue: {
    service: 'sqs',
    actions: ['sqs:SendMessage'],
    keyActions: ['kms:GenerateDataKey', 'kms:Decrypt'],
  },
} as const satisfies Record<string, Access>;

/**
 * The actions that reach a stream's records: an iterator, then the records. The failure streams' resource
 * policy denies them to everyone but the named readers. Enhanced fan-out (`RegisterStreamConsumer`, then
 * `SubscribeToShard` on the consumer) is not in the list: a stream's resource policy does not accept
 * `SubscribeToShard` (it is authorized on the consumer; aws-cdk-lib filters it out of stream policies
 * for that reason), so only a customer key gates that path (see `failureStreamReaders`).
 */
export const RECORD_READ_ACTIONS = ['kinesis:GetShardIterator', 'kinesis:GetRecords'] as const;

/**
 * What a principal reading and writing a table encrypted with a customer key gets on that key. DynamoDB
 * caches the table key and decrypts it with the caller's credentials (`kms:Decrypt`); `Encrypt` and
 * `GenerateDataKey` are kept, as exact actions, until a deployment with a key shows they are unused.
 */
export const STATE_KEY_ACTIONS = ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'] as const;

/** A resource to grant {@link Access} to: its ARNs, where it lives, and its customer key if any. */
export interface GrantTarget {
  /** The ARNs the actions apply to (a table and its index, a stream, a queue). */
  readonly resourceArns: readonly string[];
  /** Account and region of the resource: its service calls KMS in that region. */
  readonly env: ResourceEnvironment;
  /**
   * Customer managed key of the resource.
   * @default - none: the AWS managed key, which needs no `kms:` grant
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * Conditions that narrow the grant to part of the resource (`dynamodb:LeadingKeys`: some partitions of a
   * table). They go on the statement of the resource's actions only, not on the key's.
   * @default - none: the whole resource
   */
  readonly conditions?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}

/**
 * Grants `access.actions` on the target's ARNs (under the target's conditions) and, with a customer key,
 * `access.keyActions` on that key's ARN only, and only through the resource's service in its region
 * (`kms:ViaService`): the role cannot use the key directly.
 *
 * @example
 * grantAccess(handler, targetOf(queue), ACCESS.sendToQueue);
 */
export function grantAccess(
  grantee: iam.IGrantable,
  target: GrantTarget,
  access: Access,
): iam.Grant {
  const grant = iam.Grant.addToPrincipal({
    grantee,
    actions: [...access.actions],
    resourceArns: [...target.resourceArns],
    ...(target.conditions ? { conditions: { ...target.conditions } } : {}),
  });
  if (target.encryptionKey === undefined) {
    return grant;
  }
  const keyGrant = iam.Grant.addToPrincipal({
    grantee,
    actions: [...access.keyActions],
    resourceArns: [target.encryptionKey.keyArn],
    conditions: {
      StringEquals: { 'kms:ViaService': `${access.service}.${target.env.region}.amazonaws.com` },
    },
  });
  return grant.combine(keyGrant);
}

/** The {@link GrantTarget} of a Kinesis stream or an SQS queue: its ARN, where it lives, its customer key. */
export function targetOf(resource: kinesis.IStream | sqs.IQueue): GrantTarget {
  return 'streamArn' in resource
    ? {
        resourceArns: [resource.streamArn],
        env: resource.env,
        encryptionKey: resource.encryptionKey,
      }
    : {
        resourceArns: [resource.queueArn],
        env: resource.env,
        encryptionKey: resource.encryptionMasterKey,
      };
}
