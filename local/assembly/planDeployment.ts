import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import type {
  CreateTableCommandInput,
  GlobalSecondaryIndex,
  LocalSecondaryIndex,
} from '@aws-sdk/client-dynamodb';
import { WINDOW_KIND_VARIABLE } from '#commons/environment';
import {
  DEFAULT_FUNCTION_MEMORY_MB,
  DEFAULT_FUNCTION_TIMEOUT_SECONDS,
  DEFAULT_PARALLELIZATION_FACTOR,
  DEFAULT_SHARD_COUNT,
  EMULATED_RESOURCE_TYPES,
  FUNCTION_NAME_PATTERN,
  ON_DEMAND_SHARD_COUNT,
  PIPELINE_VARIABLE,
  RESOURCE_TYPES,
  RUNTIME_EMULATED_RESOURCE_TYPES,
  SHARDFLOW_NAME_METADATA_KEY,
  SILENTLY_IGNORED_RESOURCE_TYPES,
} from './constants';
import { AssemblyError, DeploymentError, WindowedParallelizationError } from './errors';
import { TemplateResolver } from './TemplateResolver';
import type {
  CloudAssembly,
  DeployedResource,
  DeploymentPlan,
  EventSourceMappingDefinition,
  LocalAccount,
  LocalFunctionDefinition,
  NamedResource,
  StreamPlan,
  TablePlan,
} from './types';

type Props = Record<string, unknown>;

const DEFAULT_THROUGHPUT = { ReadCapacityUnits: 5, WriteCapacityUnits: 5 } as const;

/** Options for {@link planDeployment}. */
export interface PlanDeploymentOptions {
  /** Region and account the local ARNs use. */
  readonly endpoints: LocalAccount;
  /**
   * Directory for code given inline (`Code.ZipFile`).
   * @default - a fresh directory under the OS temp dir, made only if needed
   */
  readonly inlineCodeDirectory?: string;
}

function streamPlan(resolver: TemplateResolver, logicalId: string, props: Props): StreamPlan {
  const mode = (props.StreamModeDetails as Props | undefined)?.StreamMode;
  const shardCount =
    mode === 'ON_DEMAND' ? ON_DEMAND_SHARD_COUNT : Number(props.ShardCount ?? DEFAULT_SHARD_COUNT);
  return {
    stack: resolver.stackName,
    logicalId,
    streamName: resolver.physicalName(logicalId),
    shardCount,
  };
}

function tablePlan(
  resolver: TemplateResolver,
  logicalId: string,
  type: string,
  props: Props,
): TablePlan {
  // A GlobalTable is on-demand unless it says PROVISIONED; a Table is provisioned unless PAY_PER_REQUEST.
  const billingMode =
    props.BillingMode === 'PAY_PER_REQUEST' ||
    (type === RESOURCE_TYPES.DYNAMODB_GLOBAL_TABLE && props.BillingMode !== 'PROVISIONED')
      ? 'PAY_PER_REQUEST'
      : 'PROVISIONED';
  const throughput = (own: unknown) =>
    billingMode === 'PROVISIONED'
      ? {
          ProvisionedThroughput:
            (own as CreateTableCommandInput['ProvisionedThroughput']) ?? DEFAULT_THROUGHPUT,
        }
      : {};
  const gsis = (props.GlobalSecondaryIndexes as Props[] | undefined)?.map(
    (index): GlobalSecondaryIndex => ({
      IndexName: index.IndexName as string,
      KeySchema: index.KeySchema as GlobalSecondaryIndex['KeySchema'],
      Projection: index.Projection as GlobalSecondaryIndex['Projection'],
      ...throughput(index.ProvisionedThroughput),
    }),
  );
  const lsis = (props.LocalSecondaryIndexes as Props[] | undefined)?.map(
    (index): LocalSecondaryIndex => ({
      IndexName: index.IndexName as string,
      KeySchema: index.KeySchema as LocalSecondaryIndex['KeySchema'],
      Projection: index.Projection as LocalSecondaryIndex['Projection'],
    }),
  );
  const streamViewType = (props.StreamSpecification as Props | undefined)?.StreamViewType;
  const tableName = resolver.physicalName(logicalId);
  const ttl = props.TimeToLiveSpecification as Props | undefined;
  return {
    stack: resolver.stackName,
    logicalId,
    tableName,
    createTable: {
      TableName: tableName,
      KeySchema: props.KeySchema as CreateTableCommandInput['KeySchema'],
      AttributeDefinitions:
        props.AttributeDefinitions as CreateTableCommandInput['AttributeDefinitions'],
      BillingMode: billingMode,
      ...throughput(props.ProvisionedThroughput),
      ...(gsis?.length ? { GlobalSecondaryIndexes: gsis } : {}),
      ...(lsis?.length ? { LocalSecondaryIndexes: lsis } : {}),
      ...(typeof streamViewType === 'string'
        ? {
            StreamSpecification: {
              StreamEnabled: true,
              StreamViewType: streamViewType as 'NEW_AND_OLD_IMAGES',
            },
          }
        : {}),
    },
    ...(ttl?.Enabled === true && typeof ttl.AttributeName === 'string'
      ? { timeToLiveAttribute: ttl.AttributeName }
      : {}),
  };
}

