import { App, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { ShardflowStack } from './ShardflowStack';

/**
 * The shardflow app: one stack `shardflow-<stage>` with every pipeline of functions/pipelines/.
 *
 * Context (`cdk deploy -c key=value`):
 * - `stage` — stack name suffix (`dev`).
 * - `shardCounts` — JSON object of shards per logical stream, `{"clicks":4}`.
 * - `removalPolicy` — `retain` or `destroy` for streams, the state table and log groups
 *   (`retain` when stage is `prod`, else `destroy`).
 * - `nag` — `false` skips the cdk-nag AwsSolutions and Serverless checks run at synthesis.
 * - `failureStreamReaders` — JSON array of the ARNs of the roles that may read the failure streams'
 *   records, `["arn:aws:iam::123456789012:role/oncall"]` (none by default: nobody may).
 */
const app = new App();
const stage = String(app.node.tryGetContext('stage') ?? 'dev');
const shardCounts = jsonContext<Record<string, number>>(app, 'shardCounts') ?? {};
const removalPolicyName = String(
  app.node.tryGetContext('removalPolicy') ?? (stage === 'prod' ? 'retain' : 'destroy'),
);
if (removalPolicyName !== 'retain' && removalPolicyName !== 'destroy') {
  throw new Error(`context removalPolicy must be retain or destroy, got ${removalPolicyName}`);
}
const removalPolicy = removalPolicyName === 'retain' ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;

const failureStreamReaderRoleArns = jsonContext<unknown>(app, 'failureStreamReaders') ?? [];
if (
  !Array.isArray(failureStreamReaderRoleArns) ||
  !failureStreamReaderRoleArns.every((arn) => typeof arn === 'string')
) {
  throw new Error(
    `context failureStreamReaders must be a JSON array of role ARNs, got ${JSON.stringify(failureStreamReaderRoleArns)}`,
  );
}

new ShardflowStack(app, `shardflow-${stage}`, {
  shardCounts,
  removalPolicy,
  failureStreamReaderRoleArns,
  description: `shardflow pipelines (${stage})`,
});

if (String(app.node.tryGetContext('nag') ?? 'true') !== 'false') {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
}

app.synth();

/** A context value given as JSON on the command line (a string) or as an object in cdk.json. */
function jsonContext<T>(scope: App, key: string): T | undefined {
  const value: unknown = scope.node.tryGetContext(key);
  if (value === undefined) return undefined;
  if (typeof value === 'string') {
    try {
      return JSON.parse(value) as T;
    } catch (error) {
      throw new Error(`context ${key} must be JSON, got ${value}`, { cause: error });
    }
  }
  return value as T;
}
