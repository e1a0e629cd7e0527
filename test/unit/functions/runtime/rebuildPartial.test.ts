import { z } from 'zod';
import { count } from '#runtime/aggregates/count';
import { sum } from '#runtime/aggregates/sum';
import { pipeline } from '#runtime/pipeline';
import { partialKey, preAggregate } from '#runtime/preAggregate';
import { rebuildPartial } from '#runtime/rebuildPartial';
import type { SessionPartial, SlicePartial } from '#runtime/types';
import { session } from '#runtime/windows/session';
import { tumbling } from '#runtime/windows/tumbling';
import { kinesisRecordFactory } from '#test/helpers/kinesisFactories';

const Event = z.object({ t: z.number(), v: z.number() });

const build = (assigner: ReturnType<typeof tumbling> | ReturnType<typeof session>) =>
  pipeline('p')
    .from('in', { schema: Event })
    .keyBy(() => 'k')
    .window(assigner, { eventTime: (e) => e.t })
    .aggregate({ n: count(), total: sum((e: z.infer<typeof Event>) => e.v) })
    .to('out');

const records = [
  { shardId: 'shardId-000000000000', sequenceNumber: '8', payload: { t: 1, v: 1 } },
  { shardId: 'shardId-000000000000', sequenceNumber: '9', payload: { t: 2, v: 10 } },
  { shardId: 'shardId-000000000000', sequenceNumber: '10', payload: { t: 3, v: 100 } },
  { shardId: 'shardId-000000000001', sequenceNumber: '5', payload: { t: 4, v: 1000 } },
].map((options) => kinesisRecordFactory(options));

describe('rebuildPartial', () => {
  it('keeps only elements above the item’s fence for their lane', () => {
    // GIVEN: the item absorbed shard 0 up to sequence 9 and nothing of shard 1
    const definition = build(tumbling('1m'));
    const partial = preAggregate(definition, records).partials.get(
      partialKey('k', 0),
    ) as SlicePartial;

    // WHEN
    const rebuilt = rebuildPartial(definition, partial, new Map([['shardId-000000000000', '9']]));

    // THEN
    expect(rebuilt?.accs).toEqual({ n: 2, total: 1100 });
    expect(rebuilt?.lanes).toEqual(
      new Map([
        ['shardId-000000000000', '10'],
        ['shardId-000000000001', '5'],
      ]),
    );
  });

  it('returns the partial itself when nothing was absorbed and undefined when all was', () => {
    const definition = build(tumbling('1m'));
    const partial = preAggregate(definition, records).partials.get(
      partialKey('k', 0),
    ) as SlicePartial;
    expect(rebuildPartial(definition, partial, new Map())).toBe(partial);
    expect(
      rebuildPartial(
        definition,
        partial,
        new Map([
          ['shardId-000000000000', '10'],
          ['shardId-000000000001', '99'],
        ]),
      ),
    ).toBeUndefined();
  });

  it('rebuilds sessions from the unabsorbed elements', () => {
    const definition = build(session('1s'));
    const partial = preAggregate(definition, records).sessions.get('k') as SessionPartial;
    const rebuilt = rebuildPartial(definition, partial, new Map([['shardId-000000000001', '5']]));
    expect(rebuilt?.sessions).toEqual([{ start: 1, end: 1003, acc: { n: 3, total: 111 } }]);
  });
});
