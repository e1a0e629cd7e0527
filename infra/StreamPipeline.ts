import * as path from 'node:path';
import { Annotations, Duration, Names, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  FAILURE_STREAM_VARIABLE,
  outputStreamVariable,
  STARTING_POSITION_VARIABLE,
  STATE_TABLE_VARIABLE,
  WINDOW_KIND_VARIABLE,
} from '#commons/environment';
import { METRIC, METRICS_NAMESPACE } from '#commons/metrics';
import type { WindowedPipelineConfig } from '#runtime/types';
import { acknowledge } from './acknowledge';
import { failureStreamName } from './constants';
import { ACCESS, grantAccess, RECORD_READ_ACTIONS, targetOf } from './grants';
import { createLogicalStream } from './logicalStream';
import { PipelineSweeper } from './PipelineSweeper';
import { createPipelineFunction } from './pipelineFunction';
import { grantStateAccess, pipelinePartitions, StateTable, stateActionsFor } from './StateTable';
import {
  ALARM_DEFAULTS,
  EVENT_SOURCE_DEFAULTS,
  FUNCTION_DEFAULTS,
  LIMITS,
  QUEUE_DEFAULTS,
  STREAM_DEFAULTS,
} from './stream-pipeline-defaults';
import type { PipelineDefinitionConfig } from './types';
import { validatePipelineName, validateRange } from './validation';
import { windowedMappingValidation } from './windowedMappingValidation';

