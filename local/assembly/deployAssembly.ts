import { createStream } from './createStream';
import { createTable } from './createTable';
import { planDeployment } from './planDeployment';
import type { CloudAssembly, DeployAssemblyOptions, Deployment } from './types';

/**
 * Creates on the engines what a cloud assembly declares — Kinesis streams (ON_DEMAND → 4
 * shards), DynamoDB tables and global tables (keys, GSIs, LSIs, TTL, billing mode) — idempotently,
 * so a restart with persisted engine state reuses them, and returns the deployment: names,
 * functions (code directory, resolved environment), event source mappings and outputs.
 * Resource types that are not emulated are named in one warning line.
 *
 * @example
 * ```ts
 * const deployment = await deployAssembly(loadCloudAssembly('cdk.out'), {
 *   endpoints: engines.endpoints,
 *   clients: localClients(engines.endpoints),
 * });
 * ```
 */
export async function deployAssembly(
  assembly: CloudAssembly,
  options: DeployAssemblyOptions,
): Promise<Deployment> {
  const warn = options.warn ?? ((line: string) => process.stderr.write(`${line}\n`));
  const plan = planDeployment(assembly, {
    endpoints: options.endpoints,
    ...(options.inlineCodeDirectory ? { inlineCodeDirectory: options.inlineCodeDirectory } : {}),
  });
  for (const line of plan.warnings) warn(line);
  // Streams one after another: Kinesis limits how many streams may be CREATING at once.
  for (const stream of plan.streams) await createStream(options.clients.kinesis, stream);
  await Promise.all(plan.tables.map((table) => createTable(options.clients.dynamodb, table)));
  return plan.deployment;
}
