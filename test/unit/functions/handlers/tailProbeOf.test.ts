import { tailProbeOf } from '#handlers/factories/tailProbeOf';

const logger = { warn: jest.fn() };
const fromStart = { SHARDFLOW_STARTING_POSITION: 'TRIM_HORIZON' };

describe('tailProbeOf', () => {
  it('lists open shards with the default probe, and says whether the mappings read from the start', () => {
    // THEN: TRIM_HORIZON delivers what a shard already holds, so any unreported shard may hold the
    // watermark; with LATEST (or an unset position) only children of reported shards do
    const start = tailProbeOf({}, logger, {}, fromStart);
    expect(start.openShards()).toBeInstanceOf(Function);
    expect(start.readsFromStart).toBe(true);
    const latest = tailProbeOf({}, logger, {}, { SHARDFLOW_STARTING_POSITION: 'LATEST' });
    expect(latest.openShards()).toBeInstanceOf(Function);
    expect(latest.readsFromStart).toBe(false);
    expect(tailProbeOf({}, logger, {}, {}).readsFromStart).toBe(false);
  });

  it('uses what was injected: a probe without a lister lists nothing, null turns both off', () => {
    const probe = async () => true;
    const lister = async () => [{ shardId: 's1', parents: [] }];
    expect(tailProbeOf({ tailProbe: probe }, logger, {}, fromStart).openShards()).toBeUndefined();
    expect(tailProbeOf({ tailProbe: probe, openShards: lister }, logger, {}, {}).openShards()).toBe(
      lister,
    );
    const off = tailProbeOf({ tailProbe: null, openShards: null }, logger, {}, fromStart);
    expect(off.tailProbe()).toBeUndefined();
    expect(off.openShards()).toBeUndefined();
  });

  it('reads the starting position of each pipeline the sweeper serves', () => {
    const env = { SHARDFLOW_STARTING_POSITION_PAGE_VIEWS: 'TRIM_HORIZON' };
    const probe = tailProbeOf({}, logger, {}, env);
    expect(probe.readsFromStart).toBe(false);
    expect(probe.withFields({ pipeline: 'page-views' }).readsFromStart).toBe(true);
    expect(probe.withFields({ pipeline: 'sessions' }).readsFromStart).toBe(false);
  });
});
