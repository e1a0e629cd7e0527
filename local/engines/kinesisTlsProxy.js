/**
 * TLS front for kinesis-mock: accepts HTTP/2 (and HTTP/1.1) over TLS with the generated
 * certificate and forwards each request to kinesis-mock's plain HTTP/1.1 port.
 *
 * kinesis-mock's own TLS port answers about 1 in 70 HTTP/2 requests of the SDK's default client
 * with a protocol error (ERR_HTTP2_ERROR), and sometimes never answers at all; its plain port
 * does neither. Plain JavaScript, so it starts in milliseconds. Usage:
 *   node kinesisTlsProxy.js LISTEN_PORT TARGET_PORT SERVER_JSON_PATH
 */

const fs = require('node:fs');
const http = require('node:http');
const http2 = require('node:http2');

const [listenPort, targetPort] = process.argv.slice(2, 4).map(Number);
const { key, cert } = JSON.parse(fs.readFileSync(process.argv[4], 'utf8')).server;
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'http2-settings',
]);
const agent = new http.Agent({ keepAlive: true });

function forwardable(headers) {
  return Object.fromEntries(
    Object.entries(headers).filter(([name]) => !name.startsWith(':') && !HOP_BY_HOP.has(name)),
  );
}

const server = http2.createSecureServer({ key, cert, allowHTTP1: true }, (request, response) => {
  const upstream = http.request(
    {
      host: '127.0.0.1',
      port: targetPort,
      method: request.method,
      path: request.url,
      headers: { ...forwardable(request.headers), host: request.authority ?? request.headers.host },
      agent,
    },
    (answer) => {
      response.writeHead(answer.statusCode ?? 502, forwardable(answer.headers));
      answer.pipe(response);
    },
  );
  upstream.on('error', (error) => {
    if (!response.headersSent) response.writeHead(502, { 'content-type': 'text/plain' });
    response.end(`kinesis-mock is not reachable: ${error.message}`);
  });
  response.on('close', () => {
    if (!response.writableFinished) upstream.destroy();
  });
  request.pipe(upstream);
});

server.on('error', (error) => {
  console.error(`kinesis TLS proxy: ${error.message}`);
  process.exit(1);
});
server.listen(listenPort, '127.0.0.1', () =>
  console.log(`kinesis TLS proxy listening on ${listenPort}`),
);
