import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ChaosProxy } from '#local/chaos/ChaosProxy';

/** The run's access key id the proxies are given. */
const ACCESS_KEY_ID = 'SFLOCALABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** A SigV4 Authorization naming `keyId`, as the SDK writes it (the signature is not checked). */
const authorization = (keyId: string) =>
  `AWS4-HMAC-SHA256 Credential=${keyId}/20260101/us-east-1/kinesis/aws4_request, SignedHeaders=host, Signature=00`;

interface Upstream {
  readonly url: string;
  readonly received: { target: string; body: { Records?: { Data: string }[] } }[];
  close(): Promise<void>;
}

/** A fake Kinesis: answers PutRecords with a sequence number per entry, echoes anything else. */
async function upstream(): Promise<Upstream> {
  const received: Upstream['received'] = [];
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString() || '{}');
      received.push({ target: String(request.headers['x-amz-target']), body });
      const json = JSON.stringify({
        FailedRecordCount: 0,
        Records: (body.Records ?? []).map((record: { Data: string }) => ({
          SequenceNumber: `seq-${record.Data}`,
          ShardId: 'shardId-000000000000',
        })),
      });
      response.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
      response.end(json);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/**
 * A POST as the SDK makes it (node's `fetch` adds `Sec-Fetch-Mode`, a browser header the proxy
 * refuses).
 */
function post(url: string, target: string, body: unknown) {
  return new Promise<{ status: number; body: Record<string, unknown> }>((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: 'POST',
        headers: {
          'x-amz-target': target,
          'content-type': 'application/x-amz-json-1.1',
          authorization: authorization(ACCESS_KEY_ID),
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            body: JSON.parse(Buffer.concat(chunks).toString() || '{}'),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

describe('ChaosProxy', () => {
  it('fails some PutRecords entries without writing them and merges the rest back in order', async () => {
    // GIVEN
    const engine = await upstream();
    const proxy = await ChaosProxy.start({
      kind: 'kinesis',
      target: engine.url,
      rate: 0.5,
      seed: 3,
      accessKeyId: ACCESS_KEY_ID,
    });
    const records = Array.from({ length: 20 }, (_, i) => ({ Data: `${i}`, PartitionKey: 'k' }));

    try {
      // WHEN
      const { status, body } = await post(proxy.url, 'Kinesis_20131202.PutRecords', {
        StreamName: 's',
        Records: records,
      });

      // THEN
      const results = body.Records as { SequenceNumber?: string; ErrorCode?: string }[];
      const failed = results.filter((result) => result.ErrorCode).length;
      expect(status).toBe(200);
      expect(failed).toBeGreaterThan(0);
      expect(failed).toBeLessThan(20);
      expect(body.FailedRecordCount).toBe(failed);
      expect(proxy.injected).toBe(failed);
      results.forEach((result, index) => {
        if (result.ErrorCode)
          expect(result.ErrorCode).toBe('ProvisionedThroughputExceededException');
        else expect(result.SequenceNumber).toBe(`seq-${index}`);
      });
      const written = engine.received[0]?.body.Records?.map((record) => record.Data);
      expect(written).toEqual(
        results.flatMap((result, index) => (result.ErrorCode ? [] : [`${index}`])),
      );
    } finally {
      await proxy.close();
      await engine.close();
    }
  });

  it('throttles DynamoDB requests with ProvisionedThroughputExceededException and forwards the others', async () => {
    // GIVEN
    const engine = await upstream();
    const proxy = await ChaosProxy.start({
      kind: 'dynamodb',
      target: engine.url,
      rate: 0.5,
      seed: 3,
      accessKeyId: ACCESS_KEY_ID,
    });

    try {
      // WHEN
      const statuses: number[] = [];
      for (let i = 0; i < 20; i++) {
        const { status, body } = await post(proxy.url, 'DynamoDB_20120810.GetItem', { i });
        statuses.push(status);
        if (status === 400)
          expect(String(body.__type)).toMatch(/#ProvisionedThroughputExceededException$/);
      }

      // THEN
      const throttled = statuses.filter((status) => status === 400).length;
      expect(throttled).toBe(proxy.injected);
      expect(throttled).toBeGreaterThan(0);
      expect(engine.received).toHaveLength(20 - throttled);
    } finally {
      await proxy.close();
      await engine.close();
    }
  });

  it('refuses browser requests, a Host other than loopback with its port and other key ids, as the engines do', async () => {
    // GIVEN a proxy in front of a fake engine
    const engine = await upstream();
    const proxy = await ChaosProxy.start({
      kind: 'dynamodb',
      target: engine.url,
      rate: 0,
      accessKeyId: ACCESS_KEY_ID,
    });
    const otherKeyId = 'SFLOCALZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ';
    const port = new URL(proxy.url).port;
    const request = (headers: Record<string, string>) =>
      new Promise<number>((resolve, reject) => {
        const req = http.request(
          {
            host: '127.0.0.1',
            port,
            method: 'POST',
            path: '/',
            headers: { authorization: authorization(ACCESS_KEY_ID), ...headers },
          },
          (response) => {
            response.resume();
            resolve(response.statusCode ?? 0);
          },
        );
        req.on('error', reject);
        req.end('{}');
      });
    try {
      // WHEN / THEN a web page (Origin), or one that rebound its DNS name (Host), is refused
      expect(await request({ origin: 'https://evil.example' })).toBe(403);
      expect(await request({ host: `evil.example:${port}` })).toBe(403);
      expect(await request({ 'sec-fetch-site': 'cross-site' })).toBe(403);
      // as is a request signed with another key id (another user of the machine)
      expect(await request({ authorization: authorization(otherKeyId) })).toBe(403);
      expect(engine.received).toHaveLength(0);
      // and an SDK-like request goes through
      expect(await request({ host: `127.0.0.1:${port}` })).toBe(200);
      expect(engine.received).toHaveLength(1);
    } finally {
      await proxy.close();
      await engine.close();
    }
  });
});
