/** A CloudFormation resource as written in a synthesized template. */
export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly Metadata?: Record<string, unknown>;
  readonly Condition?: string;
  readonly DependsOn?: string | readonly string[];
}

/** A CloudFormation template parameter (only what a local run needs). */
export interface CfnParameter {
  readonly Type: string;
  readonly Default?: unknown;
}

/** A CloudFormation template output. */
export interface CfnOutput {
  readonly Value: unknown;
  readonly Description?: string;
  readonly Condition?: string;
  readonly Export?: { readonly Name: unknown };
}

/** A synthesized CloudFormation template (the parts a local run reads). */
export interface CfnTemplate {
  readonly Resources?: Record<string, CfnResource>;
  readonly Parameters?: Record<string, CfnParameter>;
  readonly Conditions?: Record<string, unknown>;
  readonly Mappings?: Record<string, Record<string, Record<string, unknown>>>;
  readonly Outputs?: Record<string, CfnOutput>;
}

/** One `aws:cloudformation:stack` artifact of a cloud assembly. */
export interface StackArtifact {
  /** Artifact id in manifest.json. */
  readonly artifactId: string;
  /** CloudFormation stack name (`properties.stackName`, else the artifact id). */
  readonly stackName: string;
  /** Absolute path of the template file. */
  readonly templateFile: string;
  /** The parsed template. */
  readonly template: CfnTemplate;
}

/** A file asset of a cloud assembly, located on disk. */
export interface FileAsset {
  /** Asset id (its hash). */
  readonly id: string;
  /** Absolute path of the asset in cdk.out: a directory for `zip` packaging of a directory, else a file. */
  readonly path: string;
  /** How the asset is packaged for upload: `zip` (a directory zipped on publish) or `file` (as is). */
  readonly packaging: 'zip' | 'file';
  /** S3 object keys the asset is published under (e.g. `<hash>.zip`). */
  readonly objectKeys: readonly string[];
}

/** A loaded cloud assembly (cdk.out): its stacks and file assets. */
export interface CloudAssembly {
  /** Absolute path of the cdk.out directory. */
  readonly directory: string;
  /** Stacks, in manifest order (nested assemblies included). */
  readonly stacks: readonly StackArtifact[];
  /** File assets by S3 object key (`<hash>.zip`), so a Lambda's `Code.S3Key` maps to a local path. */
  readonly assetsByObjectKey: ReadonlyMap<string, FileAsset>;
}

/** Values of the pseudo parameters a local deployment resolves into. */
export interface LocalAccount {
  /** Region every local resource lives in. */
  readonly region: string;
  /** Account id in local ARNs. */
  readonly accountId: string;
  /**
   * Partition in ARNs.
   * @default 'aws'
   */
  readonly partition?: string;
  /**
   * Value of `AWS::URLSuffix`.
   * @default 'amazonaws.com'
   */
  readonly urlSuffix?: string;
}

/** A resource of the deployment with its local identity. */
export interface DeployedResource {
  /** Stack name. */
  readonly stack: string;
  /** Logical id in the template. */
  readonly logicalId: string;
  /** CloudFormation type (`AWS::Kinesis::Stream`). */
  readonly type: string;
  /** Local physical name (stream, table, function name …). */
  readonly physicalName: string;
  /** Local ARN. */
  readonly arn: string;
  /** User-facing logical name from `Metadata["shardflow:name"]`, if any. */
  readonly logicalName?: string;
}

/** Entry of the logical-name map: what `shardflow send numbers` resolves `numbers` to. */
export interface NamedResource {
  readonly physicalName: string;
  readonly arn: string;
  readonly type: string;
  readonly logicalId: string;
  readonly stack: string;
}

