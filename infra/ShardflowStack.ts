import * as path from 'node:path';
import {
  Annotations,
  Aws,
  CfnOutput,
  type Duration,
  RemovalPolicy,
  Stack,
  type StackProps,
} from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import { failureStreamName } from './constants';
import { discoverPipelines } from './discoverPipelines';
import { createLogicalStream, LOGICAL_NAME_METADATA } from './logicalStream';
import { PipelineDashboard } from './PipelineDashboard';
import { PipelineSweeper } from './PipelineSweeper';
import { StateTable } from './StateTable';
import { StreamPipeline } from './StreamPipeline';
import { STREAM_DEFAULTS } from './stream-pipeline-defaults';
import type { PipelineEntry } from './types';
import { pascalCase } from './validation';

export { LOGICAL_NAME_METADATA };

/** Properties of the {@link ShardflowStack}. */
export interface ShardflowStackProps extends StackProps {
  /**
   * The pipelines to deploy.
   * @default - every pipeline of functions/pipelines/ that has a handler functions/handlers/<name>.ts
   */
  readonly pipelines?: readonly PipelineEntry[];
  /**
   * Shards per stream, by logical stream name (`clicks`, `page-views-failures`).
   * @default - 2 for input and output streams, 1 for failure streams
   */
  readonly shardCounts?: Readonly<Record<string, number>>;
  /**
   * Entry file of the sweeper (deployed when any pipeline is windowed).
   * @default - functions/handlers/sweeper.ts
   */
  readonly sweeperEntry?: string;
  /**
   * Customer managed key for streams, the state table and the on-failure queues.
   * @default - AWS managed keys and SQS managed encryption
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * What happens to streams, the state table and log groups when they leave the stack.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * How long the failure streams keep records (see {@link StreamPipelineProps.failureStreamRetention}).
   * @default Duration.days(7)
   */
  readonly failureStreamRetention?: Duration;
  /**
   * Customer managed key for the failure streams only (see
   * {@link StreamPipelineProps.failureStreamEncryptionKey}).
   * @default - `encryptionKey`; without it the AWS managed key `aws/kinesis`
   */
  readonly failureStreamEncryptionKey?: kms.IKey;
  /**
   * ARNs of the IAM roles of this account that may read the failure streams' records (see
   * {@link StreamPipelineProps.failureStreamReaders}). The roles are imported, not changed: the stack only
   * exempts them from the failure streams' resource policies, so they read with their own permissions
   * (`AmazonKinesisReadOnlyAccess`, and `kms:Decrypt` on a customer key).
   * @default - none: nobody reads the failure streams' records
   */
  readonly failureStreamReaderRoleArns?: readonly string[];
}

const PROJECT_ROOT = path.resolve(__dirname, '..');

/**
 * All shardflow pipelines of this project in one stack: their streams (each with its logical name as
 * CloudFormation metadata and in a stack output, so `shardflow send clicks` resolves it both on the
 * embedded AWS and on a real account), one state table and one sweeper shared by the windowed pipelines,
 * and one dashboard.
 */
export class ShardflowStack extends Stack {
  /** The deployed pipelines, by name. */
  public readonly pipelines: ReadonlyMap<string, StreamPipeline>;
  /** The dashboard of every pipeline. */
  public readonly dashboard: PipelineDashboard;
  private readonly streams = new Map<string, kinesis.Stream>();
  private readonly shardCounts: Readonly<Record<string, number>>;
  private readonly encryptionKey?: kms.IKey;
  private readonly removalPolicy: RemovalPolicy;
  private readonly failureStreamRetention?: Duration;
  private readonly failureStreamEncryptionKey?: kms.IKey;