/** Properties of a {@link StreamPipeline}. */
export interface StreamPipelineProps {
  /**
   * The pipeline definition (`pipeline('page-views')…to(…)`). Only its plain-JSON `config` is read: the
   * streams, whether it is windowed, the window sizes and the lateness.
   */
  readonly definition: PipelineDefinitionConfig;
  /** Path of the Lambda handler's TypeScript entry file (`functions/handlers/<name>.ts`). */
  readonly entry: string;
  /**
   * The stream the pipeline reads.
   * @default - a new stream named by the definition's input (`clicks`), with its logical name as metadata
   *   and in a stack output
   */
  readonly inputStream?: kinesis.IStream;
  /**
   * The streams the pipeline writes, by logical name (every output of the definition, no other); each is
   * passed to the handler as `OUTPUT_STREAM_<NAME>`.
   * @default - a new stream for each output of the definition
   */
  readonly outputStreams?: Readonly<Record<string, kinesis.IStream>>;
  /**
   * Where invalid and LATE records go, passed to the handler as `SHARDFLOW_FAILURE_STREAM`. Whether
   * created or given, it gets the resource policy described at {@link failureStreamReaders} (a stream
   * imported from outside the app cannot: synthesis then warns).
   * @default - a new stream `<pipeline>-failures` with 1 shard, kept `failureStreamRetention`, encrypted
   *   with `failureStreamEncryptionKey`
   */
  readonly failureStream?: kinesis.IStream;
  /**
   * How long the failure stream this construct creates keeps records: whole hours from 24 hours to 365
   * days. Ignored when `failureStream` is given. Past the input stream's 24 h, the failure stream holds the
   * only copy of a refused record; 7 days covers a weekend and the investigation after it, and costs the
   * extended-retention rate (~$0.02 per shard-hour, about $14.60 a month for the 1-shard stream, the same
   * for any period from 25 hours to 7 days). `Duration.hours(24)` avoids that cost and keeps raw payloads
   * the least time.
   * @default Duration.days(7)
   */
  readonly failureStreamRetention?: Duration;
  /**
   * Customer managed key for the failure stream this construct creates, the stream that holds raw
   * payloads (personal data). With a customer key, reading its records needs `kms:Decrypt` on that key as
   * well, which the key policy controls: a principal with only `AmazonKinesisReadOnlyAccess` can no longer
   * read them through the `aws/kinesis` key every principal of the account may use. Costs $1 a month per
   * key, plus the KMS requests Kinesis makes for its producers and consumers.
   * Ignored when `failureStream` is given.
   * @default - `encryptionKey`; without it the AWS managed key `aws/kinesis`
   */
  readonly failureStreamEncryptionKey?: kms.IKey;
  /**
   * The IAM roles of this account that may read the failure stream's records (an operator or on-call
   * role, for `shardflow tail <pipeline>-failures`). Each is granted `DescribeStreamSummary`, `ListShards`,
   * `GetShardIterator` and `GetRecords` on it (and `kms:Decrypt` through Kinesis with a customer key). The
   * failure stream's resource policy denies `GetShardIterator` and `GetRecords` to every other principal
   * of the account, whatever its own policies allow (`AmazonKinesisReadOnlyAccess`, administrators):
   * neither the handler nor the sweeper reads the failure stream (the handler only puts records), so
   * neither is exempted. A role is recognized by its full ARN (`aws:PrincipalArn`, path included).
   * Pipelines sharing one failure stream share its readers (the union of theirs).
   * Not covered by the stream's policy: enhanced fan-out. A principal allowed
   * `kinesis:RegisterStreamConsumer` and `kinesis:SubscribeToShard` by its own policies (an
   * administrator; `AmazonKinesisReadOnlyAccess` has neither) can read through a consumer it registers,
   * because `SubscribeToShard` is authorized on the consumer, and a stream's resource policy cannot name
   * it (Kinesis accepts neither action there). Against that, give a customer key
   * (`failureStreamEncryptionKey`) whose key policy lets only writers and readers use it: every read
   * path needs `kms:Decrypt` on it.
   * @default - none: nobody reads the failure stream's records until a role is named here (or an
   *   administrator changes its resource policy, which CloudTrail records)
   */
  readonly failureStreamReaders?: readonly iam.IRole[];
  /**
   * Shards of each input and output stream this construct creates.
   * @default 2
   */
  readonly shardCount?: number;
  /**
   * The state table of a windowed pipeline (layout of `functions/state` `TABLE_KEYS`); keys are
   * pipeline-prefixed, so several pipelines can share one. Ignored for stateless pipelines.
   * @default - a new {@link StateTable} for this pipeline
   */
  readonly stateTable?: dynamodb.ITable;
  /**
   * The sweeper that closes this windowed pipeline's windows when its shards are idle; it must read
   * `stateTable`. Ignored for stateless pipelines.
   * @default - a new {@link PipelineSweeper} running `sweeperEntry`
   */
  readonly sweeper?: PipelineSweeper;
  /**
   * Entry file of the sweeper this construct creates when no `sweeper` is given.
   * @default - `sweeper.ts` next to `entry`
   */
  readonly sweeperEntry?: string;
  /**
   * Customer managed key for the streams, table and queue this construct creates.
   * @default - AWS managed keys (`aws/kinesis`, `aws/dynamodb`) and SQS managed encryption
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * What happens to the streams, table and log groups this construct creates when they leave the stack.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
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
   * Let the handler report the lowest failed sequence number instead of failing the whole batch.
   * @default true
   */
  readonly reportBatchItemFailures?: boolean;
  /**
   * Concurrent batches per shard. Windowed pipelines need 1: their state is fenced per shard, so
   * synthesis fails if any event source mapping invokes their handler with another factor.
   * @default 1
   */
  readonly parallelizationFactor?: number;
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
   * Function runtime (Node.js 22 or newer).
   * @default lambda.Runtime.NODEJS_24_X
   */
  readonly runtime?: lambda.Runtime;
  /**
   * X-Ray tracing of the function.
   * @default lambda.Tracing.ACTIVE
   */
  readonly tracing?: lambda.Tracing;
  /**
   * Powertools log level (`POWERTOOLS_LOG_LEVEL`).
   * @default 'INFO'
   */
  readonly logLevel?: string;
  /**
   * Extra environment variables for the handler.
   * @default - none
   */
  readonly environment?: Readonly<Record<string, string>>;
  /**
   * Iterator age above which the pipeline alarms (for 5 minutes in a row).
   * @default Duration.minutes(1)
   */
  readonly iteratorAgeAlarmThreshold?: Duration;
  /**
   * PutRecords retries per minute above which the pipeline alarms (3 minutes in a row).
   * @default 1
   */
  readonly putRecordsRetriesAlarmThreshold?: number;
}

/**
 * One shardflow pipeline deployed from its definition: the input, output and failure streams (created or
 * given), for windowed pipelines the state table and the sweeper, the handler reading the input stream
 * through an event source mapping with shardflow's defaults, an encrypted on-failure queue, least-privilege
 * grants (in the state table, only the pipeline's own partitions), a failure stream whose records only
 * named roles may read, and alarms on iterator age, errors, throttles, the on-failure queue and output
 * retries.
 *
 * @example
 * new StreamPipeline(this, 'PageViews', {
 *   definition: pageViews,
 *   entry: 'functions/handlers/page-views.ts',
 * });
 */
