import { runCore } from './core';

/**
 * The core throughput section alone (no engines, no bundles), for profiling and quick
 * before/after comparisons: `npx tsx bench/coreOnly.ts [--batches N] [--rounds N]`
 * (default: the full profile's 100 batches, 7 rounds). Prints the ratios and stages as JSON.
 * Profile with `node --cpu-prof --import tsx bench/coreOnly.ts --batches 30 --rounds 3`.
 */
async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const option = (name: string, fallback: number): number => {
    const i = args.indexOf(`--${name}`);
    const value = i === -1 ? undefined : Number(args[i + 1]);
    return value !== undefined && Number.isInteger(value) && value > 0 ? value : fallback;
  };
  const core = await runCore({ batches: option('batches', 100), rounds: option('rounds', 7) });
  const summary = (figures: typeof core.pageViews) => ({
    ratioToFloor: figures.ratioToFloor,
    wallRatioToFloor: figures.wall.ratioToFloor,
    stages: figures.stages,
    modelWritesPer1k: figures.modelWritesPer1k,
  });
  process.stdout.write(
    `${JSON.stringify({ pageViews: summary(core.pageViews), trending: { ...summary(core.trending), source: core.trending.source } }, null, 2)}\n`,
  );
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? error}\n`);
    process.exitCode = 1;
  });
}
