import type { Deployment } from '#local/assembly/types';
import { countOpenWindows } from '#local/cli/demo/countOpenWindows';
import { findDemoPipelines } from '#local/cli/demo/findDemoPipelines';

const MIN = 60_000;
const T10 = Date.UTC(2026, 10, 26, 10, 0);

describe('countOpenWindows', () => {
  it('counts one open window per tumbling slice after the watermark', () => {
    // GIVEN
    const tumbling = { kind: 'tumbling', sizeMs: MIN, slideMs: MIN, sliceMs: MIN } as const;
    const due = [
      { key: '/home', start: T10 - MIN, end: T10 },
      { key: '/home', start: T10, end: T10 + MIN },
      { key: '/cart', start: T10, end: T10 + MIN },
    ];

    // WHEN / THEN
    expect(countOpenWindows(due, tumbling, undefined)).toBe(3);
    expect(countOpenWindows(due, tumbling, T10)).toBe(2);
    expect(countOpenWindows(due, tumbling, T10 + MIN)).toBe(0);
  });

  it('counts each hopping window once per key, however many of its slices are open', () => {
    // GIVEN 5-minute windows every minute: a slice belongs to 5 windows
    const hopping = { kind: 'hopping', sizeMs: 5 * MIN, slideMs: MIN, sliceMs: MIN } as const;
    const oneSlice = [{ key: 'checkout', start: T10, end: T10 + MIN }];
    const twoSlices = [...oneSlice, { key: 'checkout', start: T10 + MIN, end: T10 + 2 * MIN }];

    // WHEN / THEN windows starting 09:56 … 10:00, then also 10:01
    expect(countOpenWindows(oneSlice, hopping, undefined)).toBe(5);
    expect(countOpenWindows(twoSlices, hopping, undefined)).toBe(6);
    // the window 09:56–10:01 is closed once the watermark reaches 10:01
    expect(countOpenWindows(twoSlices, hopping, T10 + MIN)).toBe(5);
    expect(
      countOpenWindows(
        [...twoSlices, { key: 'auth', start: T10, end: T10 + MIN }],
        hopping,
        T10 + MIN,
      ),
    ).toBe(9);
  });

  it('counts open sessions', () => {
    // GIVEN
    const session = { kind: 'session', gapMs: 30 * MIN } as const;
    const due = [
      { key: 'u-1', start: T10, end: T10 + 31 * MIN },
      { key: 'u-1', start: T10 + 40 * MIN, end: T10 + 75 * MIN },
      { key: 'u-2', start: T10, end: T10 + 30 * MIN },
    ];

    // WHEN / THEN
    expect(countOpenWindows(due, session, undefined)).toBe(3);
    expect(countOpenWindows(due, session, T10 + 30 * MIN)).toBe(2);
  });
});

describe('findDemoPipelines', () => {
  const named = (physicalName: string) => ({
    physicalName,
    arn: `arn:${physicalName}`,
    type: 'AWS::Kinesis::Stream',
    logicalId: physicalName,
    stack: 'shardflow-dev',
  });
  const fn = (functionName: string, environment: Record<string, string>) =>
    ({ functionName, environment }) as unknown as Deployment['functions'][number];

  it('finds the deployed pipelines with their function, output, alert and failure streams', () => {
    // GIVEN a deployment of enrich and error-rate only
    const deployment = {
      names: {
        numbers: named('dev-numbers'),
        'numbers-doubled': named('dev-numbers-doubled'),
        'enrich-failures': named('dev-enrich-failures'),
        requests: named('dev-requests'),
        'service-health': named('dev-service-health'),
        alerts: named('dev-alerts'),
        'error-rate-failures': named('dev-error-rate-failures'),
      },
      functions: [
        fn('dev-sweeper', { SHARDFLOW_STATE_TABLE: 'dev-state' }),
        fn('dev-error-rate', {
          SHARDFLOW_PIPELINE: 'error-rate',
          SHARDFLOW_STATE_TABLE: 'dev-state',
        }),
        fn('dev-enrich', { SHARDFLOW_PIPELINE: 'enrich' }),
      ],
    };

    // WHEN
    const app = findDemoPipelines(deployment);

    // THEN in the view's order, pipelines without a function left out
    expect(app.stateTable).toBe('dev-state');
    expect(app.pipelines).toEqual([
      {
        name: 'enrich',
        functionName: 'dev-enrich',
        input: 'numbers',
        output: 'dev-numbers-doubled',
        sideOutputs: [],
        failureStream: 'dev-enrich-failures',
      },
      {
        name: 'error-rate',
        functionName: 'dev-error-rate',
        input: 'requests',
        output: 'dev-service-health',
        sideOutputs: ['dev-alerts'],
        failureStream: 'dev-error-rate-failures',
        window: { kind: 'hopping', sizeMs: 5 * MIN, slideMs: MIN, sliceMs: MIN },
      },
    ]);
  });
});
