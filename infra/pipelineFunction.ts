import { type Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { METRICS_NAMESPACE } from '#commons/metrics';
import { acknowledge } from './acknowledge';
import { BUNDLING_DEFAULTS, FUNCTION_DEFAULTS } from './stream-pipeline-defaults';

/** Properties of {@link createPipelineFunction}; every field is resolved by the calling construct. */
export interface PipelineFunctionProps {
  /** Path of the TypeScript entry file. */
  readonly entry: string;
  /** Powertools service name: the pipeline's name, or `shardflow-sweeper`. */
  readonly serviceName: string;
  readonly description: string;
  readonly runtime: lambda.Runtime;
  readonly memorySize: number;
  readonly timeout: Duration;
  readonly tracing: lambda.Tracing;
  readonly logLevel: string;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy?: RemovalPolicy;
  readonly environment: Readonly<Record<string, string>>;
}

/**
 * A shardflow Lambda function: a minified arm64 bundle with source maps and the SDK clients inside
 * ({@link BUNDLING_DEFAULTS}), built by the local esbuild (never Docker), its own log group with
 * bounded retention, and its own role that may write only that log group (no
 * `AWSLambdaBasicExecutionRole`, whose `logs:*` on every group is broader than needed). Grants for
 * streams and tables are added by the caller.
 */
export function createPipelineFunction(
  scope: Construct,
  props: PipelineFunctionProps,
): nodejs.NodejsFunction {
  const logGroup = new logs.LogGroup(scope, 'Logs', {
    retention: props.logRetention,
    removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
  });
  const role = new iam.Role(scope, 'Role', {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description: `shardflow ${props.serviceName} function`,
  });
  logGroup.grantWrite(role);
  const handler = new nodejs.NodejsFunction(scope, 'Handler', {
    entry: props.entry,
    description: props.description,
    runtime: props.runtime,
    architecture: lambda.Architecture.ARM_64,
    memorySize: props.memorySize,
    timeout: props.timeout,
    tracing: props.tracing,
    role,
    logGroup,
    bundling: {
      ...BUNDLING_DEFAULTS,
      mainFields: [...BUNDLING_DEFAULTS.mainFields],
      externalModules: [...BUNDLING_DEFAULTS.externalModules],
      forceDockerBundling: false,
    },
    environment: {
      POWERTOOLS_SERVICE_NAME: props.serviceName,
      POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
      POWERTOOLS_LOG_LEVEL: props.logLevel,
      NODE_OPTIONS: FUNCTION_DEFAULTS.nodeOptions,
      ...props.environment,
    },
  });
  if (props.tracing === lambda.Tracing.ACTIVE) {
    acknowledge(
      role,
      'AwsSolutions-IAM5[Resource::*]',
      'X-Ray PutTraceSegments and PutTelemetryRecords support no resource-level permissions; the actions themselves are not wildcards.',
    );
  }
  return handler;
}
