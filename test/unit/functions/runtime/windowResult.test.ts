import { createHash } from 'node:crypto';
import { z } from 'zod';
import { count } from '#runtime/aggregates/count';
import { distinct } from '#runtime/aggregates/distinct';
import { pipeline } from '#runtime/pipeline';
import { resultId, windowResult } from '#runtime/windowResult';
import { tumbling } from '#runtime/windows/tumbling';

const pageViews = pipeline('page-views')
  .from('clicks', { schema: z.object({ page: z.string(), userId: z.string() }) })
  .keyBy((e) => e.page)
  .window(tumbling('1m'))
  .aggregate({ views: count(), users: distinct((e) => e.userId) })
  .to('page-view-counts');

const WINDOW = {
  start: Date.parse('2026-11-26T10:00:00.000Z'),
  end: Date.parse('2026-11-26T10:01:00.000Z'),
};

describe('windowResult', () => {
  it('builds the output record contract', () => {
    // GIVEN
    const accs = { views: 42, users: { kind: 'exact', hashes: [1, 2, 3] } };

    // WHEN
    const result = windowResult(pageViews, '/home', WINDOW, accs, {
      final: true,
      late: 0,
      emittedAt: Date.parse('2026-11-26T10:01:31.204Z'),
    });

    // THEN
    expect(result).toEqual({
      id: createHash('sha256')
        .update(`page-views|/home|${WINDOW.start}|${WINDOW.end}|true`)
        .digest('hex')
        .slice(0, 32),
      pipeline: 'page-views',
      key: '/home',
      window: { start: '2026-11-26T10:00:00.000Z', end: '2026-11-26T10:01:00.000Z' },
      values: { views: 42, users: 3 },
      final: true,
      late: 0,
      emittedAt: '2026-11-26T10:01:31.204Z',
    });
  });

  it('gives a stable id that depends on key, window and final only', () => {
    const id = resultId('page-views', '/home', WINDOW, true);
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(resultId('page-views', '/home', WINDOW, true)).toBe(id);
    expect(resultId('page-views', '/home', WINDOW, false)).not.toBe(id);
    expect(resultId('page-views', '/home2', WINDOW, true)).not.toBe(id);
    expect(resultId('page-views', '/home', { ...WINDOW, end: WINDOW.end + 1 }, true)).not.toBe(id);
  });

  it('reports empty values for missing accumulators', () => {
    const result = windowResult(pageViews, 'k', WINDOW, {}, { final: false, emittedAt: 0 });
    expect(result.values).toEqual({ views: 0, users: 0 });
    expect(result.late).toBe(0);
  });
});