/** Where a stack's template is, for error messages. */
function templateOf(assembly: CloudAssembly, stack: string): string {
  return assembly.stacks.find((candidate) => candidate.stackName === stack)?.templateFile ?? stack;
}

/**
 * The folder of a function's inline code inside the inline-code directory: its name when that is a
 * valid function name (letters, digits, `-`, `_`: no `/`, no `..`), else a digest of its stack and
 * logical id — never a path taken from the template as it is.
 */
function inlineFolderName(stack: string, logicalId: string, functionName: string): string {
  if (FUNCTION_NAME_PATTERN.test(functionName)) return functionName;
  const digest = createHash('sha256').update(`${stack}\0${logicalId}`).digest('hex');
  return `function-${digest.slice(0, 16)}`;
}

/**
 * Refuses a `FunctionName` that Lambda would refuse (CreateFunction takes 1 to 64 letters, digits,
 * hyphens and underscores): the local runtime uses the name in paths, where `../` would lead elsewhere.
 */
function checkFunctionName(
  assembly: CloudAssembly,
  resolver: TemplateResolver,
  logicalId: string,
  props: Props,
  functionName: string,
): void {
  if (props.FunctionName === undefined || FUNCTION_NAME_PATTERN.test(functionName)) return;
  throw new DeploymentError(
    `FunctionName ${JSON.stringify(functionName)} is not a Lambda function name (1 to 64 letters, digits, hyphens or underscores) in template ${templateOf(assembly, resolver.stackName)}: refusing to deploy it`,
    resolver.stackName,
    logicalId,
  );
}

/**
 * Refuses a `Handler` whose module would not be a file of the function's code: Lambda takes
 * `[^\s]+`, and its Node.js runtime fails any handler containing `..` (`Runtime.MalformedHandlerName`)
 * and resolves the module path against the code root (`LAMBDA_TASK_ROOT`). An absolute module path
 * (`/opt/nodejs/index.handler`, a layer) names a file outside the code, and layers are not emulated.
 */
function checkHandler(
  assembly: CloudAssembly,
  resolver: TemplateResolver,
  logicalId: string,
  functionName: string,
  handler: string,
): void {
  const problem = /^\S+$/.test(handler)
    ? handler.includes('..')
      ? "contains '..', which Lambda's Node.js runtime refuses (Runtime.MalformedHandlerName)"
      : isAbsolute(handler)
        ? 'is an absolute path, outside the function’s code (Lambda layers under /opt are not emulated locally)'
        : undefined
    : 'is empty or contains white space, which Lambda refuses';
  if (problem === undefined) return;
  throw new DeploymentError(
    `Handler ${JSON.stringify(handler)} of function ${functionName} ${problem}; a handler must name a module inside the function's code directory (template ${templateOf(assembly, resolver.stackName)}): refusing to run it`,
    resolver.stackName,
    logicalId,
  );
}

function codeDirectory(
  assembly: CloudAssembly,
  resolver: TemplateResolver,
  logicalId: string,
  functionName: string,
  code: Props,
  inline: () => string,
): string {
  if (typeof code.ZipFile === 'string') {
    const directory = join(inline(), inlineFolderName(resolver.stackName, logicalId, functionName));
    mkdirSync(directory, { recursive: true, mode: 0o700 });
    writeFileSync(join(directory, 'index.js'), code.ZipFile, { mode: 0o600 });
    return directory;
  }
  if (typeof code.S3Key !== 'string') {
    throw new DeploymentError(
      'function code is neither an asset (Code.S3Key) nor inline (Code.ZipFile); image functions are not supported locally',
      resolver.stackName,
      logicalId,
    );
  }
  const asset = assembly.assetsByObjectKey.get(code.S3Key);
  if (asset === undefined) {
    throw new DeploymentError(
      `no asset in ${assembly.directory} is published as ${code.S3Key}`,
      resolver.stackName,
      logicalId,
    );
  }
  if (asset.packaging !== 'zip') {
    throw new DeploymentError(
      `asset ${asset.path} is a pre-built file; locally, function code must be a directory asset`,
      resolver.stackName,
      logicalId,
    );
  }
  return asset.path;
}

