import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { build } from 'esbuild';
import { median, round } from './stats';

const ROOT = path.resolve(__dirname, '..');
const HANDLERS = path.join(ROOT, 'functions', 'handlers');

/** One function's bundle and its module init time. */
export interface BundleFigures {
  readonly name: string;
  readonly bytes: number;
  readonly initMs: number;
  readonly initSamplesMs: readonly number[];
  /**
   * Median init time of the bundle alone: `require` timed after the SDK clients were loaded
   * (untimed) in the same process, i.e. what shardflow's own code (and Powertools, zod) adds.
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

/** Modules the Lambda runtime provides that every handler loads. */
const SDK_CLIENTS = ['@aws-sdk/client-dynamodb', '@aws-sdk/client-kinesis'];

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
 * Bundles each handler with NodejsFunction's options (minify, external source map, platform
 * node, target node22, `@aws-sdk/*` external, CommonJS) and times `require` of the bundle in a
 * fresh node process, `samples` times (median). `@aws-sdk/*` resolves from node_modules, as the
 * Lambda runtime provides it; its load time is part of the init time. `ownInitMs` times the same
 * `require` with the SDK clients already loaded: the part of init the bundle itself costs.
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
    AWS_REGION: 'us-east-1',
  };
  // What the runtime-provided SDK clients alone cost to load (part of every handler's init).
  const sdkSamples: number[] = [];
  for (let i = 0; i < options.samples; i++) {
    sdkSamples.push(timeRequire(SDK_CLIENTS, childEnv));
  }
  try {
    for (const entry of handlerEntries()) {
      const name = path.basename(entry, '.ts');
      const outfile = path.join(outDir, name, 'index.js');
      const result = await build({
        metafile: true,
        entryPoints: [entry],
        outfile,
        bundle: true,
        minify: true,
        sourcemap: 'external',
        platform: 'node',
        target: 'node22',
        format: 'cjs',
        external: ['@aws-sdk/*'],
        tsconfig: path.join(ROOT, 'tsconfig.json'),
        logLevel: 'silent',
      });
      const bytes = fs.statSync(outfile).size;
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
        ownSamples.push(timeRequire([outfile], env, SDK_CLIENTS));
      }
      functions.push({
        name,
        bytes,
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
