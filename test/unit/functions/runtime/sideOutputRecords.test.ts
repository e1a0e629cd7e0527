import { z } from 'zod';
import { errorRate } from '#pipelines/error-rate';
import {
  count,
  PipelineDefinitionError,
  pipeline,
  sideOutputId,
  sideOutputRecords,
  tumbling,
  windowResult,
} from '#runtime/index';

const WINDOW = { start: Date.UTC(2026, 0, 5, 10, 0), end: Date.UTC(2026, 0, 5, 10, 5) };
const Event = z.object({ k: z.string(), bad: z.boolean() });
const base = () =>
  pipeline('checks')
    .from('in', { schema: Event })
    .keyBy((e) => e.k)
    .window(tumbling('1m'))
    .aggregate({ n: count(), bad: count((e) => e.bad) });

describe('select and alert', () => {
  it('projects the values of final and update results with the window as context', () => {
    // GIVEN
    const definition = base()
      .select((v, w) => ({ ...v, share: v.bad / v.n, width: w.end - w.start }))
      .to('out');
    // WHEN
    const result = windowResult(
      definition,
      'a',
      WINDOW,
      { n: 4, bad: 1 },
      {
        final: false,
        emittedAt: 0,
      },
    );
    // THEN
    expect(result.values).toEqual({ n: 4, bad: 1, share: 0.25, width: 300_000 });
    expect(definition.config).toMatchObject({ projected: true, outputs: ['out'] });
  });

  it('leaves the config of pipelines without select or alert unchanged', () => {
    // WHEN
    const definition = base().to('out');
    // THEN
    expect(definition.config).not.toHaveProperty('projected');
    expect(definition.config).not.toHaveProperty('sideOutputs');
    expect(definition.select).toBeUndefined();
    expect(definition.sideOutputs).toEqual([]);
  });

  it('lists alert streams after the main output in config.outputs', () => {
    // WHEN
    const definition = base()
      .alert('alerts', { when: (r) => r.values.bad > 0 })
      .to('out');
    // THEN
    expect(definition.config.outputs).toEqual(['out', 'alerts']);
    expect(definition.config.sideOutputs).toEqual([{ stream: 'alerts', kind: 'alert' }]);
  });

  it('fails for an alert stream that is the output, the input, declared twice, or before select', () => {
    // THEN
    expect(() =>
      base()
        .alert('out', { when: () => true })
        .to('out'),
    ).toThrow(PipelineDefinitionError);
    expect(() => base().alert('in', { when: () => true })).toThrow(/input stream/);
    expect(() =>
      base()
        .alert('a', { when: () => true })
        .alert('a', { when: () => true }),
    ).toThrow(/twice/);
    expect(() =>
      base()
        .alert('a', { when: () => true })
        .select((v) => v),
    ).toThrow(/before alert/);
  });
});

describe('sideOutputRecords', () => {
  it('builds an alert with a stable id for a final error-rate result over the thresholds', () => {
    // GIVEN a final window of 40 requests, 4 errors
    const accs = { requests: 40, errors: 4 };
    const result = windowResult(errorRate, 'checkout', WINDOW, accs, {
      final: true,
      emittedAt: WINDOW.end + 1000,
    });
    // WHEN
    const records = sideOutputRecords(errorRate, result);
    const again = sideOutputRecords(errorRate, { ...result, emittedAt: 'later' });
    // THEN
    expect(result.values).toMatchObject({ requests: 40, errors: 4, errorRate: 0.1 });
    expect(records).toEqual([
      {
        stream: 'alerts',
        record: {
          id: sideOutputId('error-rate', 'alerts', 'checkout', WINDOW),
          pipeline: 'error-rate',
          output: 'alerts',
          key: 'checkout',
          window: result.window,
          service: 'checkout',
          errorRate: 0.1,
          requests: 40,
          errors: 4,
          p99LatencyMs: null,
          threshold: { errorRate: 0.05, minRequests: 20 },
          emittedAt: result.emittedAt,
        },
      },
    ]);
    expect(again[0]?.record.id).toBe(records[0]?.record.id);
  });

  it('raises nothing below 20 requests, below 5 %, or for update results', () => {
    // GIVEN
    const of = (requests: number, errors: number, final: boolean) =>
      sideOutputRecords(
        errorRate,
        windowResult(errorRate, 's', WINDOW, { requests, errors }, { final, emittedAt: 0 }),
      );
    // THEN
    expect(of(19, 19, true)).toEqual([]);
    expect(of(100, 4, true)).toEqual([]);
    expect(of(100, 5, false)).toEqual([]);
    expect(of(100, 5, true)).toHaveLength(1);
  });
});
