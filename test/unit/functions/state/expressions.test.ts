import {
  allOf,
  ExpressionBuilder,
  laneFenceBelow,
  laneFenceIs,
  sessionNotSealed,
  sessionVersionIs,
  versionIs,
  windowIsOpen,
} from '#state/expressions';

describe('expressions', () => {
  it('builds the fast-path condition from per-lane pieces with stable placeholders', () => {
    // GIVEN
    const b = new ExpressionBuilder();
    // WHEN
    b.set('f_shard-1', { S: '2' }).add('a_count', 3);
    const condition = allOf(
      laneFenceBelow(b, 'f_shard-1', '1'),
      laneFenceBelow(b, 'f_shard-2', '5'),
    );
    // THEN
    expect(b.updateExpression()).toBe('SET #n0 = :v0 ADD #n1 :v1');
    expect(condition).toBe(
      '(attribute_not_exists(#n0) OR #n0 < :v2) AND (attribute_not_exists(#n2) OR #n2 < :v3)',
    );
    expect(b.names).toEqual({ '#n0': 'f_shard-1', '#n1': 'a_count', '#n2': 'f_shard-2' });
    expect(b.values[':v3']).toEqual({ S: '5' });
  });

  it('conditions the conflict path on the fence that was read, or on its absence', () => {
    const b = new ExpressionBuilder();
    expect(laneFenceIs(b, 'f_x', '7')).toBe('#n0 = :v0');
    expect(laneFenceIs(b, 'f_y', undefined)).toBe('attribute_not_exists(#n1)');
  });

  it('conditions a merged write on the version read, or on the item being absent', () => {
    const b = new ExpressionBuilder();
    expect(versionIs(b, undefined)).toBe('attribute_not_exists(#n0)');
    expect(versionIs(b, 3)).toBe('#n1 = :v0');
    expect(b.names).toEqual({ '#n0': 'pk', '#n1': 'version' });
  });

  it('lets exactly an absent or OPEN window be closed', () => {
    const b = new ExpressionBuilder();
    expect(windowIsOpen(b)).toBe('attribute_not_exists(#n0) OR #n0 = :v0');
    expect(b.values[':v0']).toEqual({ S: 'OPEN' });
  });

  it('omits ExpressionAttributeValues when there are none', () => {
    const b = new ExpressionBuilder();
    b.remove('gsi1pk');
    expect(b.attributes()).toEqual({ ExpressionAttributeNames: { '#n0': 'gsi1pk' } });
  });

  it('conditions session writes on the version read and on not being sealed', () => {
    const b = new ExpressionBuilder();
    expect(allOf(sessionVersionIs(b, 2), sessionNotSealed(b))).toBe(
      '(#n0 = :v0) AND (attribute_not_exists(#n1))',
    );
    expect(sessionVersionIs(b, undefined)).toBe('attribute_not_exists(#n2)');
    expect(b.names).toEqual({ '#n0': 'version', '#n1': 'sealed', '#n2': 'pk' });
  });
});
