import { CloudFormationClient, paginateDescribeStacks } from '@aws-sdk/client-cloudformation';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { localClients } from '#local/aws/index';
import { NoLocalRuntimeError } from './errors';
import { displayPath, findLocalRuntime, localStatePath } from './localState';
import type { ProcessTable } from './processIdentity';

/** Where a STREAM argument points. */
export interface ResolvedStream {
  readonly client: KinesisClient;
  readonly streamName: string;
  /** `local` for the embedded AWS started by `shardflow local up`, `aws` for LocalStack or a real account. */
  readonly target: 'local' | 'aws';
}

/** Options of {@link resolveStream}. */
export interface ResolveStreamOptions {
  /** Where `shardflow local up` may run. @default process.cwd() */
  readonly projectDir?: string;
  /** @default - the system's process table */
  readonly processes?: ProcessTable;
}

/** The stack output description that names a stream, written by the CDK app. */
const OUTPUT_PREFIX = 'shardflow:name=';

/**
 * Resolves a logical (`numbers`) or physical stream name. With a running `shardflow local up` in this
 * directory (verified as `local down` verifies it: {@link findLocalRuntime}) it uses the embedded AWS;
 * without a `.shardflow/local.json`, when `AWS_ENDPOINT_URL` or an AWS profile/region is set, it asks
 * CloudFormation for the stack outputs that name shardflow streams (LocalStack or a real account).
 *
 * @throws NoLocalRuntimeError when `.shardflow/local.json` names no runtime that runs: its endpoints
 *   may be another program's now, and records meant for the local runtime must not go to AWS either
 */
export async function resolveStream(
  name: string,
  options: ResolveStreamOptions = {},
): Promise<ResolvedStream> {
  const projectDir = options.projectDir ?? process.cwd();
  const runtime = findLocalRuntime(projectDir, options.processes);
  if (runtime.status === 'not-running') {
    throw new NoLocalRuntimeError(
      projectDir,
      `${displayPath(localStatePath(projectDir))}: ${runtime.reason}`,
    );
  }
  if (runtime.status === 'running') {
    const { state } = runtime;
    const client = localClients(state.endpoints).kinesis;
    const entry = state.names[name];
    if (entry) {
      return { client, streamName: entry.physicalName, target: 'local' };
    }
    const physical = Object.values(state.names).find((resource) => resource.physicalName === name);
    if (physical) {
      return { client, streamName: physical.physicalName, target: 'local' };
    }
    const known = Object.entries(state.names)
      .filter(([, resource]) => resource.type === 'AWS::Kinesis::Stream')
      .map(([logical]) => logical);
    throw new Error(`unknown stream '${name}'; the local deployment has: ${known.join(', ')}`);
  }
  if (!process.env.AWS_ENDPOINT_URL && !process.env.AWS_PROFILE && !process.env.AWS_REGION) {
    throw new Error(
      'no local runtime is running here (start one with `npx shardflow local up --detach`), and no AWS ' +
        'target is configured (set AWS_ENDPOINT_URL for LocalStack, or AWS_PROFILE/AWS_REGION)',
    );
  }
  const cloudFormation = new CloudFormationClient({});
  for await (const page of paginateDescribeStacks({ client: cloudFormation }, {})) {
    for (const stack of page.Stacks ?? []) {
      for (const output of stack.Outputs ?? []) {
        if (output.Description === `${OUTPUT_PREFIX}${name}` && output.OutputValue) {
          return { client: new KinesisClient({}), streamName: output.OutputValue, target: 'aws' };
        }
      }
    }
  }
  return { client: new KinesisClient({}), streamName: name, target: 'aws' };
}