export class StreamPipeline extends Construct {
  /** The pipeline's name. */
  public readonly pipelineName: string;
  /** Whether the pipeline keeps window state. */
  public readonly windowed: boolean;
  /** The pipeline's handler. */
  public readonly handler: nodejs.NodejsFunction;
  /** The stream the pipeline reads. */
  public readonly inputStream: kinesis.IStream;
  /** The streams the pipeline writes, by logical name. */
  public readonly outputStreams: Readonly<Record<string, kinesis.IStream>>;
  /** Where invalid and LATE records go. */
  public readonly failureStream: kinesis.IStream;
  /** Receives the batch metadata of records that exhausted their retries or aged out. */
  public readonly failureQueue: sqs.Queue;
  /** The state table (windowed pipelines only). */
  public readonly stateTable?: dynamodb.ITable;
  /** The sweeper (windowed pipelines only). */
  public readonly sweeper?: PipelineSweeper;
  /** The pipeline's alarms; add actions to notify someone. */
  public readonly alarms: readonly cloudwatch.Alarm[];

  public constructor(scope: Construct, id: string, props: StreamPipelineProps) {
    super(scope, id);
    const config = props.definition.config;
    this.pipelineName = config.name;
    this.windowed = config.kind === 'windowed';
    const batchSize = props.batchSize ?? EVENT_SOURCE_DEFAULTS.batchSize;
    const retryAttempts = props.retryAttempts ?? EVENT_SOURCE_DEFAULTS.retryAttempts;
    const maxRecordAge = props.maxRecordAge ?? EVENT_SOURCE_DEFAULTS.maxRecordAge;
    const maxBatchingWindow = props.maxBatchingWindow ?? EVENT_SOURCE_DEFAULTS.maxBatchingWindow;
    const parallelizationFactor =
      props.parallelizationFactor ?? EVENT_SOURCE_DEFAULTS.parallelizationFactor;
    const timeout = props.timeout ?? FUNCTION_DEFAULTS.timeout;
    const memorySize = props.memorySize ?? FUNCTION_DEFAULTS.memorySize;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const failureStreamRetention =
      props.failureStreamRetention ?? STREAM_DEFAULTS.failureRetentionPeriod;
    validatePipelineName(config.name);
    validateRange('batchSize', batchSize, LIMITS.batchSize);
    validateRange('retryAttempts', retryAttempts, LIMITS.retryAttempts);
    validateRange('maxRecordAge (seconds)', maxRecordAge.toSeconds(), LIMITS.maxRecordAgeSeconds);
    validateRange(
      'maxBatchingWindow (seconds)',
      maxBatchingWindow.toSeconds(),
      LIMITS.maxBatchingWindowSeconds,
    );
    validateRange('parallelizationFactor', parallelizationFactor, LIMITS.parallelizationFactor);
    validateRange('timeout (seconds)', timeout.toSeconds(), LIMITS.timeoutSeconds);
    validateRange('memorySize', memorySize, LIMITS.memorySize);
    validateRange(
      'failureStreamRetention (hours)',
      failureStreamRetention.toHours({ integral: false }),
      LIMITS.streamRetentionHours,
    );
    if (config.kind === 'windowed') {
      validateWindow(config, maxRecordAge);
      if (!Token.isUnresolved(parallelizationFactor) && parallelizationFactor !== 1) {
        throw new Error(
          `parallelizationFactor must be 1 for windowed pipeline ${config.name}, got ${parallelizationFactor}: ` +
            'its window state is fenced per shard, and concurrent batches of one shard would race on the fences',
        );
      }
    }

    const created = {
      shardCount: props.shardCount,
      encryptionKey: props.encryptionKey,
      removalPolicy,
    };
    this.inputStream = props.inputStream ?? createLogicalStream(this, config.input.stream, created);
    this.outputStreams = props.outputStreams ?? createOutputStreams(this, config.outputs, created);
    validateOutputs(config.name, config.outputs, this.outputStreams);
    this.failureStream =
      props.failureStream ??
      createLogicalStream(this, failureStreamName(config.name), {
        ...created,
        shardCount: STREAM_DEFAULTS.failureShardCount,
        retentionPeriod: failureStreamRetention,
        encryptionKey: props.failureStreamEncryptionKey ?? props.encryptionKey,
      });
    this.restrictFailureStreamReads(props.failureStreamReaders ?? []);

    if (config.kind === 'windowed') {
      this.stateTable =
        props.stateTable ??
        new StateTable(this, 'State', { encryptionKey: props.encryptionKey, removalPolicy }).table;
      this.sweeper =
        props.sweeper ??
        new PipelineSweeper(this, 'Sweeper', {
          entry: props.sweeperEntry ?? path.join(path.dirname(props.entry), 'sweeper.ts'),
          stateTable: this.stateTable,
          removalPolicy,
        });
    }

    this.failureQueue = new sqs.Queue(this, 'FailureQueue', {
      ...(props.encryptionKey
        ? { encryption: sqs.QueueEncryption.KMS, encryptionMasterKey: props.encryptionKey }
        : { encryption: sqs.QueueEncryption.SQS_MANAGED }),
      enforceSSL: true,
      retentionPeriod: QUEUE_DEFAULTS.retentionPeriod,
    });
    const onFailureOnly =
      'This queue is itself the on-failure destination of the Kinesis event source mapping: it holds the metadata of batches shardflow gave up on, for a person to inspect and replay from the stream; nothing consumes it, so there is no failure to redrive.';
    acknowledge(this.failureQueue, 'AwsSolutions-SQS3', onFailureOnly);
    acknowledge(this.failureQueue, 'Serverless-SQSRedrivePolicy', onFailureOnly);

    const environment: Record<string, string> = {
      SHARDFLOW_PIPELINE: config.name,
      [FAILURE_STREAM_VARIABLE]: this.failureStream.streamName,
    };
    for (const [name, stream] of Object.entries(this.outputStreams)) {
      environment[outputStreamVariable(name)] = stream.streamName;
    }
    if (this.stateTable) {
      environment[STATE_TABLE_VARIABLE] = this.stateTable.tableName;
    }
    const startingPosition = props.startingPosition ?? EVENT_SOURCE_DEFAULTS.startingPosition;
    // The handler holds the watermark for open shards that have not reported yet only when the
    // mapping delivers what they already hold.
    environment[STARTING_POSITION_VARIABLE] = startingPosition;

    this.handler = createPipelineFunction(this, {
      entry: props.entry,
      serviceName: config.name,
      description: `shardflow pipeline ${config.name}: ${config.input.stream} → ${config.outputs.join(', ')}`,
      runtime: props.runtime ?? lambda.Runtime.NODEJS_24_X,
      memorySize,
      timeout,
      tracing: props.tracing ?? lambda.Tracing.ACTIVE,
      logLevel: props.logLevel ?? FUNCTION_DEFAULTS.logLevel,
      logRetention: logs.RetentionDays.ONE_MONTH,
      removalPolicy,
      // The window kind marks the handler as windowed (last, so `environment` cannot remove it): the
      // local runtime refuses to run it with a ParallelizationFactor other than 1.
      environment: {
        ...environment,
        ...props.environment,
        ...(config.kind === 'windowed' ? { [WINDOW_KIND_VARIABLE]: config.window.kind } : {}),
      },
    });
    const syncOnly =
      'Invoked only synchronously by its Kinesis event source mapping, never asynchronously: records that exhaust their retries go to the mapping on-failure destination (the encrypted FailureQueue), where a function DLQ would never receive anything.';
    acknowledge(this.handler, 'Serverless-LambdaDLQ', syncOnly);

    // The mapping reads the input stream and sends to the on-failure queue with the function's role. It is
    // built here rather than by `KinesisEventSource` and `SqsDlq`, whose grants add wildcard KMS actions on a
    // customer key; the id is the one `KinesisEventSource` gives, so the mapping (and its shard positions)
    // stays in place.
    this.handler.addEventSourceMapping(
      `KinesisEventSource:${Names.nodeUniqueId(this.inputStream.node)}`,
      {
        eventSourceArn: this.inputStream.streamArn,
        startingPosition,
        batchSize,
        maxBatchingWindow,
        bisectBatchOnError: props.bisectBatchOnError ?? EVENT_SOURCE_DEFAULTS.bisectBatchOnError,
        retryAttempts,
        maxRecordAge,
        reportBatchItemFailures:
          props.reportBatchItemFailures ?? EVENT_SOURCE_DEFAULTS.reportBatchItemFailures,
        parallelizationFactor,
        onFailure: { bind: () => ({ destination: this.failureQueue.queueArn }) },
      },
    );
    grantAccess(this.handler, targetOf(this.inputStream), ACCESS.consumeStream);
    grantAccess(this.handler, targetOf(this.failureQueue), ACCESS.sendToQueue);
    for (const stream of [...Object.values(this.outputStreams), this.failureStream]) {
      grantAccess(this.handler, targetOf(stream), ACCESS.writeStream);
    }
    if (config.kind === 'windowed') {
      // The constructor check above sees only a literal prop; this one sees every mapping of the
      // synthesized app that invokes the handler, tokens resolved.
      this.node.addValidation(windowedMappingValidation(config.name, this.handler));
    }
    if (config.kind === 'windowed' && this.stateTable && this.sweeper) {
      // Only this pipeline's partitions of the shared table (and of gsi1): `<pipeline>#*`.
      grantStateAccess(
        this.stateTable,
        this.handler,
        [pipelinePartitions(config.name)],
        stateActionsFor(config.window.kind),
      );
      this.sweeper.addPipeline(
        config.name,
        config.window.kind,
        this.stateTable,
        this.outputStreams,
        this.inputStream,
        startingPosition,
      );
    }

    this.alarms = this.createAlarms(props);
  }

