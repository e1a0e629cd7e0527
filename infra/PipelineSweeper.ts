import { Duration, Lazy, RemovalPolicy } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import {
  outputStreamVariable,
  STATE_TABLE_VARIABLE,
  startingPositionVariable,
} from '#commons/environment';
import { acknowledge } from './acknowledge';
import { SWEEPER_SERVICE_NAME } from './constants';
import { ACCESS, grantAccess, targetOf } from './grants';
import { createPipelineFunction } from './pipelineFunction';
import {
  grantStateAccess,
  pipelinePartitions,
  SESSION_STATE_ACTIONS,
  STATE_TABLE_ACTIONS,
} from './StateTable';
import { FUNCTION_DEFAULTS, LIMITS, SWEEPER_DEFAULTS } from './stream-pipeline-defaults';
import { validateRange } from './validation';

/** Properties of a {@link PipelineSweeper}. */
export interface PipelineSweeperProps {
  /** Path of the sweeper's TypeScript entry file (`functions/handlers/sweeper.ts`). */
  readonly entry: string;
  /** The state table every swept pipeline uses. */
  readonly stateTable: dynamodb.ITable;
  /**
   * How often the sweeper runs (EventBridge `rate(…)`), in whole minutes.
   * @default Duration.minutes(1)
   */
  readonly interval?: Duration;
  /**
   * Function memory in MiB.
   * @default 256
   */
  readonly memorySize?: number;
  /**
   * Function timeout.
   * @default Duration.minutes(1)
   */
  readonly timeout?: Duration;
  /**
   * X-Ray tracing of the function.
   * @default lambda.Tracing.ACTIVE
   */
  readonly tracing?: lambda.Tracing;
  /**
   * Runtime of the function.
   * @default lambda.Runtime.NODEJS_24_X
   */
  readonly runtime?: lambda.Runtime;
  /**
   * What happens to the log group when it leaves the stack.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The timer-based trigger of an app's windowed pipelines: one function (`createSweeperHandler` over every
 * windowed pipeline) run by an EventBridge `rate(1 minute)` rule. It advances the watermark of idle shards,
 * closes and emits due windows and repairs closes that crashed before emitting. Each windowed
 * {@link StreamPipeline} registers itself with {@link addPipeline}, which passes its output stream to the
 * function and grants the writes. The function reaches the state table only in the partitions of the
 * pipelines registered (`dynamodb:LeadingKeys` `<pipeline>#*`, one statement for the union of them), and
 * writes whole items (PutItem, DeleteItem) only in those of session-window pipelines.
 *
 * @example
 * const sweeper = new PipelineSweeper(stack, 'Sweeper', {
 *   entry: 'functions/handlers/sweeper.ts',
 *   stateTable: state.table,
 * });
 */
export class PipelineSweeper extends Construct {
  /** The sweeper function. */
  public readonly handler: nodejs.NodejsFunction;
  /** The schedule. */
  public readonly rule: events.Rule;
  /** Alarms when a sweep fails (two in a row: a single failure is repaired by the next sweep). */
  public readonly errorsAlarm: cloudwatch.Alarm;
  /** The state table it sweeps. */
  public readonly stateTable: dynamodb.ITable;
  /** The pipelines swept, in registration order. */
  private readonly pipelines = new Set<string>();
  /** The session-window pipelines among them. */
  private readonly sessionPipelines = new Set<string>();

