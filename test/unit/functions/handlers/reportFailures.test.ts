import type { Logger } from '@aws-lambda-powertools/logger';
import { reportFailures } from '#handlers/factories/createStatelessHandler';

describe('reportFailures', () => {
  it('logs where a rejected record is, never its payload or partition key, unless at DEBUG', () => {
    // GIVEN a record rejected with a detail that quotes its payload
    const lines: Array<{ level: string; extra: Record<string, unknown> }> = [];
    const logger = {
      warn: (_message: string, extra: Record<string, unknown>) =>
        lines.push({ level: 'WARN', extra }),
      debug: (_message: string, extra: Record<string, unknown>) =>
        lines.push({ level: 'DEBUG', extra }),
    } as unknown as Logger;

    // WHEN it is reported
    reportFailures(logger, [
      {
        reason: 'NOT_JSON',
        detail: 'Unexpected token s in "secret-card-4111"',
        shardId: 'shardId-000000000000',
        sequenceNumber: '42',
        partitionKey: 'user-jane@example.com',
        approximateArrivalTimestamp: 0,
        data: Buffer.from('secret-card-4111').toString('base64'),
      },
    ]);

    // THEN the WARN line says where, the payload and key only appear at DEBUG
    const warn = lines.filter((l) => l.level === 'WARN');
    expect(warn).toEqual([
      {
        level: 'WARN',
        extra: { reason: 'NOT_JSON', shardId: 'shardId-000000000000', sequenceNumber: '42' },
      },
    ]);
    expect(JSON.stringify(warn)).not.toMatch(/secret|jane/);
    expect(JSON.stringify(lines.filter((l) => l.level === 'DEBUG'))).toMatch(/secret.*jane/);
  });
});
