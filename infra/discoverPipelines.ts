import * as fs from 'node:fs';
import * as path from 'node:path';
import type { PipelineDefinitionConfig, PipelineEntry } from './types';

/** What {@link discoverPipelines} found. */
export interface DiscoveredPipelines {
  /** Pipelines with a handler, sorted by name. */
  readonly pipelines: readonly PipelineEntry[];
  /** Names of pipelines without `functions/handlers/<name>.ts` (not deployable yet). */
  readonly withoutHandler: readonly string[];
}

/**
 * Every pipeline definition exported by a module of `functions/pipelines/` (an `index.ts` that re-exports
 * them is fine: definitions are deduplicated by name), paired with its handler
 * `functions/handlers/<name>.ts`. Only the definitions' `config` is read afterwards.
 *
 * @example
 * const { pipelines } = discoverPipelines(path.resolve(__dirname, '..'));
 */
export function discoverPipelines(projectRoot: string): DiscoveredPipelines {
  const directory = path.join(projectRoot, 'functions', 'pipelines');
  const files = fs
    .readdirSync(directory)
    .filter((file) => /\.ts$/.test(file) && !/\.(d|test)\.ts$/.test(file))
    .sort();
  const byName = new Map<string, PipelineDefinitionConfig>();
  for (const file of files) {
    // Loading the module builds the definitions (pure: no AWS calls, no handler code runs).
    const exports = require(path.join(directory, file)) as Record<string, unknown>;
    for (const value of Object.values(exports)) {
      if (isDefinition(value) && !byName.has(value.name)) {
        byName.set(value.name, value);
      }
    }
  }
  const pipelines: PipelineEntry[] = [];
  const withoutHandler: string[] = [];
  for (const name of [...byName.keys()].sort()) {
    const entry = path.join(projectRoot, 'functions', 'handlers', `${name}.ts`);
    if (fs.existsSync(entry)) {
      pipelines.push({ definition: byName.get(name) as PipelineDefinitionConfig, entry });
    } else {
      withoutHandler.push(name);
    }
  }
  return { pipelines, withoutHandler };
}

function isDefinition(value: unknown): value is PipelineDefinitionConfig {
  if (typeof value !== 'object' || value === null) return false;
  const { name, config } = value as { name?: unknown; config?: unknown };
  if (typeof name !== 'string' || typeof config !== 'object' || config === null) return false;
  const { kind, input, outputs } = config as { kind?: unknown; input?: unknown; outputs?: unknown };
  return (
    (kind === 'stateless' || kind === 'windowed') &&
    typeof input === 'object' &&
    input !== null &&
    Array.isArray(outputs)
  );
}
