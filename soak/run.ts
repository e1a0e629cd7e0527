import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { RESULTS_FILE, SOAK_DEFAULTS } from './constants';
import { renderReport } from './renderReport';
import { runSoak } from './runSoak';

const positive = (value: string): number => {
  const parsed = Number(value);
  if (!(parsed > 0)) throw new InvalidArgumentError(`must be a number > 0, got ${value}`);
  return parsed;
};

/**
 * `npm run soak -- --minutes N`: drives every pipeline on the embedded AWS, prints a table,
 * writes soak/results/latest.json, exits 0 when memory stayed flat and lag did not grow, 1 otherwise.
 */
async function main(): Promise<number> {
  const options = new Command('soak')
    .option(
      '--minutes <n>',
      'how long to drive the pipelines',
      positive,
      SOAK_DEFAULTS.durationMs / 60_000,
    )
    .option('--rate <n>', 'records/s per input stream (default: full rate)', positive)
    .option(
      '--sample-seconds <n>',
      'time between samples',
      positive,
      SOAK_DEFAULTS.sampleIntervalMs / 1000,
    )
    .option(
      '--max-backlog <n>',
      'full rate: records a stream may be ahead of its slowest mapping',
      positive,
      SOAK_DEFAULTS.maxBacklog,
    )
    .option('--seed <n>', 'generator seed', positive, SOAK_DEFAULTS.seed)
    .option('--out <file>', 'where to write the report', RESULTS_FILE)
    .parse()
    .opts<{
      minutes: number;
      rate?: number;
      sampleSeconds: number;
      maxBacklog: number;
      seed: number;
      out: string;
    }>();
  const started = Date.now();
  const log = (line: string): void => {
    process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)}s] ${line}\n`);
  };
  const interrupt = new AbortController();
  const onSignal = (): void => {
    log('interrupted: stopping, the report covers what was driven');
    interrupt.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const report = await runSoak({
    durationMs: options.minutes * 60_000,
    sampleIntervalMs: options.sampleSeconds * 1000,
    maxBacklog: options.maxBacklog,
    seed: options.seed,
    ...(options.rate === undefined ? {} : { rate: options.rate }),
    signal: interrupt.signal,
    log,
  });
  const out = path.resolve(options.out);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`${renderReport(report)}\n`);
  log(`wrote ${path.relative(process.cwd(), out)}`);
  if (report.ok) {
    log('soak passed: memory flat, lag not growing, no worker exited');
    return 0;
  }
  log('soak FAILED: see the problems above');
  return 1;
}

main().then(
  (code) => {
    // Nothing else to wait for: every engine and function process has been stopped.
    process.exit(code);
  },
  (error: unknown) => {
    process.stderr.write(
      `soak: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = 1;
  },
);