  /**
   * Lets only `readers` read the failure stream's records: a statement of its resource policy denies
   * {@link RECORD_READ_ACTIONS} to every principal of the account whose ARN is not a reader's, and each
   * reader is granted {@link ACCESS.readFailures}. Kinesis resource policies accept no `*` principal, so
   * the statement names the account, which covers every principal in it. Writers are untouched
   * (`PutRecords` is not denied). A failure stream shared by several pipelines gets one statement whose
   * exemption is the union of their readers (a second statement per pipeline would deny each pipeline's
   * readers through the other's, and repeat the `Sid`).
   */
  private restrictFailureStreamReads(readers: readonly iam.IRole[]): void {
    const stream = this.failureStream;
    const existing = FAILURE_STREAM_DENIALS.get(stream);
    if (existing !== undefined) {
      existing.addReaders(readers);
    } else {
      const denial = new FailureStreamDenial(stream);
      denial.addReaders(readers);
      const result = stream.addToResourcePolicy(denial.statement);
      if (!result.statementAdded) {
        Annotations.of(this).addWarningV2(
          'shardflow:failureStreamReadable',
          `the failure stream of ${this.pipelineName} is imported, so its resource policy is not managed here: any principal of its account allowed kinesis:GetRecords can read the refused records; restrict it where the stream is defined`,
        );
      }
      FAILURE_STREAM_DENIALS.set(stream, denial);
    }
    for (const reader of readers) {
      grantAccess(reader, targetOf(stream), ACCESS.readFailures);
    }
  }

