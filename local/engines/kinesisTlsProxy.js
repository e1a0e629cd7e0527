/**
 * TLS front for kinesis-mock: accepts HTTP/2 (and HTTP/1.1) over TLS with the generated
 * certificate on 127.0.0.1 only, refuses browser, foreign-Host and unauthenticated requests
 * (loopbackFront.js; the run's access key id comes from `$SHARDFLOW_LOCAL_ACCESS_KEY_ID`, never
 * from the command line, and without it the proxy exits) and forwards the others to kinesis-mock's
 * plain HTTP/1.1 Unix socket (see kinesisMockPreload.js).
 *
 * kinesis-mock's own TLS port answers about 1 in 70 HTTP/2 requests of the SDK's default client
 * with a protocol error (ERR_HTTP2_ERROR), and sometimes never answers at all; its plain port
 * does neither. Plain JavaScript, so it starts in milliseconds. Usage:
 *   node kinesisTlsProxy.js LISTEN_PORT TARGET_SOCKET_PATH SERVER_JSON_PATH
 */

const fs = require('node:fs');
const http2 = require('node:http2');
const { createFrontHandler, takeAccessKeyId } = require('./loopbackFront');

let accessKeyId;
try {
  accessKeyId = takeAccessKeyId(process.env);
} catch (error) {
  console.error(`kinesis TLS proxy: ${error.message}`);
  process.exit(1);
}
const listenPort = Number(process.argv[2]);
const targetSocket = process.argv[3];
const { key, cert } = JSON.parse(fs.readFileSync(process.argv[4], 'utf8')).server;

const server = http2.createSecureServer(
  { key, cert, allowHTTP1: true },
  createFrontHandler(listenPort, targetSocket, 'kinesis-mock', accessKeyId),
);

server.on('error', (error) => {
  console.error(`kinesis TLS proxy: ${error.code ?? ''} ${error.message}`);
  process.exit(1);
});
server.listen({ port: listenPort, host: '127.0.0.1', exclusive: true }, () =>
  console.log(`kinesis TLS proxy listening on 127.0.0.1:${listenPort}`),
);