  public constructor(scope: Construct, id: string, props: PipelineSweeperProps) {
    super(scope, id);
    const interval = props.interval ?? SWEEPER_DEFAULTS.interval;
    const timeout = props.timeout ?? SWEEPER_DEFAULTS.timeout;
    const memorySize = props.memorySize ?? SWEEPER_DEFAULTS.memorySize;
    validateRange('sweeper interval (minutes)', interval.toMinutes(), { min: 1, max: 60 });
    validateRange('sweeper timeout (seconds)', timeout.toSeconds(), LIMITS.timeoutSeconds);
    validateRange('sweeper memorySize', memorySize, LIMITS.memorySize);
    this.stateTable = props.stateTable;

    this.handler = createPipelineFunction(this, {
      entry: props.entry,
      serviceName: SWEEPER_SERVICE_NAME,
      description: 'shardflow sweeper: closes due windows of idle shards, repairs unemitted closes',
      runtime: props.runtime ?? lambda.Runtime.NODEJS_24_X,
      memorySize,
      timeout,
      tracing: props.tracing ?? lambda.Tracing.ACTIVE,
      logLevel: FUNCTION_DEFAULTS.logLevel,
      logRetention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      environment: { [STATE_TABLE_VARIABLE]: props.stateTable.tableName },
    });
    // The state grants come with the first pipeline (addPipeline): until then the sweeper has no
    // partition to reach, and a LeadingKeys condition cannot be empty.

    this.rule = new events.Rule(this, 'Schedule', {
      description: 'shardflow sweeper schedule',
      schedule: events.Schedule.rate(interval),
      targets: [
        new targets.LambdaFunction(this.handler, {
          retryAttempts: SWEEPER_DEFAULTS.retryAttempts,
          maxEventAge: Duration.minutes(1),
        }),
      ],
    });

    this.errorsAlarm = new cloudwatch.Alarm(this, 'ErrorsAlarm', {
      alarmDescription:
        'shardflow sweeper failed two sweeps in a row: windows of idle shards stay open',
      metric: this.handler.metricErrors({ period: interval }),
      threshold: 1,
      evaluationPeriods: 2,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    const noData =
      'The sweeper is invoked only by its schedule, whose events carry no data: a failed sweep loses nothing, the next one a minute later repeats all its work, and failures raise the Errors alarm.';
    acknowledge(this.handler, 'Serverless-LambdaDLQ', noData);
    acknowledge(this.rule, 'Serverless-EventBusDLQ', noData);
  }

  /**
   * Lets the sweeper close the windows of a pipeline: adds its partitions (`<pipeline>#*`) to the sweeper's
   * state grant (and to the session store's PutItem and DeleteItem grant for session windows), passes its
   * output streams as `OUTPUT_STREAM_<NAME>` and grants `PutRecords` on them. With the input stream, grants
   * `GetShardIterator` and `GetRecords` on it (and `kms:Decrypt` on a customer key): the sweeper's tail
   * probe asks whether a silent shard is caught up before it stops holding the watermark back. The pipeline
   * must use the sweeper's state table.
   */
  public addPipeline(
    pipelineName: string,
    windowKind: string,
    stateTable: dynamodb.ITable,
    outputStreams: Readonly<Record<string, kinesis.IStream>>,
    inputStream?: kinesis.IStream,
    startingPosition?: string,
  ): void {
    if (stateTable !== this.stateTable) {
      throw new Error(
        `pipeline ${pipelineName} uses another state table than the sweeper ${this.node.path}; the sweeper reads one table`,
      );
    }
    if (this.pipelines.has(pipelineName)) {
      throw new Error(`pipeline ${pipelineName} is already swept by ${this.node.path}`);
    }
    pipelinePartitions(pipelineName); // fails on a name that is no pipeline name
    // One statement per action set, its LeadingKeys the union of the registered pipelines' patterns,
    // produced at synthesis: pipelines registered later join the same statement.
    if (this.pipelines.size === 0) {
      grantStateAccess(
        this.stateTable,
        this.handler,
        Lazy.list({ produce: () => [...this.pipelines].map(pipelinePartitions) }),
        STATE_TABLE_ACTIONS,
      );
    }
    this.pipelines.add(pipelineName);
    if (windowKind === 'session') {
      if (this.sessionPipelines.size === 0) {
        grantStateAccess(
          this.stateTable,
          this.handler,
          Lazy.list({ produce: () => [...this.sessionPipelines].map(pipelinePartitions) }),
          SESSION_STATE_ACTIONS,
        );
      }
      this.sessionPipelines.add(pipelineName);
    }
    for (const [name, stream] of Object.entries(outputStreams)) {
      this.handler.addEnvironment(outputStreamVariable(name), stream.streamName);
      grantAccess(this.handler, targetOf(stream), ACCESS.writeStream);
    }
    if (inputStream !== undefined) {
      grantAccess(this.handler, targetOf(inputStream), ACCESS.probeStream);
    }
    // As the pipeline's handler: with TRIM_HORIZON, an open shard that has not reported yet holds
    // the watermark while it has records.
    if (startingPosition !== undefined) {
      this.handler.addEnvironment(startingPositionVariable(pipelineName), startingPosition);
    }
  }
}