/** A Lambda function as deployed locally: what a function host needs to run it. */
export interface LocalFunctionDefinition {
  readonly stack: string;
  readonly logicalId: string;
  /** Physical function name. */
  readonly functionName: string;
  /** Local function ARN (unqualified). */
  readonly functionArn: string;
  /** `Handler` (`index.handler`). */
  readonly handler: string;
  /** `Runtime` (`nodejs22.x`); informational, every function runs on the local Node.js. */
  readonly runtime: string;
  /** `Timeout` in seconds (default 3). */
  readonly timeoutSeconds: number;
  /** `MemorySize` in MB (default 128); informational. */
  readonly memorySizeMb: number;
  /** `Environment.Variables`, resolved to local names and ARNs. */
  readonly environment: Readonly<Record<string, string>>;
  /** Absolute path of the directory holding the function's code. */
  readonly codeDirectory: string;
  /** ARN of the execution role (the Kinesis event's `invokeIdentityArn`). */
  readonly roleArn: string;
  /** All `Properties`, resolved. */
  readonly properties: Readonly<Record<string, unknown>>;
}

/** An `AWS::Lambda::EventSourceMapping` as deployed locally, every property kept and resolved. */
export interface EventSourceMappingDefinition {
  readonly stack: string;
  readonly logicalId: string;
  /** Deterministic mapping UUID (what `Ref` returns). */
  readonly uuid: string;
  /** Physical name of the target function. */
  readonly functionName: string;
  /** Resolved `EventSourceArn`. */
  readonly eventSourceArn: string;
  /** Type of the source resource, if it is part of the deployment (`AWS::Kinesis::Stream`). */
  readonly eventSourceType?: string;
  /** All `Properties`, resolved (BatchSize, StartingPosition, DestinationConfig, …). */
  readonly properties: Readonly<Record<string, unknown>>;
}

/** What a cloud assembly became on the engines. */
export interface Deployment {
  /** Logical name (`Metadata["shardflow:name"]`) → local resource. */
  readonly names: Readonly<Record<string, NamedResource>>;
  /** Every resource with a local identity (created, recorded or ignored types alike). */
  readonly resources: readonly DeployedResource[];
  /** Lambda functions, ready for a function host. */
  readonly functions: readonly LocalFunctionDefinition[];
  /** Event source mappings, properties resolved. */
  readonly eventSourceMappings: readonly EventSourceMappingDefinition[];
  /** Stack outputs, resolved: stack name → output key → value. */
  readonly outputs: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** Resource types not emulated locally, with how many resources of each. */
  readonly notEmulated: Readonly<Record<string, number>>;
}

/** Structural view of the SDK clients `deployAssembly` needs (what `localClients()` returns). */
export interface DeployClients {
  readonly kinesis: import('@aws-sdk/client-kinesis').KinesisClient;
  readonly dynamodb: import('@aws-sdk/client-dynamodb').DynamoDBClient;
}

/** Options for {@link deployAssembly}. */
export interface DeployAssemblyOptions {
  /** Region and account the local ARNs use: the engines' `endpoints` (they carry both). */
  readonly endpoints: LocalAccount;
  /** SDK clients configured for the engines. */
  readonly clients: DeployClients;
  /**
   * Receives warnings (one line each), such as the resource types not emulated locally.
   * @default - written to stderr
   */
  readonly warn?: (line: string) => void;
  /**
   * Directory for code given inline (`Code.ZipFile`).
   * @default - a fresh directory under the OS temp dir
   */
  readonly inlineCodeDirectory?: string;
}

/** A Kinesis stream the deployment creates. */
export interface StreamPlan {
  readonly stack: string;
  readonly logicalId: string;
  readonly streamName: string;
  /** `ShardCount`, or 4 for ON_DEMAND. */
  readonly shardCount: number;
}

/** A DynamoDB table the deployment creates. */
export interface TablePlan {
  readonly stack: string;
  readonly logicalId: string;
  readonly tableName: string;
  /** The CreateTable request (keys, attributes, indexes, billing mode, stream). */
  readonly createTable: import('@aws-sdk/client-dynamodb').CreateTableCommandInput;
  /** Attribute to enable TTL on, if the template enables it. */
  readonly timeToLiveAttribute?: string;
}

/** What a deployment will create, computed from the assembly without touching the engines. */
export interface DeploymentPlan {
  readonly deployment: Deployment;
  readonly streams: readonly StreamPlan[];
  readonly tables: readonly TablePlan[];
  /** Warning lines for the user (at most one names the types not emulated). */
  readonly warnings: readonly string[];
}
