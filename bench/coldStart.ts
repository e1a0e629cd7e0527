import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SourceMapMode } from 'aws-cdk-lib/aws-lambda-nodejs';
import { type BuildOptions, build } from 'esbuild';
import { BUNDLING_DEFAULTS, FUNCTION_DEFAULTS } from '#infra/stream-pipeline-defaults';
import { median, round } from './stats';

const ROOT = path.resolve(__dirname, '..');
const HANDLERS = path.join(ROOT, 'functions', 'handlers');

/** One function's bundle and its module init time. */
export interface BundleFigures {
  readonly name: string;
  /** Size of the deployed `index.js`. */
  readonly bytes: number;
  /** Size of its source map, which Node reads and parses at load time (`--enable-source-maps`). */
  readonly mapBytes: number;
  /** Median init time of the deployed bundle (SDK clients inside) in a fresh process. */
  readonly initMs: number;
  readonly initSamplesMs: readonly number[];
  /**
   * Median init time of shardflow's own code (and Powertools, zod): the same handler bundled with
   * `@aws-sdk/*` left out, `require` timed after the SDK clients were loaded from node_modules
   * (untimed) in the same process. A diagnostic build, not the deployed one.
   */
  readonly ownInitMs: number;
  /** Largest contributors to the bundle, by package (or project folder), bytes in the output. */
  readonly topInputs: ReadonlyArray<{ readonly input: string; readonly bytes: number }>;
}

/** The package (node_modules/<pkg>) or project folder an esbuild input belongs to. */
const owner = (input: string): string => {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
  if (m?.[1] !== undefined) return m[1];
  return input.split('/').slice(0, 2).join('/');
};

/** The SDK clients every handler loads. */
const SDK_CLIENTS = ['@aws-sdk/client-dynamodb', '@aws-sdk/client-kinesis'];

/**
 * esbuild options equal to what NodejsFunction runs for {@link BUNDLING_DEFAULTS} (its `--bundle`,
 * `--platform=node` and one flag per option), so the bench measures the deployed bundle.
 */
export function deployedBuildOptions(): BuildOptions {
  const {
    minify,
    sourceMap,
    sourceMapMode,
    sourcesContent,
    target,
    format,
    mainFields,
    externalModules,
    ...unmapped
  } = BUNDLING_DEFAULTS;
  // An option added to BUNDLING_DEFAULTS fails to compile here until it is mapped above.
  unmapped satisfies Record<string, never>;
  return {
    bundle: true,
    platform: 'node',
    minify,
    // NodejsFunction passes `--sourcemap` for SourceMapMode.DEFAULT (a linked map),
    // `--sourcemap=<mode>` for the others.
    sourcemap: sourceMap && (sourceMapMode === SourceMapMode.DEFAULT ? 'linked' : sourceMapMode),
    sourcesContent,
    target,
    format,
    mainFields: [...mainFields],
    external: [...externalModules],
  };
}

/** Times `require` of `files` in a fresh node process, after `preload` (untimed). */
function timeRequire(
  files: readonly string[],
  env: NodeJS.ProcessEnv,
  preload: readonly string[] = [],
): number {
  const out = execFileSync(
    process.execPath,
    [
      '-e',
      `${JSON.stringify(preload)}.forEach((f)=>require(f));const t=process.hrtime.bigint();${JSON.stringify(files)}.forEach((f)=>require(f));process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`,
    ],
    { env, encoding: 'utf8' },
  );
  return Number(out);
}

/** The Lambda entry points: files of functions/handlers that export `handler`. */
export function handlerEntries(): string[] {
  return fs
    .readdirSync(HANDLERS)
    .filter((f) => f.endsWith('.ts'))
    .filter((f) => /export const handler\b/.test(fs.readFileSync(path.join(HANDLERS, f), 'utf8')))
    .sort()
    .map((f) => path.join(HANDLERS, f));
}

/**
 * Bundles each handler as infra deploys it ({@link deployedBuildOptions}: SDK clients inside, linked
 * source map) and times `require` of the bundle in a fresh node process with the functions'
 * NODE_OPTIONS (`--enable-source-maps`, so Node reads the map as on Lambda), `samples` times (median).
 * NODE_PATH is shardflow's node_modules, standing in for the runtime's SDK (only the lazily loaded
 * credential providers resolve there, and they are not loaded). `ownInitMs` bundles the handler once
 * more with `@aws-sdk/*` left out and times it with the SDK clients already loaded: the part of init
 * shardflow's own code costs. `sdkClientsInitMs` is what loading the SDK clients from node_modules
 * costs, as it did when the SDK was external.
 */
export async function runColdStart(options: { samples: number }): Promise<{
  functions: BundleFigures[];
  maxBytes: number;
  maxInitMs: number;
  maxOwnInitMs: number;
  sdkClientsInitMs: number;
}> {
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'shardflow-bench-bundles-'));
  const functions: BundleFigures[] = [];
  const childEnv: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '',
    NODE_PATH: path.join(ROOT, 'node_modules'),
    NODE_OPTIONS: FUNCTION_DEFAULTS.nodeOptions,
    AWS_REGION: 'us-east-1',
  };
  const deployed = deployedBuildOptions();
  // What loading the SDK clients from node_modules costs (the runtime's copy; for comparison).
  const sdkSamples: number[] = [];
  for (let i = 0; i < options.samples; i++) {
    sdkSamples.push(timeRequire(SDK_CLIENTS, childEnv));
  }
  try {
    for (const entry of handlerEntries()) {
      const name = path.basename(entry, '.ts');
      const outfile = path.join(outDir, name, 'index.js');
      const result = await build({
        ...deployed,
        metafile: true,
        entryPoints: [entry],
        outfile,
        absWorkingDir: ROOT,
        logLevel: 'silent',
      });
      const bytes = fs.statSync(outfile).size;
      const ownOutfile = path.join(outDir, name, 'own', 'index.js');
      await build({
        ...deployed,
        external: ['@aws-sdk/*'],
        entryPoints: [entry],
        outfile: ownOutfile,
        absWorkingDir: ROOT,
        logLevel: 'silent',
      });
      const byOwner = new Map<string, number>();
      for (const output of Object.values(result.metafile.outputs)) {
        for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
          byOwner.set(owner(input), (byOwner.get(owner(input)) ?? 0) + bytesInOutput);
        }
      }
      const env = { ...childEnv, AWS_LAMBDA_FUNCTION_NAME: name, POWERTOOLS_SERVICE_NAME: name };
      const samples: number[] = [];
      const ownSamples: number[] = [];
      for (let i = 0; i < options.samples; i++) {
        samples.push(timeRequire([outfile], env));
        ownSamples.push(timeRequire([ownOutfile], env, SDK_CLIENTS));
      }
      functions.push({
        name,
        bytes,
        mapBytes: fs.statSync(`${outfile}.map`).size,
        initMs: round(median(samples), 1),
        initSamplesMs: samples.map((s) => round(s, 1)),
        ownInitMs: round(median(ownSamples), 1),
        topInputs: [...byOwner]
          .sort((a, b) => b[1] - a[1])
          .slice(0, 5)
          .map(([input, n]) => ({ input, bytes: n })),
      });
    }
  } finally {
    fs.rmSync(outDir, { recursive: true, force: true });
  }
  return {
    functions,
    maxBytes: Math.max(...functions.map((f) => f.bytes)),
    maxInitMs: Math.max(...functions.map((f) => f.initMs)),
    maxOwnInitMs: Math.max(...functions.map((f) => f.ownInitMs)),
    sdkClientsInitMs: round(median(sdkSamples), 1),
  };
}
