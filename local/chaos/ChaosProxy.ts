import * as http from 'node:http';
import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { HOP_BY_HOP, refusalOf } from '#local/engines/loopbackFront';
import { CHAOS_THROTTLE_ERROR, KINESIS_PUT_RECORDS_TARGET } from './constants';
import { seededRandom } from './seededRandom';

/** Which engine a proxy fronts, and so which failures it injects. */
export type ChaosProxyKind = 'dynamodb' | 'kinesis';

/** Options of {@link ChaosProxy.start}. */
export interface ChaosProxyOptions {
  readonly kind: ChaosProxyKind;
  /** Plain HTTP/1.1 URL of the engine requests are forwarded to. */
  readonly target: string;
  /** Probability (0..1) of a DynamoDB request being throttled, or of a PutRecords entry failing. */
  readonly rate: number;
  /** @default 1 */
  readonly seed?: number;
  /**
   * The run's access key id (`EngineEndpoints.credentials.accessKeyId`): like the engines, the
   * proxy refuses requests not signed with it.
   */
  readonly accessKeyId: string;
  /**
   * PEM key and certificate: serve TLS (HTTP/2 and HTTP/1.1 via ALPN), as the SDK's default
   * Kinesis client expects. Without them the proxy serves plain HTTP/1.1.
   * @default - plain HTTP/1.1
   */
  readonly tls?: { readonly key: string; readonly cert: string };
}

type Request = http.IncomingMessage | http2.Http2ServerRequest;
type Response = http.ServerResponse | http2.Http2ServerResponse;

/** Headers not copied between the client's request and the engine's (the proxy sets its own). */
const NOT_FORWARDED = new Set([...HOP_BY_HOP, 'host', 'content-length']);

async function body(request: Request): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks);
}

/**
 * A loopback proxy in front of an engine, given to handler processes as their endpoint so their
 * code stays unmodified, that injects AWS's own failures reproducibly from a seed: DynamoDB
 * requests answered with `ProvisionedThroughputExceededException` (HTTP 400, as DynamoDB throttles),
 * and Kinesis `PutRecords` entries failed with that error code in a 200 response (a partial
 * failure: the failed entries are really not written, the others are). Everything else is
 * forwarded unchanged over HTTP/1.1.
 *
 * @example
 * ```ts
 * const proxy = await ChaosProxy.start({ kind: 'dynamodb', target: endpoints.dynamodb, rate: 0.2, seed: 7 });
 * // handler environment: AWS_ENDPOINT_URL_DYNAMODB=proxy.url
 * await proxy.close();
 * ```
 */
export class ChaosProxy {
  /** Failures injected so far (throttled requests, or failed PutRecords entries). */
  public injected = 0;
  private readonly random: () => number;
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  private server: http.Server | http2.Http2SecureServer | undefined;
  private port = 0;

  private constructor(private readonly options: ChaosProxyOptions) {
    this.random = seededRandom((options.seed ?? 1) * 7919 + (options.kind === 'kinesis' ? 1 : 2));
  }

  /** Starts listening on a free 127.0.0.1 port. */
  public static async start(options: ChaosProxyOptions): Promise<ChaosProxy> {
    const proxy = new ChaosProxy(options);
    const handler = (request: Request, response: Response) => {
      proxy.handle(request, response).catch((error: Error) => {
        if (!response.headersSent) response.writeHead(502);
        response.end(String(error.message));
      });
    };
    const server = options.tls
      ? http2.createSecureServer({ ...options.tls, allowHTTP1: true }, handler)
      : http.createServer(handler);
    if ('on' in server) server.on('sessionError', () => undefined);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    proxy.server = server;
    proxy.port = (server.address() as AddressInfo).port;
    return proxy;
  }

  /** URL handler processes use as the engine endpoint. */
  public get url(): string {
    return `${this.options.tls ? 'https' : 'http'}://127.0.0.1:${this.port}`;
  }

