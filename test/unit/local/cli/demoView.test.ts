import { renderProgressLine } from '#local/cli/demo/renderProgressLine';
import { renderSummary } from '#local/cli/demo/renderSummary';
import { renderView } from '#local/cli/demo/renderView';
import { TerminalView } from '#local/cli/demo/TerminalView';
import type { DemoOutput, DemoResult, DemoSnapshot, PipelineSnapshot } from '#local/cli/demo/types';

// biome-ignore lint/suspicious/noControlCharactersInRegex: detecting ANSI codes
const ANSI_PATTERN = /\u001b\[/;
const MIN = 60_000;
const T10 = Date.UTC(2026, 10, 26, 10, 0);

function result(key: string, start: number, end: number, values: DemoResult['values']): DemoResult {
  return { id: `${key}|${start}|${end}`, key, windowStart: start, windowEnd: end, values };
}

function pipelineOf(overrides: Partial<PipelineSnapshot> & { name: string }): PipelineSnapshot {
  return {
    input: 'clicks',
    sent: 0,
    recordsIn: 0,
    recordsOut: 0,
    alerts: 0,
    late: 0,
    invalid: 0,
    failed: 0,
    errors: 0,
    lagMs: 0,
    recent: [],
    recentAlerts: [],
    ...overrides,
  };
}

const TUMBLING_1M = { kind: 'tumbling', sizeMs: MIN, slideMs: MIN, sliceMs: MIN } as const;

/** A snapshot 42 s into a one-minute run, every pipeline with something to show. */
function snapshotOf(overrides: Partial<DemoSnapshot> = {}): DemoSnapshot {
  return {
    now: T10 + 90_000,
    phase: 'running',
    elapsedMs: 42_000,
    durationMs: 60_000,
    pipelines: [
      pipelineOf({
        name: 'enrich',
        input: 'numbers',
        sent: 700,
        recordsIn: 700,
        recordsOut: 699,
        lagMs: 812,
      }),
      pipelineOf({
        name: 'page-views',
        window: TUMBLING_1M,
        sent: 1203,
        recordsIn: 1180,
        recordsOut: 61,
        openWindows: 44,
        watermark: T10 + MIN,
        late: 2,
        invalid: 3,
        failed: 5,
        errors: 1,
        lagMs: 1200,
        recent: [
          result('/old', T10 - MIN, T10, { views: 99, users: 50 }),
          result('/search', T10, T10 + MIN, { views: 7, users: 5 }),
          result('/home', T10, T10 + MIN, { views: 42, users: 17 }),
          result('/blog', T10, T10 + MIN, { views: 3, users: 3 }),
          result('/cart', T10, T10 + MIN, { views: 12, users: 9 }),
        ],
      }),
      pipelineOf({
        name: 'sessions',
        window: { kind: 'session', gapMs: 30 * MIN },
        sent: 1203,
        recordsIn: 1180,
        openWindows: 221,
        lagMs: 1100,
      }),
      pipelineOf({
        name: 'error-rate',
        input: 'requests',
        window: { kind: 'hopping', sizeMs: 5 * MIN, slideMs: MIN, sliceMs: MIN },
        sent: 880,
        recordsIn: 870,
        recordsOut: 30,
        alerts: 1,
        openWindows: 30,
        lagMs: 2500,
        recent: [
          result('search', T10 - 4 * MIN, T10 + MIN, {
            errorRate: 0.005,
            requests: 200,
            p99LatencyMs: null,
          }),
          result('checkout', T10 - 4 * MIN, T10 + MIN, {
            errorRate: 0.118,
            requests: 212,
            errors: 25,
            p99LatencyMs: 2410,
          }),
        ],
        recentAlerts: [
          result('checkout', T10 - 4 * MIN, T10 + MIN, {
            errorRate: 0.118,
            requests: 212,
            errors: 25,
          }),
        ],
      }),
      pipelineOf({
        name: 'trending',
        input: 'product-views',
        window: { kind: 'hopping', sizeMs: 10 * MIN, slideMs: MIN, sliceMs: MIN },
        sent: 850,
        recordsIn: 850,
        recordsOut: 18,
        openWindows: 60,
        lagMs: 900,
        recent: [
          result('toys', T10 - 9 * MIN, T10 + MIN, {
            top: [
              { productId: 'toys-p77', views: 31 },
              { productId: 'toys-p3', views: 12 },
            ],
          }),
          result('electronics', T10 - 9 * MIN, T10 + MIN, {
            top: [{ productId: 'electronics-p1', views: 28 }],
          }),
        ],
      }),
    ],
    enrich: { sent: 700, received: 699, duplicates: 0, p50Ms: 812, p99Ms: 1903 },
    ...overrides,
  };
}

class FakeTerminal implements DemoOutput {
  public text = '';
  public constructor(
    public readonly isTTY: boolean,
    public readonly columns = 100,
  ) {}
  public write(text: string): boolean {
    this.text += text;
    return true;
  }
}

describe('demo view', () => {
  it('shows per pipeline records in and out, open windows, late, invalid, failures and lag', () => {
    // GIVEN
    const snapshot = snapshotOf();

    // WHEN
    const lines = renderView(snapshot, { width: 120 });

    // THEN
    expect(lines[0]).toBe('shardflow demo · 5 pipelines on the embedded AWS · 0:42 of 1:00');
    const header = lines.find((line) => line.startsWith('pipeline')) ?? '';
    expect(header.split(/\s+/)).toEqual([
      'pipeline',
      'sent',
      'in',
      'out',
      'alerts',
      'open',
      'late',
      'invalid',
      'failed',
      'errors',
      'lag',
      'watermark',
    ]);
    const row = (name: string): string[] =>
      (lines.find((line) => line.startsWith(`${name} `)) ?? '').trim().split(/\s+/);
    expect(row('enrich')).toEqual([
      'enrich',
      '700',
      '700',
      '699',
      '–',
      '–',
      '–',
      '0',
      '0',
      '0',
      '812',
      'ms',
      '–',
    ]);
    expect(row('page-views')).toEqual([
      'page-views',
      '1203',
      '1180',
      '61',
      '0',
      '44',
      '2',
      '3',
      '5',
      '1',
      '1.2',
      's',
      '10:01:00',
    ]);
    expect(row('sessions')[5]).toBe('221');
  });

  it('shows the latest closed results: busiest pages, worst services, alerts, trending products', () => {
    // WHEN
    const text = renderView(snapshotOf(), { width: 200 }).join('\n');

    // THEN the newest window only, ranked
    expect(text).toContain(
      'page-views  10:00–10:01  /home 42 views 17 users · /cart 12 views 9 users · /search 7 views 5 users',
    );
    expect(text).not.toContain('/old');
    expect(text).toContain(
      'error-rate  09:56–10:01  checkout 12% err of 212, p99 2.4 s · search 0.5% err of 200',
    );
    expect(text).toContain('  alerts    checkout 12% errors (25 of 212 requests) in 09:56–10:01');
    expect(text).toContain(
      'trending    09:51–10:01  toys-p77 31 views · electronics-p1 28 views · toys-p3 12 views',
    );
    expect(text).toContain('sessions    none closed yet: a session closes 30 min after its user');
    expect(text).toContain(
      'enrich      699 of 700 events back · put → output p50 812 ms, p99 1.9 s',
    );
  });

  it('cuts every line to the terminal width so a redraw never wraps', () => {
    // WHEN
    const lines = renderView(snapshotOf(), { width: 60 });

    // THEN
    for (const line of lines) expect([...line].length).toBeLessThanOrEqual(60);
    expect(lines.some((line) => line.endsWith('…'))).toBe(true);
  });

  it('says when generation runs until Ctrl-C and when it is draining', () => {
    // WHEN
    const forever = renderView(snapshotOf({ durationMs: undefined }));
    const draining = renderView(snapshotOf({ phase: 'draining' }));

    // THEN
    expect(forever[0]).toContain('0:42 (until Ctrl-C)');
    expect(draining[1]).toContain('generation stopped, waiting for the pipelines to catch up');
  });

  it('prints one compact plain progress line without ANSI codes', () => {
    // WHEN
    const line = renderProgressLine(snapshotOf());

    // THEN
    expect(line).not.toMatch(ANSI_PATTERN);
    expect(line).not.toContain('\n');
    expect(line).toBe(
      '[0:42] enrich 700→699 · page-views 1180→61 open 44 late 2 invalid 3 failed 5 · sessions 1180→0 open 221 · error-rate 870→30 alerts 1 open 30 · trending 850→18 open 60 · lag ≤ 2.5 s',
    );
  });

  it('summarises the enrich contract in the issue-2 lines, then every pipeline', () => {
    // GIVEN
    const snapshot = snapshotOf({
      enrich: { sent: 1000, received: 1000, duplicates: 0, p50Ms: 812, p99Ms: 1903 },
    });

    // WHEN
    const summary = renderSummary(snapshot, { tookMs: 112_345, generatedSeconds: 60 });

    // THEN
    expect(summary).toContain(
      'shardflow demo — 5 pipelines on the embedded AWS, 60 s of generated events',
    );
    expect(summary).toContain('  sent       1000\n  received   1000\n  duplicates 0\n');
    expect(summary).toContain('  latency    p50 812 ms, p99 1903 ms (put → output)');
    expect(summary).toMatch(/\n {2}page-views\s+1203\s+1180\s+61\s/);
    expect(summary).toContain('  took       112.3 s');
    expect(summary).not.toMatch(ANSI_PATTERN);
  });
});

describe('TerminalView', () => {
  it('redraws in place on a TTY: moves up over the previous frame and erases it', () => {
    // GIVEN
    const terminal = new FakeTerminal(true, 80);
    const view = new TerminalView(terminal, { redraw: true });

    // WHEN
    view.show(snapshotOf());
    const first = terminal.text;
    const frameLines = first.split('\n').length - 1;
    view.show(snapshotOf({ elapsedMs: 43_000 }));
    const second = terminal.text.slice(first.length);
    view.close();
    const closing = terminal.text.slice(first.length + second.length);

    // THEN
    expect(first.startsWith('\u001b[?25l')).toBe(true);
    expect(second.startsWith(`\u001b[${frameLines}A\r\u001b[0J`)).toBe(true);
    expect(second).toContain('0:43 of 1:00');
    expect(closing).toBe(`\u001b[${frameLines}A\r\u001b[0J\u001b[?25h`);
    for (const line of second.split('\n')) {
      // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping ANSI codes
      expect([...line.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '')].length).toBeLessThanOrEqual(79);
    }
  });

  it('prints a plain progress line per snapshot when the output is not a TTY', () => {
    // GIVEN
    const pipe = new FakeTerminal(false);
    const view = new TerminalView(pipe, { redraw: false });

    // WHEN
    view.show(snapshotOf());
    view.show(snapshotOf({ elapsedMs: 47_000 }));
    view.close();

    // THEN
    const lines = pipe.text.split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^\[0:42\] enrich 700→699/);
    expect(lines[1]).toMatch(/^\[0:47\] /);
    expect(pipe.text).not.toMatch(ANSI_PATTERN);
  });
});
