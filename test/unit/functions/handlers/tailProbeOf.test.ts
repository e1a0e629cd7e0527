import { tailProbeOf } from '#handlers/factories/tailProbeOf';

const logger = { warn: jest.fn() };
const fromStart = { SHARDFLOW_STARTING_POSITION: 'TRIM_HORIZON' };

describe('tailProbeOf', () => {
  it('lists open shards with the default probe only when the mappings read from the start', () => {
    // THEN: TRIM_HORIZON delivers what a shard already holds, so an unreported shard may hold the
    // watermark; LATEST does not (its old records never come), nor does an unset position
    expect(tailProbeOf({}, logger, {}, fromStart).openShards()).toBeInstanceOf(Function);
    expect(
      tailProbeOf(
        {},
        logger,
        {},
        {
          SHARDFLOW_STARTING_POSITION: 'LATEST',
        },
      ).openShards(),
    ).toBeUndefined();
    expect(tailProbeOf({}, logger, {}, {}).openShards()).toBeUndefined();
  });

  it('uses what was injected: a probe without a lister lists nothing, null turns both off', () => {
    const probe = async () => true;
    const lister = async () => ['s1'];
    expect(tailProbeOf({ tailProbe: probe }, logger, {}, fromStart).openShards()).toBeUndefined();
    expect(tailProbeOf({ tailProbe: probe, openShards: lister }, logger, {}, {}).openShards()).toBe(
      lister,
    );
    const off = tailProbeOf({ tailProbe: null, openShards: null }, logger, {}, fromStart);
    expect(off.tailProbe()).toBeUndefined();
    expect(off.openShards()).toBeUndefined();
  });
});
