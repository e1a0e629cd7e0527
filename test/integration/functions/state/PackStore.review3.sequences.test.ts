import type { KinesisStreamRecord } from 'aws-lambda';
import { pageViews } from '#pipelines/page-views';
import { resultId } from '#runtime/index';
import { kinesisRecordFactory } from '#test/helpers/kinesisFactories';
import { MIN, SEC, T0, useEventTimeTestbed } from '../handlers/eventTimeTestbed';

/**
 * Review 3: sequence numbers at the handler level. The store normalizes sequence numbers (leading
 * zeros stripped, e8f… review), but a delta straddling the lane's cursor is re-folded by the
 * handler's `recompute`, which compares the batch's raw sequence numbers with the normalized
 * cursor.
 */

const { setup } = useEventTimeTestbed('review3-seq');

const view = (sequenceNumber: string, userId: string, ts: number): KinesisStreamRecord =>
  kinesisRecordFactory({
    sequenceNumber,
    partitionKey: userId,
    payload: { type: 'page_view', page: '/home', userId, ts },
    arrivalMs: ts,
  });

describe('review 3: sequence numbers with leading zeros, through the handler', () => {
  it('a replay from the checkpoint counts record 0009 once', async () => {
    // GIVEN page-views; a batch of record 0009 (user a) was committed
    const s = setup(pageViews);
    s.setNow(T0 + 10 * SEC);
    const first = view('0009', 'a', T0 + 1 * SEC);
    const second = view('0010', 'b', T0 + 2 * SEC);
    await s.deliver([first]);
    // WHEN Lambda re-delivers from 0009 with the next record (a retry whose first attempt crashed
    // after the commit), then a view of 10:02 closes [10:00, 10:01)
    await s.deliver([first, second]);
    s.setNow(T0 + 3 * MIN);
    await s.deliver([view('0011', 'c', T0 + 2 * MIN + SEC)]);
    // THEN the window counts two views (a, b), each once
    const id = resultId(s.definition.name, '/home', { start: T0, end: T0 + MIN }, true);
    expect(
      s
        .finals()
        .filter((r) => r.id === id)
        .map((r) => r.values),
    ).toEqual([{ views: 2, users: 2 }]);
  });
});
