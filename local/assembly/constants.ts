/** CloudFormation resource types the local deployment creates or models. */
export const RESOURCE_TYPES = {
  KINESIS_STREAM: 'AWS::Kinesis::Stream',
  DYNAMODB_TABLE: 'AWS::DynamoDB::Table',
  DYNAMODB_GLOBAL_TABLE: 'AWS::DynamoDB::GlobalTable',
  LAMBDA_FUNCTION: 'AWS::Lambda::Function',
  LAMBDA_EVENT_SOURCE_MAPPING: 'AWS::Lambda::EventSourceMapping',
  SQS_QUEUE: 'AWS::SQS::Queue',
  SNS_TOPIC: 'AWS::SNS::Topic',
  S3_BUCKET: 'AWS::S3::Bucket',
  IAM_ROLE: 'AWS::IAM::Role',
} as const;

/** Resource types the local deployment creates on the engines or runs itself. */
export const EMULATED_RESOURCE_TYPES: ReadonlySet<string> = new Set([
  RESOURCE_TYPES.KINESIS_STREAM,
  RESOURCE_TYPES.DYNAMODB_TABLE,
  RESOURCE_TYPES.DYNAMODB_GLOBAL_TABLE,
  RESOURCE_TYPES.LAMBDA_FUNCTION,
  RESOURCE_TYPES.LAMBDA_EVENT_SOURCE_MAPPING,
]);

/** Resource types the local runtime itself runs (schedules), so the loader neither creates nor warns about them. */
export const RUNTIME_EMULATED_RESOURCE_TYPES: ReadonlySet<string> = new Set([
  'AWS::Events::Rule',
  'AWS::Scheduler::Schedule',
]);

/** CDK bookkeeping resources, ignored without a warning. */
export const SILENTLY_IGNORED_RESOURCE_TYPES: ReadonlySet<string> = new Set(['AWS::CDK::Metadata']);

/** Shard count used for a stream in ON_DEMAND capacity mode (AWS starts on-demand streams with 4 shards). */
export const ON_DEMAND_SHARD_COUNT = 4;

/** Shard count when a provisioned stream declares none (CloudFormation's default is 1). */
export const DEFAULT_SHARD_COUNT = 1;

/** Lambda's default function timeout, in seconds. */
export const DEFAULT_FUNCTION_TIMEOUT_SECONDS = 3;

/** Lambda's default memory size, in MB. */
export const DEFAULT_FUNCTION_MEMORY_MB = 128;

/** CloudFormation metadata key carrying the user-facing logical name (`shardflow send numbers`). */
export const SHARDFLOW_NAME_METADATA_KEY = 'shardflow:name';

/** Environment variable in which the construct names a handler's pipeline (`SHARDFLOW_PIPELINE`). */
export const PIPELINE_VARIABLE = 'SHARDFLOW_PIPELINE';

/** Lambda's `ParallelizationFactor` when a mapping declares none. */
export const DEFAULT_PARALLELIZATION_FACTOR = 1;

/** Manifest artifact type of a CloudFormation stack. */
export const STACK_ARTIFACT_TYPE = 'aws:cloudformation:stack';

/** Manifest artifact type of an asset manifest. */
export const ASSET_MANIFEST_ARTIFACT_TYPE = 'cdk:asset-manifest';

/** Manifest artifact type of a nested cloud assembly (CDK stages). */
export const NESTED_ASSEMBLY_ARTIFACT_TYPE = 'cdk:cloud-assembly';

/** Symlinks a path of a cloud assembly may go through before it is taken for a loop (Linux's limit). */
export const MAX_SYMLINKS = 40;

/** uid of root, whose files are trusted like the current user's (as OpenSSH's StrictModes does). */
export const ROOT_UID = 0;

/** Write permission of others: a file with it may have been written by anyone. */
export const OTHERS_WRITE_BIT = 0o002;

/**
 * What a Lambda function name may be when it is given as a name (not an ARN): 1 to 64 letters, digits,
 * hyphens or underscores (CreateFunction's `FunctionName`; the 140-character limit applies to ARNs).
 */
export const FUNCTION_NAME_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** How often a CREATING stream or table is polled until it is ACTIVE, in milliseconds. */
export const ACTIVE_POLL_INTERVAL_MS = 100;

/** How long a stream or table may take to become ACTIVE, in milliseconds. */
export const ACTIVE_TIMEOUT_MS = 30_000;

/** Partition used in local ARNs. */
export const LOCAL_PARTITION = 'aws';

/** URL suffix used for `AWS::URLSuffix`. */
export const LOCAL_URL_SUFFIX = 'amazonaws.com';

/** Property holding an explicit physical name, per resource type. */
export const NAME_PROPERTIES: Readonly<Record<string, string>> = {
  'AWS::Kinesis::Stream': 'Name',
  'AWS::DynamoDB::Table': 'TableName',
  'AWS::DynamoDB::GlobalTable': 'TableName',
  'AWS::Lambda::Function': 'FunctionName',
  'AWS::SQS::Queue': 'QueueName',
  'AWS::SNS::Topic': 'TopicName',
  'AWS::S3::Bucket': 'BucketName',
  'AWS::IAM::Role': 'RoleName',
  'AWS::IAM::ManagedPolicy': 'ManagedPolicyName',
  'AWS::IAM::Policy': 'PolicyName',
  'AWS::Logs::LogGroup': 'LogGroupName',
  'AWS::CloudWatch::Alarm': 'AlarmName',
  'AWS::CloudWatch::Dashboard': 'DashboardName',
  'AWS::Events::Rule': 'Name',
};
