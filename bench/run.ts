import * as fs from 'node:fs';
import * as path from 'node:path';
import { type ProfileName, runBench, TARGETS } from './harness';
import type { ScalingPoint } from './scaling';
import { scalingSvg } from './svg';

/**
 * `npm run bench` — every benchmark of issue 7 in one run: prints a table, writes
 * bench/results/latest.json, and (full profile, or `--svg`) the scaling plot
 * docs/benchmarks-scaling.svg.
 *
 * Options: `--quick` (under 2 minutes), `--svg`.
 */
async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const profile: ProfileName = args.includes('--quick') ? 'quick' : 'full';
  const log = (line: string): void => {
    process.stderr.write(`${line}\n`);
  };
  log(`shardflow bench — profile ${profile}`);
  const results = await runBench(profile, log);

  const out = path.resolve(__dirname, 'results', 'latest.json');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);

  const scaling = results.scaling as
    | { byBatchSize: ScalingPoint[]; byKeys: ScalingPoint[] }
    | { error: string }
    | undefined;
  if ((profile === 'full' || args.includes('--svg')) && scaling && !('error' in scaling)) {
    const svg = path.resolve(__dirname, '..', 'docs', 'benchmarks-scaling.svg');
    const machine = results.machine as { cpus: number; node: string };
    fs.writeFileSync(
      svg,
      scalingSvg(
        scaling,
        `npm run bench (${profile}), ${results.startedAt}, ${machine.cpus} cores, Node ${machine.node}; page-views core, in-memory store (writes modelled, checked against DynamoDB Local)`,
      ),
    );
    log(`wrote ${path.relative(process.cwd(), svg)}`);
  }
  process.stdout.write(`${table(results)}\n`);
  log(`wrote ${path.relative(process.cwd(), out)} (${results.durationSeconds} s)`);
}

// biome-ignore lint/suspicious/noExplicitAny: reads the figures back by path
const get = (o: any, p: string): any => p.split('.').reduce((v, k) => v?.[k], o);

const num = (v: unknown, digits = 0): string =>
  typeof v === 'number' && Number.isFinite(v)
    ? v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 })
    : 'n/a';

const verdict = (ok: boolean | undefined): string =>
  ok === undefined ? '' : ok ? 'met' : 'NOT met';

