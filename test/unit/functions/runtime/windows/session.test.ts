import { InvalidWindowError } from '#runtime/errors';
import { session } from '#runtime/windows/session';

describe('session', () => {
  it('carries its gap in ms', () => {
    expect(session('30m')).toEqual({ kind: 'session', gapMs: 1_800_000 });
  });

  it('fails on a zero gap', () => {
    expect(() => session('0ms')).toThrow(InvalidWindowError);
  });
});