  public constructor(scope: Construct, id: string, props: ShardflowStackProps = {}) {
    super(scope, id, props);
    this.shardCounts = props.shardCounts ?? {};
    this.encryptionKey = props.encryptionKey;
    this.removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.failureStreamRetention = props.failureStreamRetention;
    this.failureStreamEncryptionKey = props.failureStreamEncryptionKey ?? props.encryptionKey;
    // Imported immutable: the stack names the roles in the failure streams' policies, never edits them.
    const failureStreamReaders = (props.failureStreamReaderRoleArns ?? []).map((arn, i) =>
      iam.Role.fromRoleArn(this, `FailureStreamReader${i}`, arn, { mutable: false }),
    );
    let entries = props.pipelines;
    if (entries === undefined) {
      const discovered = discoverPipelines(PROJECT_ROOT);
      for (const name of discovered.withoutHandler) {
        Annotations.of(this).addWarningV2(
          'shardflow:pipelineWithoutHandler',
          `pipeline ${name} is not deployed: functions/handlers/${name}.ts does not exist`,
        );
      }
      entries = discovered.pipelines;
    }

    this.dashboard = new PipelineDashboard(this, 'Dashboard', { dashboardName: this.stackName });
    let state: StateTable | undefined;
    let sweeper: PipelineSweeper | undefined;
    const windowed: string[] = [];
    const pipelines = new Map<string, StreamPipeline>();
    for (const { definition, entry } of entries) {
      const config = definition.config;
      if (config.kind === 'windowed') {
        state ??= new StateTable(this, 'State', {
          encryptionKey: this.encryptionKey,
          removalPolicy: this.removalPolicy,
        });
        sweeper ??= new PipelineSweeper(this, 'Sweeper', {
          entry: props.sweeperEntry ?? path.join(PROJECT_ROOT, 'functions/handlers/sweeper.ts'),
          stateTable: state.table,
          removalPolicy: this.removalPolicy,
        });
        windowed.push(config.name);
      }
      const pipeline = new StreamPipeline(this, pascalCase(config.name), {
        definition,
        entry,
        inputStream: this.stream(config.input.stream),
        outputStreams: Object.fromEntries(config.outputs.map((name) => [name, this.stream(name)])),
        failureStream: this.failureStream(failureStreamName(config.name)),
        failureStreamRetention: this.failureStreamRetention,
        failureStreamReaders,
        stateTable: state?.table,
        sweeper,
        encryptionKey: this.encryptionKey,
        removalPolicy: this.removalPolicy,
      });
      pipelines.set(config.name, pipeline);
      this.dashboard.addPipeline(pipeline);
    }
    if (sweeper) {
      this.dashboard.addSweeper(sweeper, windowed);
    }
    if (state) {
      new CfnOutput(this, 'StateTableName', {
        value: state.table.tableName,
        description: 'shardflow state table of the windowed pipelines',
      });
    }
    new CfnOutput(this, 'DashboardUrl', {
      value: `https://${Aws.REGION}.console.aws.amazon.com/cloudwatch/home?region=${Aws.REGION}#dashboards/dashboard/${this.stackName}`,
      description: 'shardflow CloudWatch dashboard',
    });
    this.pipelines = pipelines;
  }

  /** The stream with this logical name, created on first use. */
  public stream(logicalName: string, defaultShardCount?: number): kinesis.Stream {
    const existing = this.streams.get(logicalName);
    if (existing) {
      return existing;
    }
    const stream = createLogicalStream(this, logicalName, {
      shardCount: this.shardCounts[logicalName] ?? defaultShardCount ?? STREAM_DEFAULTS.shardCount,
      encryptionKey: this.encryptionKey,
      removalPolicy: this.removalPolicy,
    });
    this.streams.set(logicalName, stream);
    return stream;
  }

  /** A pipeline's failure stream: 1 shard unless `shardCounts` says otherwise, its retention and key. */
  private failureStream(logicalName: string): kinesis.Stream {
    const existing = this.streams.get(logicalName);
    if (existing) {
      return existing;
    }
    const stream = createLogicalStream(this, logicalName, {
      shardCount: this.shardCounts[logicalName] ?? STREAM_DEFAULTS.failureShardCount,
      retentionPeriod: this.failureStreamRetention ?? STREAM_DEFAULTS.failureRetentionPeriod,
      encryptionKey: this.failureStreamEncryptionKey,
      removalPolicy: this.removalPolicy,
    });
    this.streams.set(logicalName, stream);
    return stream;
  }
}