/** The printed table: one row per figure with its comparison, ratio and target. */
export function table(results: Record<string, unknown>): string {
  const r = results;
  const rows: string[][] = [['figure', 'shardflow', 'compared with', 'ratio', 'target', '']];
  const has = (p: string): boolean => typeof get(r, p) === 'number';
  if (has('core.ratioToFloor')) {
    for (const name of ['pageViews', 'trending'] as const) {
      rows.push([
        `core ${name === 'pageViews' ? 'page-views' : 'trending'} (records/CPU s)`,
        num(get(r, `core.${name}.pipelineRecordsPerSec`)),
        `decode floor ${num(get(r, `core.${name}.floorRecordsPerSec`))}`,
        `${num(get(r, `core.${name}.ratioToFloor`), 2)}×`,
        `guard ≥ ${num(TARGETS.coreGuard[name], 2)}×`,
        verdict(get(r, `core.${name}.ratioToFloor`) >= TARGETS.coreGuard[name]),
      ]);
      rows.push([
        '  stages alone (records/CPU s); wall-clock ratio',
        `decodeRecord ${num(get(r, `core.${name}.stages.decodeRecord`))}`,
        `preAggregate ${num(get(r, `core.${name}.stages.preAggregate`))}`,
        `wall ${num(get(r, `core.${name}.wall.ratioToFloor`), 2)}×`,
        '',
        '',
      ]);
    }
  } else rows.push(['core', 'error', String(get(r, 'core.error') ?? 'not run'), '', '', '']);
  if (has('writes.shardflowPer1k')) {
    rows.push([
      'DynamoDB write requests / 1k records (information)',
      num(get(r, 'writes.shardflowPer1k'), 1),
      `naive ${num(get(r, 'writes.naivePer1k'), 1)} / PT ${num(get(r, 'writes.powertoolsPer1k'), 1)}`,
      `${num(get(r, 'writes.vsNaive'), 1)}× / ${num(get(r, 'writes.vsPowertools'), 1)}× fewer`,
      '',
      '',
    ]);
    rows.push([
      '… item by item (groupWrites: false)',
      num(get(r, 'writes.shardflowItemByItem.writesPer1k'), 1),
      `naive ${num(get(r, 'writes.naivePer1k'), 1)}`,
      `${num(get(r, 'writes.naivePer1k') / get(r, 'writes.shardflowItemByItem.writesPer1k'), 1)}× fewer`,
      '',
      '',
    ]);
    rows.push([
      'billed write units / 1k records (cost.*.wruPer1k)',
      num(get(r, 'cost.shardflow.wruPer1k'), 1),
      `naive ${num(get(r, 'cost.naive.wruPer1k'), 1)}`,
      `${num(get(r, 'cost.wruVsNaive'), 2)}× fewer`,
      `≥ ${TARGETS.wruVsNaive}×`,
      verdict(get(r, 'cost.wruVsNaive') >= TARGETS.wruVsNaive),
    ]);
    rows.push([
      '',
      '',
      `Powertools ${num(get(r, 'cost.powertools.wruPer1k'), 1)}`,
      `${num(get(r, 'cost.wruVsPowertools'), 2)}× fewer`,
      `≥ ${TARGETS.wruVsPowertools}×`,
      verdict(get(r, 'cost.wruVsPowertools') >= TARGETS.wruVsPowertools),
    ]);
    rows.push([
      '… item by item; hopping 10m/1m',
      num(get(r, 'cost.shardflowItemByItem.wruPer1k'), 1),
      `hopping ${num(get(r, 'cost.shardflowHopping.wruPer1k'), 1)}`,
      `${num(get(r, 'cost.shardflowItemByItem.wruVsNaive'), 2)}× / ${num(get(r, 'cost.shardflowHopping.wruVsNaive'), 2)}× fewer than naive`,
      '',
      '',
    ]);
    for (const [name, label] of [
      ['trending', 'trending top-k'],
      ['highCardinality', '10,000 users (per-user counts)'],
      ['smallBatches', '50-record batches (1 s window)'],
    ] as const) {
      rows.push([
        `… ${label}: packs vs items, item by item`,
        num(get(r, `writes.workloads.${name}.packs.wruPer1k`), 1),
        `items ${num(get(r, `writes.workloads.${name}.items.wruPer1k`), 1)}`,
        `${num(get(r, `writes.workloads.${name}.ratio`), 3)}×`,
        '≤ 1×',
        verdict(get(r, `writes.workloads.${name}.ratio`) <= 1),
      ]);
    }
    if (get(r, 'writes.sessions.wruPer1k') !== undefined) {
      rows.push([
        '… sessions, 10,000 users (session store, unchanged)',
        num(get(r, 'writes.sessions.wruPer1k'), 1),
        `of which index ${num(get(r, 'writes.sessions.indexWruPer1k'), 1)}`,
        `reads ${num(get(r, 'writes.sessions.rruPer1k'), 1)}`,
        '',
        '',
      ]);
    }
    rows.push([
      'billed read units / 1k records',
      num(get(r, 'cost.shardflow.rruPer1k'), 1),
      `naive ${num(get(r, 'cost.naive.rruPer1k'), 1)} / PT ${num(get(r, 'cost.powertools.rruPer1k'), 1)}`,
      '',
      '',
      '',
    ]);
    rows.push([
      `$ / million records (${get(r, 'cost.region') ?? 'n/a'}: DynamoDB + Lambda + Kinesis)`,
      num(get(r, 'cost.shardflow.usdPerMillionRecords'), 3),
      `naive ${num(get(r, 'cost.naive.usdPerMillionRecords'), 3)} / PT ${num(get(r, 'cost.powertools.usdPerMillionRecords'), 3)} / Lambda windows ${num(get(r, 'cost.lambdaTumbling.usdPerMillionRecords'), 3)}`,
      '',
      '',
      '',
    ]);
    const billed = ['shardflow', 'shardflowItemByItem', 'shardflowHopping', 'naive', 'powertools'];
    const disagreements = billed.reduce(
      (n, c) =>
        n +
        (get(r, `writes.${c}.check.mismatches`) ?? 0) +
        (get(r, `writes.${c}.check.unmodelledRequests`) ?? 0),
      0,
    );
    rows.push([
      'cost model vs DynamoDB Local capacity (requests checked)',
      num(billed.reduce((n, c) => n + (get(r, `writes.${c}.check.checkedRequests`) ?? 0), 0)),
      `disagreeing or unmodelled: ${num(disagreements)}`,
      '',
      '0',
      verdict(disagreements === 0),
    ]);
    rows.push([
      get(r, 'writes.workload.parallel')
        ? 'DynamoDB Local records/s (run at once, billing side reads included: not comparable)'
        : 'handler records/s on DynamoDB Local (billing side reads included)',
      num((get(r, 'writes.shardflow.records') / get(r, 'writes.shardflow.ms')) * 1000),
      `naive ${num((get(r, 'writes.naive.records') / get(r, 'writes.naive.ms')) * 1000)} / PT ${num((get(r, 'writes.powertools.records') / get(r, 'writes.powertools.ms')) * 1000)}`,
      '',
      '',
      '',
    ]);
  } else rows.push(['writes', 'error', String(get(r, 'writes.error') ?? 'not run'), '', '', '']);
  if (has('overlap.ratio')) {
    rows.push([
      'hopping 10m/1m writes (steady state)',
      num(get(r, 'overlap.hoppingWrites')),
      `tumbling 1m ${num(get(r, 'overlap.tumblingWrites'))}`,
      `${num(get(r, 'overlap.ratio'), 2)}×`,
      `≤ ${TARGETS.overlapRatio}×`,
      verdict(get(r, 'overlap.ratio') <= TARGETS.overlapRatio),
    ]);
    rows.push([
      'hopping 10m/1m writes (from empty state)',
      num(get(r, 'overlap.coldHoppingWrites')),
      `tumbling 1m ${num(get(r, 'overlap.coldTumblingWrites'))}`,
      `${num(get(r, 'overlap.coldRatio'), 2)}×`,
      '',
      '',
    ]);
    rows.push([
      'hopping 10m/1m time (ms)',
      num(get(r, 'overlap.hoppingMs')),
      `tumbling 1m ${num(get(r, 'overlap.tumblingMs'))}`,
      `${num(get(r, 'overlap.timeRatio'), 2)}×`,
      `≤ ${TARGETS.overlapRatio}×`,
      verdict(get(r, 'overlap.timeRatio') <= TARGETS.overlapRatio),
    ]);
  }
  if (has('e2e.recordsPerSec')) {
    rows.push([
      'e2e full rate: enrich + page-views (records/s)',
      num(get(r, 'e2e.recordsPerSec')),
      `ingested ${num(get(r, 'e2e.fullRate.enrich.producedPerSec') + get(r, 'e2e.fullRate.pageViews.producedPerSec'))}`,
      '',
      '',
      '',
    ]);
    rows.push([
      'e2e enrich put→output p50 / p99 (ms)',
      `${num(get(r, 'e2e.p50Ms'))} / ${num(get(r, 'e2e.p99Ms'))}`,
      `trickle ${num(get(r, 'e2e.idleP50Ms'))} / ${num(get(r, 'e2e.idleP99Ms'))}`,
      '',
      '',
      '',
    ]);
    rows.push([
      'e2e backlog growth (records/s)',
      `enrich ${num(get(r, 'e2e.fullRate.enrich.backlogGrowthPerSec'), 1)} / page-views ${num(get(r, 'e2e.fullRate.pageViews.backlogGrowthPerSec'), 1)}`,
      '',
      '',
      '≤ 0 (none)',
      verdict(get(r, 'e2e.backlogGrowthPerSec') <= 0),
    ]);
  } else if (get(r, 'e2e.error'))
    rows.push(['e2e', 'error', String(get(r, 'e2e.error')), '', '', '']);
  if (has('bundle.maxBytes')) {
    rows.push([
      'largest bundle (bytes)',
      num(get(r, 'bundle.maxBytes')),
      '',
      '',
      `≤ ${num(TARGETS.bundleMaxBytes)}`,
      verdict(get(r, 'bundle.maxBytes') <= TARGETS.bundleMaxBytes),
    ]);
    rows.push([
      'slowest module init (ms, median)',
      num(get(r, 'bundle.maxInitMs'), 1),
      `own code ${num(get(r, 'bundle.maxOwnInitMs'), 1)}; runtime's SDK clients from node_modules (former setup) ${num(get(r, 'bundle.sdkClientsInitMs'), 1)}`,
      '',
      `≤ ${TARGETS.bundleMaxInitMs}`,
      verdict(get(r, 'bundle.maxInitMs') <= TARGETS.bundleMaxInitMs),
    ]);
  }
  const scaling = get(r, 'scaling.byKeys') as ScalingPoint[] | undefined;
  const byBatch = get(r, 'scaling.byBatchSize') as ScalingPoint[] | undefined;
  for (const p of [...(byBatch ?? []), ...(scaling ?? [])]) {
    rows.push([
      `scaling batch ${num(p.batchSize)}, keys ${num(p.keys)}`,
      `${num(p.recordsPerSec)} rec/s`,
      `${num(p.writesPerRecord, 3)} writes/record`,
      `${num(p.itemWritesPerRecord, 3)} items/record`,
      '',
      '',
    ]);
  }
  const widths =
    rows[0]?.map((_, c) => Math.max(...rows.map((row) => (row[c] ?? '').length))) ?? [];
  return rows
    .map((row, i) => {
      const line = row.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join('  ');
      return i === 0 ? `${line}\n${widths.map((w) => '-'.repeat(w)).join('  ')}` : line;
    })
    .join('\n');
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? error}\n`);
    process.exitCode = 1;
  });
}
