import * as path from 'node:path';
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type { Construct } from 'constructs';
import { StreamPipeline } from './StreamPipeline';
import { STREAM_DEFAULTS } from './stream-pipeline-defaults';

/** The metadata key that names a resource the way users and the CLI refer to it (`numbers`). */
export const LOGICAL_NAME_METADATA = 'shardflow:name';

/** Properties of the {@link ShardflowStack}. */
export interface ShardflowStackProps extends StackProps {
  /**
   * Shards per stream, by logical stream name.
   * @default - 2 for every stream
   */
  readonly shardCounts?: Readonly<Record<string, number>>;
}

const PROJECT_ROOT = path.resolve(__dirname, '..');

/**
 * All shardflow pipelines of this project in one stack, with their streams. Each stream carries its logical
 * name as CloudFormation metadata and in a stack output, so `shardflow send numbers` resolves it both on
 * the embedded AWS and on a real account.
 */
export class ShardflowStack extends Stack {
  private readonly streams = new Map<string, kinesis.Stream>();
  private readonly shardCounts: Readonly<Record<string, number>>;

  public constructor(scope: Construct, id: string, props: ShardflowStackProps = {}) {
    super(scope, id, props);
    this.shardCounts = props.shardCounts ?? {};

    new StreamPipeline(this, 'Enrich', {
      pipelineName: 'enrich',
      entry: path.join(PROJECT_ROOT, 'functions/handlers/enrich.ts'),
      inputStream: this.stream('numbers'),
      outputStreams: { 'numbers-doubled': this.stream('numbers-doubled') },
    });
  }

  /** The stream with this logical name, created on first use. */
  public stream(logicalName: string): kinesis.Stream {
    const existing = this.streams.get(logicalName);
    if (existing) {
      return existing;
    }
    const id = pascalCase(logicalName);
    const stream = new kinesis.Stream(this, `${id}Stream`, {
      shardCount: this.shardCounts[logicalName] ?? STREAM_DEFAULTS.shardCount,
      retentionPeriod: STREAM_DEFAULTS.retentionPeriod,
      encryption: kinesis.StreamEncryption.MANAGED,
    });
    (stream.node.defaultChild as kinesis.CfnStream).addMetadata(LOGICAL_NAME_METADATA, logicalName);
    new CfnOutput(this, `${id}StreamName`, {
      value: stream.streamName,
      description: `${LOGICAL_NAME_METADATA}=${logicalName}`,
    });
    this.streams.set(logicalName, stream);
    return stream;
  }
}

function pascalCase(name: string): string {
  return name
    .split(/[^a-zA-Z0-9]/)
    .filter((part) => part.length > 0)
    .map((part) => part[0]?.toUpperCase() + part.slice(1))
    .join('');
}
