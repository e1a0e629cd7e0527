import { Duration, Token } from 'aws-cdk-lib';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { KinesisEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { outputStreamVariable } from '#commons/environment';
import { EVENT_SOURCE_DEFAULTS, FUNCTION_DEFAULTS, LIMITS } from './stream-pipeline-defaults';

/** Properties of a {@link StreamPipeline}. */
export interface StreamPipelineProps {
  /** The pipeline's name (`enrich`, `page-views`); used for the function, metrics and logs. */
  readonly pipelineName: string;
  /** Path of the Lambda handler's TypeScript entry file. */
  readonly entry: string;
  /** The stream the pipeline reads. */
  readonly inputStream: kinesis.IStream;
  /** The streams the pipeline writes, by logical name; each is passed to the handler as `OUTPUT_STREAM_<NAME>`. */
  readonly outputStreams: Readonly<Record<string, kinesis.IStream>>;
  /**
   * Records per invocation.
   * @default 500
   */
  readonly batchSize?: number;
  /**
   * How long the event source mapping gathers records before invoking.
   * @default Duration.seconds(0)
   */
  readonly maxBatchingWindow?: Duration;
  /**
   * Retries of a failing batch before its records go to the on-failure queue; -1 retries until they expire.
   * @default 10
   */
  readonly retryAttempts?: number;
  /**
   * Oldest record the mapping still sends to the function; older ones go to the on-failure queue.
   * @default Duration.days(1)
   */
  readonly maxRecordAge?: Duration;
  /**
   * Split a failing batch in two and retry each half.
   * @default true
   */
  readonly bisectBatchOnError?: boolean;
  /**
   * Where reading starts on first deployment.
   * @default lambda.StartingPosition.TRIM_HORIZON
   */
  readonly startingPosition?: lambda.StartingPosition;
  /**
   * Function timeout.
   * @default Duration.minutes(1)
   */
  readonly timeout?: Duration;
  /**
   * Function memory in MiB.
   * @default 512
   */
  readonly memorySize?: number;
  /**
   * Extra environment variables for the handler.
   * @default - none
   */
  readonly environment?: Readonly<Record<string, string>>;
}

/**
 * One shardflow pipeline deployed: the handler function reading the input stream through an event source
 * mapping with shardflow's defaults, an encrypted on-failure queue, and least-privilege grants on the
 * output streams.
 *
 * @example
 * new StreamPipeline(this, 'Enrich', {
 *   pipelineName: 'enrich',
 *   entry: 'functions/handlers/enrich.ts',
 *   inputStream: numbers,
 *   outputStreams: { 'numbers-doubled': doubled },
 * });
 */
export class StreamPipeline extends Construct {
  /** The pipeline's handler. */
  public readonly handler: nodejs.NodejsFunction;
  /** Receives the batch metadata of records that exhausted their retries or aged out. */
  public readonly failureQueue: sqs.Queue;

  public constructor(scope: Construct, id: string, props: StreamPipelineProps) {
    super(scope, id);
    const batchSize = props.batchSize ?? EVENT_SOURCE_DEFAULTS.batchSize;
    const retryAttempts = props.retryAttempts ?? EVENT_SOURCE_DEFAULTS.retryAttempts;
    const maxRecordAge = props.maxRecordAge ?? EVENT_SOURCE_DEFAULTS.maxRecordAge;
    const maxBatchingWindow = props.maxBatchingWindow ?? EVENT_SOURCE_DEFAULTS.maxBatchingWindow;
    validateRange('batchSize', batchSize, LIMITS.batchSize);
    validateRange('retryAttempts', retryAttempts, LIMITS.retryAttempts);
    validateRange('maxRecordAge (seconds)', maxRecordAge.toSeconds(), LIMITS.maxRecordAgeSeconds);
    validateRange(
      'maxBatchingWindow (seconds)',
      maxBatchingWindow.toSeconds(),
      LIMITS.maxBatchingWindowSeconds,
    );

    this.failureQueue = new sqs.Queue(this, 'FailureQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });

    const outputEnvironment: Record<string, string> = {};
    for (const [name, stream] of Object.entries(props.outputStreams)) {
      outputEnvironment[outputStreamVariable(name)] = stream.streamName;
    }

    this.handler = new nodejs.NodejsFunction(this, 'Handler', {
      entry: props.entry,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? FUNCTION_DEFAULTS.memorySize,
      timeout: props.timeout ?? FUNCTION_DEFAULTS.timeout,
      logGroup: new logs.LogGroup(this, 'Logs', { retention: logs.RetentionDays.ONE_MONTH }),
      bundling: {
        minify: true,
        sourceMap: true,
        target: 'node22',
        forceDockerBundling: false,
      },
      environment: {
        POWERTOOLS_SERVICE_NAME: props.pipelineName,
        POWERTOOLS_METRICS_NAMESPACE: 'shardflow',
        NODE_OPTIONS: '--enable-source-maps',
        SHARDFLOW_PIPELINE: props.pipelineName,
        ...outputEnvironment,
        ...props.environment,
      },
    });

    this.handler.addEventSource(
      new KinesisEventSource(props.inputStream, {
        startingPosition: props.startingPosition ?? EVENT_SOURCE_DEFAULTS.startingPosition,
        batchSize,
        maxBatchingWindow,
        bisectBatchOnError: props.bisectBatchOnError ?? EVENT_SOURCE_DEFAULTS.bisectBatchOnError,
        retryAttempts,
        maxRecordAge,
        reportBatchItemFailures: EVENT_SOURCE_DEFAULTS.reportBatchItemFailures,
        parallelizationFactor: EVENT_SOURCE_DEFAULTS.parallelizationFactor,
        onFailure: new SqsDlq(this.failureQueue),
      }),
    );
    for (const stream of Object.values(props.outputStreams)) {
      stream.grantWrite(this.handler);
    }
  }
}

function validateRange(name: string, value: number, range: { min: number; max: number }): void {
  if (Token.isUnresolved(value)) {
    return;
  }
  if (!Number.isInteger(value) || value < range.min || value > range.max) {
    throw new Error(`${name} must be an integer in ${range.min}..${range.max}, got ${value}`);
  }
}