  /** Stops listening and drops kept-alive connections. */
  public async close(): Promise<void> {
    this.agent.destroy();
    const server = this.server;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      if ('closeAllConnections' in server) server.closeAllConnections();
      setTimeout(resolve, 1000).unref();
    });
  }

  private async handle(request: Request, response: Response): Promise<void> {
    // The engines' own rule (loopbackFront.js): no browser request, no Host but loopback with this
    // proxy's port, nothing not signed with the run's access key id. This proxy rewrites Host for
    // the engine, so it must check it itself; the key id too, so that no loopback port of the
    // runtime serves another user (the engine checks the forwarded Authorization again).
    const refusal = refusalOf(request.rawHeaders, this.port, this.options.accessKeyId);
    if (refusal !== undefined) {
      const json = JSON.stringify({
        __type: 'AccessDeniedException',
        message: `shardflow chaos proxy: ${refusal}`,
      });
      response.writeHead(403, {
        'content-type': 'application/x-amz-json-1.1',
        'x-amzn-errortype': 'AccessDeniedException',
        'content-length': Buffer.byteLength(json),
      });
      response.end(json);
      return;
    }
    const payload = await body(request);
    const target = String(request.headers['x-amz-target'] ?? '');
    if (this.options.kind === 'dynamodb' && this.random() < this.options.rate) {
      this.injected += 1;
      const json = JSON.stringify({
        __type: `com.amazonaws.dynamodb.v20120810#${CHAOS_THROTTLE_ERROR}`,
        message: 'chaos: the level of configured provisioned throughput for the table was exceeded',
      });
      response.writeHead(400, {
        'content-type': 'application/x-amz-json-1.0',
        'x-amzn-errortype': CHAOS_THROTTLE_ERROR,
        'x-amzn-requestid': `chaos-${this.injected}`,
        'content-length': Buffer.byteLength(json),
      });
      response.end(json);
      return;
    }
    if (this.options.kind === 'kinesis' && target === KINESIS_PUT_RECORDS_TARGET) {
      await this.putRecords(request, response, payload);
      return;
    }
    const upstream = await this.forward(request, payload);
    response.writeHead(upstream.status, upstream.headers);
    response.end(upstream.body);
  }

  /** Fails some PutRecords entries: they are not sent on, and come back with an error code. */
  private async putRecords(request: Request, response: Response, payload: Buffer): Promise<void> {
    let input: { Records?: unknown[] } & Record<string, unknown>;
    try {
      input = JSON.parse(payload.toString('utf8'));
    } catch {
      const upstream = await this.forward(request, payload);
      response.writeHead(upstream.status, upstream.headers);
      response.end(upstream.body);
      return;
    }
    const records = input.Records ?? [];
    const failed = records.map(() => this.random() < this.options.rate);
    const kept = records.filter((_, index) => !failed[index]);
    const failure = {
      ErrorCode: CHAOS_THROTTLE_ERROR,
      ErrorMessage: 'chaos: rate exceeded for shard',
    };
    let results: unknown[] = [];
    let failedCount = 0;
    let status = 200;
    let headers: http.OutgoingHttpHeaders = { 'content-type': 'application/x-amz-json-1.1' };
    if (kept.length > 0) {
      const upstream = await this.forward(
        request,
        Buffer.from(JSON.stringify({ ...input, Records: kept })),
      );
      if (upstream.status !== 200) {
        response.writeHead(upstream.status, upstream.headers);
        response.end(upstream.body);
        return;
      }
      const output = JSON.parse(upstream.body.toString('utf8')) as {
        Records?: unknown[];
        FailedRecordCount?: number;
      } & Record<string, unknown>;
      results = output.Records ?? [];
      failedCount = output.FailedRecordCount ?? 0;
      status = upstream.status;
      headers = { ...upstream.headers };
      const merged: unknown[] = [];
      let next = 0;
      for (const isFailed of failed) merged.push(isFailed ? failure : results[next++]);
      results = merged;
      const injected = failed.filter(Boolean).length;
      this.injected += injected;
      const json = JSON.stringify({
        ...output,
        FailedRecordCount: failedCount + injected,
        Records: results,
      });
      delete headers['content-length'];
      response.writeHead(status, { ...headers, 'content-length': Buffer.byteLength(json) });
      response.end(json);
      return;
    }
    this.injected += records.length;
    const json = JSON.stringify({
      FailedRecordCount: records.length,
      Records: records.map(() => failure),
    });
    response.writeHead(status, { ...headers, 'content-length': Buffer.byteLength(json) });
    response.end(json);
  }

  private forward(
    request: Request,
    payload: Buffer,
  ): Promise<{ status: number; headers: http.OutgoingHttpHeaders; body: Buffer }> {
    const target = new URL(this.options.target);
    const headers: http.OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(request.headers)) {
      if (name.startsWith(':') || NOT_FORWARDED.has(name) || value === undefined) continue;
      headers[name] = value;
    }
    headers.host = target.host;
    headers['content-length'] = payload.length;
    return new Promise((resolve, reject) => {
      const outgoing = http.request(
        {
          host: target.hostname,
          port: target.port,
          method: request.method,
          path: request.url,
          headers,
          agent: this.agent,
        },
        (incoming) => {
          const chunks: Buffer[] = [];
          incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
          incoming.on('end', () => {
            const responseHeaders: http.OutgoingHttpHeaders = {};
            for (const [name, value] of Object.entries(incoming.headers)) {
              if (!NOT_FORWARDED.has(name) && value !== undefined) responseHeaders[name] = value;
            }
            const responseBody = Buffer.concat(chunks);
            responseHeaders['content-length'] = responseBody.length;
            resolve({
              status: incoming.statusCode ?? 502,
              headers: responseHeaders,
              body: responseBody,
            });
          });
          incoming.on('error', reject);
        },
      );
      outgoing.on('error', reject);
      outgoing.end(payload);
    });
  }
}
