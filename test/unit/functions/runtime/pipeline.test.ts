import { z } from 'zod';
import { count } from '#runtime/aggregates/count';
import { distinct } from '#runtime/aggregates/distinct';
import { percentiles } from '#runtime/aggregates/percentiles';
import { PipelineDefinitionError } from '#runtime/errors';
import { pipeline } from '#runtime/pipeline';
import { hopping } from '#runtime/windows/hopping';
import { session } from '#runtime/windows/session';
import { tumbling } from '#runtime/windows/tumbling';

const PageView = z.object({
  type: z.string(),
  page: z.string(),
  userId: z.string(),
  ts: z.string(),
  ms: z.number(),
});

const pageViews = () =>
  pipeline('page-views')
    .from('clicks', { schema: PageView })
    .filter((e) => e.type === 'page_view')
    .keyBy((e) => e.page)
    .window(tumbling('1m'), { eventTime: (e) => e.ts, maxOutOfOrderness: '30s' })
    .aggregate({
      views: count(),
      users: distinct((e) => e.userId),
      latency: percentiles((e) => e.ms, [0.5, 0.99]),
    });

const run = (
  transform: (v: unknown, sink: (e: unknown) => void) => void,
  value: unknown,
): unknown[] => {
  const out: unknown[] = [];
  transform(value, (e) => out.push(e));
  return out;
};

