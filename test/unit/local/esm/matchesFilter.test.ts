import { type FilterPattern, matchesFilter } from '#local/esm/matchesFilter';

const data = (value: unknown) => Buffer.from(JSON.stringify(value));

describe('matchesFilter', () => {
  it.each<[string, FilterPattern, unknown, boolean]>([
    ['exact string', { data: { type: ['click'] } }, { type: 'click' }, true],
    ['exact string, other value', { data: { type: ['click'] } }, { type: 'view' }, false],
    ['exact number', { data: { n: [5] } }, { n: 5 }, true],
    ['null', { data: { n: [null] } }, { n: null }, true],
    ['nested', { data: { a: { b: ['x'] } } }, { a: { b: 'x' } }, true],
    ['array field, any element', { data: { tags: ['x'] } }, { tags: ['y', 'x'] }, true],
    ['prefix', { data: { page: [{ prefix: '/home' }] } }, { page: '/home/a' }, true],
    ['prefix, no match', { data: { page: [{ prefix: '/home' }] } }, { page: '/about' }, false],
    ['suffix', { data: { f: [{ suffix: '.png' }] } }, { f: 'a.png' }, true],
    ['equals-ignore-case', { data: { t: [{ 'equals-ignore-case': 'ABC' }] } }, { t: 'abc' }, true],
    ['numeric range', { data: { n: [{ numeric: ['>', 0, '<=', 5] }] } }, { n: 5 }, true],
    ['numeric range, out', { data: { n: [{ numeric: ['>', 0, '<=', 5] }] } }, { n: 6 }, false],
    ['numeric on a string', { data: { n: [{ numeric: ['>', 0] }] } }, { n: '3' }, false],
    ['exists true', { data: { t: [{ exists: true }] } }, { t: 1 }, true],
    ['exists true, absent', { data: { t: [{ exists: true }] } }, {}, false],
    ['exists false', { data: { t: [{ exists: false }] } }, {}, true],
    ['anything-but list', { data: { k: [{ 'anything-but': ['bot'] }] } }, { k: 'human' }, true],
    [
      'anything-but list, excluded',
      { data: { k: [{ 'anything-but': ['bot'] }] } },
      { k: 'bot' },
      false,
    ],
    [
      'anything-but prefix',
      { data: { k: [{ 'anything-but': { prefix: 'b' } }] } },
      { k: 'bot' },
      false,
    ],
    ['AND over fields', { data: { a: [1], b: [2] } }, { a: 1, b: 3 }, false],
    ['$or', { data: { $or: [{ a: [1] }, { b: [2] }] } }, { b: 2 }, true],
  ])('%s', (_, pattern, value, expected) => {
    // WHEN / THEN
    expect(matchesFilter(data(value), [pattern])).toBe(expected);
  });

  it('passes a record matching any one filter, and every record without filters', () => {
    // GIVEN
    const filters = [{ data: { a: [1] } }, { data: { b: [2] } }];

    // WHEN / THEN
    expect(matchesFilter(data({ b: 2 }), filters)).toBe(true);
    expect(matchesFilter(Buffer.from('not json'), [])).toBe(true);
  });

  it('fails to match data that is not JSON', () => {
    // WHEN / THEN
    expect(matchesFilter(Buffer.from('plain text'), [{ data: { a: [{ exists: false }] } }])).toBe(
      false,
    );
  });
});