function stringRecord(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, item] of Object.entries((value as Props | undefined) ?? {})) {
    out[key] = typeof item === 'string' ? item : JSON.stringify(item);
  }
  return out;
}

/**
 * Fails when the mapping invokes a shardflow windowed handler (a function whose environment has
 * `SHARDFLOW_WINDOW_KIND`, set by the construct) with a `ParallelizationFactor` other than 1: its
 * window state is fenced per shard, and concurrent batches of one shard lose records.
 */
function refuseWindowedParallelization(
  stack: string,
  logicalId: string,
  fn: LocalFunctionDefinition,
  props: Props,
): void {
  const windowKind = fn.environment[WINDOW_KIND_VARIABLE];
  if (windowKind === undefined || windowKind === '') return;
  const factor = props.ParallelizationFactor ?? DEFAULT_PARALLELIZATION_FACTOR;
  if (Number(factor) === 1) return;
  throw new WindowedParallelizationError(stack, logicalId, {
    functionName: fn.functionName,
    pipeline: fn.environment[PIPELINE_VARIABLE],
    windowKind,
    parallelizationFactor: factor,
  });
}

/**
 * Computes what a cloud assembly declares, resolved into local names and ARNs, without touching
 * the engines: resources and their identities, the logical-name map, streams and tables to
 * create, functions with their code directories and environment, event source mappings and
 * stack outputs. Types that are not emulated are counted and named in one warning line.
 *
 * @example
 * ```ts
 * const plan = planDeployment(loadCloudAssembly('cdk.out'), { endpoints });
 * plan.deployment.names.numbers.physicalName;
 * ```
 * A function's `FunctionName` must be one Lambda accepts, and its `Handler` must name a module inside
 * its code (no `..`, not absolute): both end up in paths.
 *
 * @throws DeploymentError if a function's code cannot be found locally, or its name or handler would
 *   lead out of its code directory
 * @throws WindowedParallelizationError if a mapping invokes a shardflow windowed handler with a
 *   `ParallelizationFactor` other than 1
 * @throws IntrinsicResolutionError if a property of an emulated resource cannot be resolved
 */
