/**
 * The request check and forwarding of kinesis-mock's loopback fronts (its plain HTTP/1.1 port,
 * served inside its own process by kinesisMockPreload.js, and the TLS port of kinesisTlsProxy.js).
 * LoopbackDynamoDbLocal.java applies the same check inside DynamoDB Local.
 *
 * Only local SDK clients may reach an engine. A request is refused with 403 before it is forwarded
 * when it
 * - carries an `Origin` header or any `Sec-Fetch-*` header: browsers send them (every cross-origin
 *   fetch and form POST carries `Origin`; modern browsers add `Sec-Fetch-*` even to the no-cors
 *   requests that carry no `Origin`), SDK clients never do. kinesis-mock itself answers any `Origin`
 *   with `Access-Control-Allow-Origin: *`, so without this any web page could read and write it;
 * - has no `Host` (HTTP/2 `:authority`), or one that is not `127.0.0.1`, `localhost` or `[::1]`
 *   followed by the port the request came in on: a page that rebinds its own DNS name to 127.0.0.1
 *   (DNS rebinding) sends its own name, and the SDK sends the endpoint's `127.0.0.1:PORT`.
 *
 * Plain JavaScript (CommonJS), because it runs in processes started with plain `node`.
 */

const http = require('node:http');

/** Host names a request may name in `Host`, each followed by `:PORT`. */
const LOOPBACK_HOSTNAMES = ['127.0.0.1', 'localhost', '[::1]'];

/** Headers of a connection, not of a request: never forwarded. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'http2-settings',
]);

/**
 * Why a request with these raw headers (`[name, value, name, value, …]`, as `request.rawHeaders`
 * gives them for HTTP/1.1 and HTTP/2) must not reach an engine listening on `port`, or undefined
 * when it may.
 */
function refusalOf(rawHeaders, port) {
  const hosts = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = String(rawHeaders[i]).toLowerCase();
    const value = String(rawHeaders[i + 1]);
    if (name === 'origin') return `a browser request (Origin: ${value}) is refused`;
    if (name.startsWith('sec-fetch-')) return `a browser request (${name}: ${value}) is refused`;
    if (name === 'host' || name === ':authority') hosts.push(value);
  }
  if (hosts.length === 0) return 'a request without Host is refused';
  const allowed = LOOPBACK_HOSTNAMES.map((hostname) => `${hostname}:${port}`);
  const foreign = hosts.find((host) => !allowed.includes(host.toLowerCase()));
  if (foreign !== undefined) {
    return `Host ${foreign} is refused: only ${allowed.join(', ')} are served`;
  }
  return undefined;
}

/** Answers a refused request: 403 with an AWS-style JSON error the SDK can show. */
function refuse(response, reason) {
  const body = JSON.stringify({
    __type: 'AccessDeniedException',
    message: `shardflow local engine: ${reason}`,
  });
  response.writeHead(403, {
    'content-type': 'application/x-amz-json-1.1',
    'content-length': Buffer.byteLength(body),
    'x-amzn-errortype': 'AccessDeniedException',
  });
  response.end(body);
}

function forwardable(headers) {
  return Object.fromEntries(
    Object.entries(headers).filter(([name]) => !name.startsWith(':') && !HOP_BY_HOP.has(name)),
  );
}

/**
 * A request handler (HTTP/1.1 or HTTP/2 compatibility API) that refuses what {@link refusalOf}
 * refuses and forwards everything else over HTTP/1.1 to the engine's Unix socket `socketPath`.
 *
 * @param port - the loopback port this front listens on (the port `Host` must name)
 * @param socketPath - where the engine listens
 * @param engine - the engine's name, for the 502 answer when it is not reachable
 */
function createFrontHandler(port, socketPath, engine) {
  const agent = new http.Agent({ keepAlive: true });
  return (request, response) => {
    const reason = refusalOf(request.rawHeaders, port);
    if (reason !== undefined) {
      // Drain the refused body so the connection stays usable.
      request.resume();
      refuse(response, reason);
      return;
    }
    const upstream = http.request(
      {
        socketPath,
        method: request.method,
        path: request.url,
        headers: {
          ...forwardable(request.headers),
          host: request.authority ?? request.headers.host,
        },
        agent,
      },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, forwardable(answer.headers));
        answer.pipe(response);
      },
    );
    upstream.on('error', (error) => {
      if (!response.headersSent) response.writeHead(502, { 'content-type': 'text/plain' });
      response.end(`${engine} is not reachable: ${error.message}`);
    });
    response.on('close', () => {
      if (!response.writableFinished) upstream.destroy();
    });
    request.pipe(upstream);
  };
}

module.exports = { HOP_BY_HOP, LOOPBACK_HOSTNAMES, createFrontHandler, refusalOf };