  /**
   * A metric the pipeline's handler emits (EMF, namespace `shardflow`, dimension `service` = pipeline),
   * summed per 5 minutes unless `props` say otherwise.
   */
  public metric(metricName: string, props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: METRICS_NAMESPACE,
      metricName,
      dimensionsMap: { service: this.pipelineName },
      statistic: cloudwatch.Stats.SUM,
      period: Duration.minutes(5),
      ...props,
    });
  }

  /** Age of the newest record of the last batch (Maximum per minute): how far the pipeline lags. */
  public metricIteratorAge(props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return this.handler.metric('IteratorAge', {
      statistic: cloudwatch.Stats.MAXIMUM,
      period: Duration.minutes(1),
      ...props,
    });
  }

  private createAlarms(props: StreamPipelineProps): cloudwatch.Alarm[] {
    const prefix = `${Stack.of(this).stackName}-${this.pipelineName}`;
    const alarm = (
      id: string,
      suffix: string,
      metric: cloudwatch.IMetric,
      threshold: number,
      evaluationPeriods: number,
      description: string,
    ) =>
      new cloudwatch.Alarm(this, id, {
        alarmName: `${prefix}-${suffix}`,
        alarmDescription: description,
        metric,
        threshold,
        evaluationPeriods,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    const iteratorAge = props.iteratorAgeAlarmThreshold ?? ALARM_DEFAULTS.iteratorAge;
    return [
      alarm(
        'IteratorAgeAlarm',
        'iterator-age',
        this.metricIteratorAge(),
        iteratorAge.toMilliseconds(),
        ALARM_DEFAULTS.iteratorAgeMinutes,
        `${this.pipelineName} lags its input stream by more than ${iteratorAge.toHumanString()}`,
      ),
      alarm(
        'ErrorsAlarm',
        'errors',
        this.handler.metricErrors({ period: Duration.minutes(5) }),
        ALARM_DEFAULTS.errors,
        1,
        `${this.pipelineName} handler failed a batch (it is retried, bisected, then sent to the failure queue)`,
      ),
      alarm(
        'ThrottlesAlarm',
        'throttles',
        this.handler.metricThrottles({ period: Duration.minutes(5) }),
        ALARM_DEFAULTS.throttles,
        1,
        `${this.pipelineName} handler was throttled (account or reserved concurrency)`,
      ),
      alarm(
        'FailureQueueDepthAlarm',
        'failure-queue-depth',
        this.failureQueue.metricApproximateNumberOfMessagesVisible({
          statistic: cloudwatch.Stats.MAXIMUM,
          period: Duration.minutes(5),
        }),
        ALARM_DEFAULTS.failureQueueDepth,
        1,
        `${this.pipelineName} gave up on a batch: its metadata is in the on-failure queue`,
      ),
      alarm(
        'PutRecordsRetriesAlarm',
        'put-records-retries',
        this.metric(METRIC.PUT_RECORDS_RETRIES, { period: Duration.minutes(1) }),
        props.putRecordsRetriesAlarmThreshold ?? ALARM_DEFAULTS.putRecordsRetries,
        3,
        `${this.pipelineName} keeps retrying PutRecords on its output streams (throttled or failed records)`,
      ),
    ];
  }
}

function createOutputStreams(
  scope: Construct,
  outputs: readonly string[],
  props: Parameters<typeof createLogicalStream>[2],
): Record<string, kinesis.IStream> {
  const streams: Record<string, kinesis.IStream> = {};
  for (const output of outputs) {
    streams[output] = createLogicalStream(scope, output, props);
  }
  return streams;
}

function validateOutputs(
  pipelineName: string,
  outputs: readonly string[],
  streams: Readonly<Record<string, kinesis.IStream>>,
): void {
  for (const output of outputs) {
    if (streams[output] === undefined) {
      throw new Error(
        `outputStreams has no stream for '${output}'; pipeline ${pipelineName} writes ${outputs.join(', ')}`,
      );
    }
  }
  for (const name of Object.keys(streams)) {
    if (!outputs.includes(name)) {
      throw new Error(
        `outputStreams has '${name}', which pipeline ${pipelineName} does not write; it writes ${outputs.join(', ')}`,
      );
    }
  }
}

/** Window sizes and lateness a deployment can serve (the runtime checked their syntax already). */
function validateWindow(config: WindowedPipelineConfig, maxRecordAge: Duration): void {
  const window = config.window;
  const name = config.name;
  if (window.kind === 'session') {
    validateRange(`session gap (ms) of ${name}`, window.gapMs, LIMITS.sessionGapMs);
  } else {
    validateRange(`window size (ms) of ${name}`, window.sizeMs, LIMITS.windowSizeMs);
    validateRange(`window slide (ms) of ${name}`, window.slideMs, {
      min: LIMITS.windowSizeMs.min,
      max: window.sizeMs,
    });
  }
  const maxRecordAgeMs = maxRecordAge.toMilliseconds();
  validateRange(
    `maxOutOfOrderness (ms) of ${name} (at most maxRecordAge)`,
    config.maxOutOfOrdernessMs,
    {
      min: 0,
      max: maxRecordAgeMs,
    },
  );
}

/**
 * The one deny statement of a failure stream's resource policy, shared by every pipeline that writes to
 * the stream: the readers it exempts are the union of theirs, read when the template is synthesized.
 */
class FailureStreamDenial {
  public readonly statement: iam.PolicyStatement;
  private readonly readers = new Map<string, iam.IRole>();

  public constructor(stream: kinesis.IStream) {
    this.statement = new iam.PolicyStatement({
      sid: 'DenyRecordReadsToAllButFailureStreamReaders',
      effect: iam.Effect.DENY,
      principals: [new iam.AccountRootPrincipal()],
      actions: [...RECORD_READ_ACTIONS],
      resources: [stream.streamArn],
    });
  }

  /** Exempts `readers` too (a role named twice, by its node, counts once). */
  public addReaders(readers: readonly iam.IRole[]): void {
    for (const reader of readers) this.readers.set(reader.node.path, reader);
    if (this.readers.size === 0) return;
    this.statement.addCondition('ArnNotEquals', {
      'aws:PrincipalArn': [...this.readers.values()].map((reader) => reader.roleArn),
    });
  }
}

/** The deny statement of each failure stream that has one, by stream. */
const FAILURE_STREAM_DENIALS = new WeakMap<kinesis.IStream, FailureStreamDenial>();