export function planDeployment(
  assembly: CloudAssembly,
  options: PlanDeploymentOptions,
): DeploymentPlan {
  const warnings: string[] = [];
  const resolvers = new Map<string, TemplateResolver>();
  const importValue = (exportName: string): string | undefined => {
    for (const [stackName, resolver] of resolvers) {
      const stack = assembly.stacks.find((candidate) => candidate.stackName === stackName);
      for (const output of Object.values(stack?.template.Outputs ?? {})) {
        if (output.Export && resolver.resolve(output.Export.Name) === exportName) {
          return resolver.resolveString(output.Value, `export ${exportName}`);
        }
      }
    }
    return undefined;
  };
  for (const stack of assembly.stacks) {
    resolvers.set(stack.stackName, new TemplateResolver(stack, options.endpoints, importValue));
  }
  let inlineDirectory = options.inlineCodeDirectory;
  const inline = (): string => {
    inlineDirectory ??= mkdtempSync(join(tmpdir(), 'shardflow-inline-'));
    return inlineDirectory;
  };

  const resources: DeployedResource[] = [];
  const names: Record<string, NamedResource> = {};
  const notEmulated: Record<string, number> = {};
  const streams: StreamPlan[] = [];
  const tables: TablePlan[] = [];
  const functions: LocalFunctionDefinition[] = [];
  const mappings: { resolver: TemplateResolver; logicalId: string; props: Props }[] = [];
  const outputs: Record<string, Record<string, string>> = {};

  for (const resolver of resolvers.values()) {
    const stack = resolver.stackName;
    for (const [logicalId, resource] of Object.entries(resolver.resources)) {
      if (SILENTLY_IGNORED_RESOURCE_TYPES.has(resource.Type) || !resolver.isActive(logicalId)) {
        continue;
      }
      const identity = resolver.identity(logicalId);
      const logicalName = resource.Metadata?.[SHARDFLOW_NAME_METADATA_KEY];
      const physicalName = resolver.physicalName(logicalId);
      const deployed: DeployedResource = {
        stack,
        logicalId,
        type: resource.Type,
        physicalName,
        arn: identity.arn,
        ...(typeof logicalName === 'string' ? { logicalName } : {}),
      };
      resources.push(deployed);
      if (typeof logicalName === 'string') {
        if (names[logicalName] !== undefined) {
          warnings.push(
            `shardflow: logical name "${logicalName}" is used by ${names[logicalName].stack}/${names[logicalName].logicalId} and ${stack}/${logicalId}; keeping the first`,
          );
        } else {
          names[logicalName] = {
            physicalName,
            arn: identity.arn,
            type: resource.Type,
            logicalId,
            stack,
          };
        }
      }
      if (!EMULATED_RESOURCE_TYPES.has(resource.Type)) {
        if (!RUNTIME_EMULATED_RESOURCE_TYPES.has(resource.Type)) {
          notEmulated[resource.Type] = (notEmulated[resource.Type] ?? 0) + 1;
        }
        continue;
      }
      const props = (resolver.resolve(resource.Properties ?? {}) ?? {}) as Props;
      switch (resource.Type) {
        case RESOURCE_TYPES.KINESIS_STREAM:
          streams.push(streamPlan(resolver, logicalId, props));
          break;
        case RESOURCE_TYPES.DYNAMODB_TABLE:
        case RESOURCE_TYPES.DYNAMODB_GLOBAL_TABLE:
          tables.push(tablePlan(resolver, logicalId, resource.Type, props));
          break;
        case RESOURCE_TYPES.LAMBDA_FUNCTION: {
          checkFunctionName(assembly, resolver, logicalId, props, physicalName);
          const handler = String(props.Handler ?? 'index.handler');
          checkHandler(assembly, resolver, logicalId, physicalName, handler);
          functions.push({
            stack,
            logicalId,
            functionName: physicalName,
            functionArn: identity.arn,
            handler,
            runtime: String(props.Runtime ?? 'nodejs22.x'),
            timeoutSeconds: Number(props.Timeout ?? DEFAULT_FUNCTION_TIMEOUT_SECONDS),
            memorySizeMb: Number(props.MemorySize ?? DEFAULT_FUNCTION_MEMORY_MB),
            environment: stringRecord((props.Environment as Props | undefined)?.Variables),
            codeDirectory: codeDirectory(
              assembly,
              resolver,
              logicalId,
              physicalName,
              (props.Code as Props | undefined) ?? {},
              inline,
            ),
            roleArn:
              typeof props.Role === 'string'
                ? props.Role
                : `arn:aws:iam::${options.endpoints.accountId}:role/${physicalName}-role`,
            properties: props,
          });
          break;
        }
        case RESOURCE_TYPES.LAMBDA_EVENT_SOURCE_MAPPING:
          mappings.push({ resolver, logicalId, props });
          break;
      }
    }
    const stackOutputs: Record<string, string> = {};
    const template = assembly.stacks.find((candidate) => candidate.stackName === stack)?.template;
    for (const [key, output] of Object.entries(template?.Outputs ?? {})) {
      if (output.Condition !== undefined && !resolver.condition(output.Condition)) continue;
      try {
        stackOutputs[key] = resolver.resolveString(output.Value, `output ${key}`);
      } catch (error) {
        if (!(error instanceof AssemblyError)) throw error;
        warnings.push(`shardflow: output ${stack}.${key} skipped: ${error.message}`);
      }
    }
    outputs[stack] = stackOutputs;
  }

  const eventSourceMappings = mappings.map(({ resolver, logicalId, props }) => {
    const target = String(props.FunctionName ?? '');
    // FunctionName may be a name, an ARN, or either with a :qualifier.
    const fn = functions.find(
      (candidate) =>
        target === candidate.functionName ||
        target === candidate.functionArn ||
        target.startsWith(`${candidate.functionArn}:`) ||
        target.startsWith(`${candidate.functionName}:`),
    );
    if (fn === undefined) {
      throw new DeploymentError(
        `event source mapping targets function ${target}, which is not part of the deployment`,
        resolver.stackName,
        logicalId,
      );
    }
    refuseWindowedParallelization(resolver.stackName, logicalId, fn, props);
    const eventSourceArn = String(props.EventSourceArn ?? '');
    const source = resources.find((resource) => resource.arn === eventSourceArn);
    const mapping: EventSourceMappingDefinition = {
      stack: resolver.stackName,
      logicalId,
      uuid: resolver.identity(logicalId).ref,
      functionName: fn.functionName,
      eventSourceArn,
      ...(source ? { eventSourceType: source.type } : {}),
      properties: props,
    };
    return mapping;
  });

  const unsupported = Object.entries(notEmulated)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([type, count]) => `${type} (${count})`);
  if (unsupported.length > 0) {
    warnings.unshift(`shardflow: not emulated locally: ${unsupported.join(', ')}`);
  }

  return {
    deployment: { names, resources, functions, eventSourceMappings, outputs, notEmulated },
    streams,
    tables,
    warnings,
  };
}