describe('pipeline', () => {
  it('builds a frozen windowed definition whose config is plain JSON for infra', () => {
    // WHEN
    const definition = pageViews().emit('final').to('page-view-counts');

    // THEN
    expect(Object.isFrozen(definition)).toBe(true);
    expect(JSON.parse(JSON.stringify(definition.config))).toEqual({
      kind: 'windowed',
      name: 'page-views',
      input: { stream: 'clicks' },
      outputs: ['page-view-counts'],
      stages: ['filter'],
      window: { kind: 'tumbling', sizeMs: 60_000, slideMs: 60_000, sliceMs: 60_000 },
      eventTime: 'extractor',
      maxOutOfOrdernessMs: 30_000,
      idleTimeoutMs: 60_000,
      emit: 'final',
      aggregates: [
        { name: 'views', kind: 'count', additive: true, options: {} },
        {
          name: 'users',
          kind: 'distinct',
          additive: false,
          options: { exactThreshold: 64, precision: 12 },
        },
        {
          name: 'latency',
          kind: 'percentiles',
          additive: false,
          options: { quantiles: [0.5, 0.99], relativeAccuracy: 0.01, maxBuckets: 2048 },
        },
      ],
    });
    expect(definition.aggregateNames).toEqual(['views', 'users', 'latency']);
  });

  it('types values end to end', () => {
    // GIVEN
    const definition = pageViews().to('page-view-counts');
    type Values = import('#runtime/types').AggregateValues<typeof definition.aggregates>;

    // WHEN
    const values: Values = { views: 1, users: 2, latency: { p50: 1, p99: null } };

    // THEN
    expect(values.views + values.users).toBe(3);
    const stream = pipeline('x').from('a', { schema: PageView });
    // @ts-expect-error keyBy must return a string
    stream.keyBy((e) => e.ms);
  });

  it('compiles filter, map and flatMap into one transform, in order', () => {
    // GIVEN
    const definition = pipeline('enrich')
      .from('numbers', { schema: z.object({ n: z.number() }) })
      .filter((e) => e.n > 0)
      .map((e) => ({ n: e.n * 2 }))
      .flatMap((e) => [e, { n: e.n + 1 }])
      .to('numbers-doubled', { partitionKey: (e) => String(e.n) });

    // WHEN / THEN
    expect(definition.kind).toBe('stateless');
    expect(definition.config.stages).toEqual(['filter', 'map', 'flatMap']);
    expect(run(definition.transform, { n: 3 })).toEqual([{ n: 6 }, { n: 7 }]);
    expect(run(definition.transform, { n: -1 })).toEqual([]);
  });

  it('keeps builders immutable so branches do not leak into each other', () => {
    const base = pipeline('p').from('in', { schema: z.number() });
    const doubled = base.map((n) => n * 2).to('out');
    const plain = base.to('out');
    expect(run(doubled.transform, 2)).toEqual([4]);
    expect(run(plain.transform, 2)).toEqual([2]);
  });

  it('records hopping and session window specs and update mode', () => {
    const hop = pageViews().to('out');
    expect(hop.config.window.kind).toBe('tumbling');
    const sliding = pipeline('h')
      .from('in', { schema: PageView })
      .keyBy((e) => e.page)
      .window(hopping('10m', '1m'), { idleTimeout: '2m' })
      .aggregate({ n: count() })
      .emit('update')
      .to('out');
    expect(sliding.config).toMatchObject({
      window: { kind: 'hopping', sizeMs: 600_000, slideMs: 60_000, sliceMs: 60_000 },
      eventTime: 'approximateArrivalTimestamp',
      maxOutOfOrdernessMs: 0,
      idleTimeoutMs: 120_000,
      emit: 'update',
    });
    const sessions = pipeline('s')
      .from('in', { schema: PageView })
      .keyBy((e) => e.userId)
      .window(session('30m'))
      .aggregate({ n: count() })
      .to('out');
    expect(sessions.config.window).toEqual({ kind: 'session', gapMs: 1_800_000 });
  });

  it.each(['', 'Page-Views', 'page_views', '-x', 'a'.repeat(65)])(
    'fails on the pipeline name %p',
    (name) => {
      expect(() => pipeline(name)).toThrow(PipelineDefinitionError);
    },
  );

  it('fails on a bad stream name or an output equal to the input', () => {
    expect(() => pipeline('p').from('In', { schema: z.number() })).toThrow(/input stream name/);
    expect(() => pipeline('p').from('in', { schema: z.number() }).to('in')).toThrow(/must differ/);
  });

  /** A tumbling page-view pipeline with these window options. */
  const windowed = (options: Record<string, unknown>) =>
    pipeline('p')
      .from('in', { schema: PageView })
      .keyBy((e) => e.page)
      .window(tumbling('1m'), options)
      .aggregate({ n: count() })
      .to('out');

  it('fails on a bad max out-of-orderness (or its deprecated name), naming the pipeline', () => {
    expect(() => windowed({ maxOutOfOrderness: '30 s' })).toThrow(
      /pipeline "p": maxOutOfOrderness: invalid duration/,
    );
    expect(() => windowed({ allowedLateness: '30 s' })).toThrow(
      /pipeline "p": allowedLateness: invalid duration/,
    );
    expect(() => windowed({ maxOutOfOrderness: '30s', allowedLateness: '30s' })).toThrow(
      /give maxOutOfOrderness only/,
    );
  });

  it('reads maxOutOfOrderness, and allowedLateness as its deprecated name', () => {
    expect(windowed({ maxOutOfOrderness: '30s' }).maxOutOfOrdernessMs).toBe(30_000);
    expect(windowed({ allowedLateness: '20s' }).maxOutOfOrdernessMs).toBe(20_000);
    expect(windowed({}).maxOutOfOrdernessMs).toBe(0);
    expect(windowed({ maxOutOfOrderness: '5s' }).config).toMatchObject({
      maxOutOfOrdernessMs: 5_000,
    });
  });

  it('fails on no aggregate, a bad aggregate name or emit mode', () => {
    const windowed = pipeline('p')
      .from('in', { schema: PageView })
      .keyBy((e) => e.page)
      .window(tumbling('1m'));
    expect(() => windowed.aggregate({})).toThrow(PipelineDefinitionError);
    expect(() => windowed.aggregate({ 'bad-name': count() })).toThrow(/aggregate name/);
    expect(() => windowed.aggregate({ n: count() }).emit('sometimes' as never)).toThrow(
      /emit mode/,
    );
  });

  it('fails without a schema', () => {
    expect(() => pipeline('p').from('in', {} as never)).toThrow(/needs \{ schema \}/);
  });
});
