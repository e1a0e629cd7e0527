import { enrichRecords } from '#local/cli/demo/enrichRecords';
import { type FeedRecord, feedStream } from '#local/cli/demo/feedStream';
import { findProblems } from '#local/cli/demo/findProblems';
import type { DemoSnapshot, PipelineSnapshot } from '#local/cli/demo/types';
import type { SinkRecord } from '#sinks/index';

function pipeline(
  name: string,
  sent: number,
  recordsIn: number,
  failed = 0,
  errors = 0,
): PipelineSnapshot {
  return {
    name,
    input: 'clicks',
    sent,
    recordsIn,
    recordsOut: 0,
    alerts: 0,
    late: 0,
    invalid: 0,
    failed,
    errors,
    lagMs: 0,
    recent: [],
    recentAlerts: [],
  };
}

function finalOf(enrich: DemoSnapshot['enrich'], pipelines: PipelineSnapshot[] = []): DemoSnapshot {
  return { now: 0, phase: 'done', elapsedMs: 0, pipelines, enrich };
}

class RecordingSink {
  public readonly calls: SinkRecord[][] = [];
  public async send(records: readonly SinkRecord[]): Promise<void> {
    this.calls.push([...records]);
  }
}

describe('findProblems', () => {
  it('passes when all 1,000 enrich events came back once and every pipeline processed records', () => {
    // GIVEN a busy machine: page-views still has a backlog
    const final = finalOf({ sent: 1000, received: 1000, duplicates: 0 }, [
      pipeline('page-views', 1200, 900),
    ]);

    // WHEN / THEN
    expect(findProblems(final, { events: 1000 })).toEqual([]);
  });

  it('fails when an enrich event is missing, duplicated, or fewer were sent', () => {
    // WHEN
    const missing = findProblems(finalOf({ sent: 1000, received: 999, duplicates: 0 }), {
      events: 1000,
    });
    const duplicated = findProblems(finalOf({ sent: 1000, received: 1000, duplicates: 2 }), {});
    const short = findProblems(finalOf({ sent: 800, received: 800, duplicates: 0 }), {
      events: 1000,
    });

    // THEN
    expect(missing).toEqual(['enrich: 999 of 1000 events came back, 0 duplicates']);
    expect(duplicated).toEqual(['enrich: 1000 of 1000 events came back, 2 duplicates']);
    expect(short).toEqual(['enrich: sent 800 of 1000 events']);
  });

  it('fails when a pipeline processed nothing because its invocations fail, gave records up, or sending failed', () => {
    // WHEN
    const problems = findProblems(
      finalOf({ sent: 10, received: 10, duplicates: 0 }, [
        pipeline('page-views', 50, 0),
        pipeline('sessions', 50, 0, 0, 4),
        pipeline('trending', 50, 50, 3),
      ]),
      { feedError: new Error('stream not found') },
    );

    // THEN
    expect(problems).toEqual([
      'sending failed: stream not found',
      'sessions: processed none of the 50 records sent to it, 4 invocations failed (--verbose shows why)',
      'trending: 3 records were given up on (on-failure destination)',
    ]);
  });

  it('after --forever, accepts enrich events still on their way but not duplicates', () => {
    // WHEN / THEN
    expect(
      findProblems(finalOf({ sent: 500, received: 480, duplicates: 0 }), { allBack: false }),
    ).toEqual([]);
    expect(
      findProblems(finalOf({ sent: 500, received: 480, duplicates: 1 }), { allBack: false }),
    ).toHaveLength(1);
  });
});

describe('feedStream', () => {
  it('sends records already due at once, in chunks, stamping lazily built data when sent', async () => {
    // GIVEN 1,200 records of a backfill (all due) and a fixed clock
    const now = 1_000_000;
    const records: FeedRecord[] = Array.from({ length: 1200 }, (_, i) => ({
      sentAt: now - 90_000 + i,
      partitionKey: `k${i}`,
      data: `{"n":${i}}`,
    }));
    const sink = new RecordingSink();
    const sent: number[] = [];

    // WHEN
    const count = await feedStream({
      records,
      sink,
      signal: new AbortController().signal,
      onSent: (chunk) => sent.push(chunk.length),
      clock: () => now,
    });

    // THEN
    expect(count).toBe(1200);
    expect(sent).toEqual([500, 500, 200]);
    expect(sink.calls.flat().map((r) => r.data)).toEqual(records.map((r) => r.data));
    expect(sink.calls[0]?.[0]).toEqual({ data: '{"n":0}', partitionKey: 'k0' });
  });

  it('paces future records in real time and stops sending when aborted', async () => {
    // GIVEN enrich events every 40 ms for ever
    const controller = new AbortController();
    const sink = new RecordingSink();
    const start = Date.now();

    // WHEN aborted after ~300 ms
    setTimeout(() => controller.abort(), 300);
    const count = await feedStream({
      records: enrichRecords(start, 40, Number.POSITIVE_INFINITY),
      sink,
      signal: controller.signal,
      tickMs: 50,
    });

    // THEN about 300 / 40 events went, each stamped with its send time
    expect(Date.now() - start).toBeLessThan(1000);
    expect(count).toBeGreaterThanOrEqual(4);
    expect(count).toBeLessThanOrEqual(9);
    const events = sink.calls.flat().map((r) => JSON.parse(r.data as string));
    expect(events[0]).toMatchObject({ id: 'event-0', device: 'device-0', value: 0 });
    expect(events.map((e) => e.id)).toEqual(events.map((_, i) => `event-${i}`));
    for (const [i, event] of events.entries()) {
      expect(event.sentAt).toBeGreaterThanOrEqual(start + i * 40);
    }
  });
});

describe('enrichRecords', () => {
  it('yields exactly the asked number of events, spread over the run, one partition key each', () => {
    // WHEN
    const records = [...enrichRecords(0, 60, 1000)];

    // THEN
    expect(records).toHaveLength(1000);
    expect(records[999]?.sentAt).toBe(59_940);
    expect(new Set(records.map((r) => r.partitionKey)).size).toBe(1000);
  });
});
