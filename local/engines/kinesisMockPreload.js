/**
 * Preloaded into kinesis-mock (`node --require kinesisMockPreload.js kinesis-local/main.js`) so that
 * nothing but a guarded 127.0.0.1 port can reach it.
 *
 * Why a preload: kinesis-local's main.js (kinesis-mock compiled to JavaScript with Scala.js, http4s
 * ember on fs2) hard-codes its bind host to 0.0.0.0 — `Host.fromString("0.0.0.0")`, no setting or
 * `KINESIS_MOCK_*` variable changes it — and then calls `server.listen(port, cb)` without a host,
 * which Node binds to every interface (`*:PORT`). It opens sockets only through `net` and `tls`
 * (it requires no `http`, `http2` or `dgram`), and every TCP listener of Node, `tls.Server`
 * included, goes through `net.Server.prototype.listen`. So this file replaces that method in
 * kinesis-mock's process before main.js runs:
 *
 * 1. Each `listen(PORT)` of kinesis-mock (its plain port and its own TLS port, both named by
 *    KINESIS_MOCK_PLAIN_PORT / KINESIS_MOCK_TLS_PORT) listens on the Unix socket
 *    `$SHARDFLOW_KINESIS_SOCKET_DIR/PORT.sock` instead: no TCP port at all, so neither the network
 *    nor a browser can reach kinesis-mock itself, and the folder (mode 0700, made by mkdtemp) keeps
 *    other users out. Any other kind of listen (a path, a handle, a port that is not a number)
 *    throws, so kinesis-mock fails to start rather than listen somewhere unchecked.
 *    fs2 reads the bound address back (`server.address()`) and each accepted socket's addresses,
 *    and cannot parse a Unix socket's; both are answered with 127.0.0.1 and the port.
 * 2. The plain endpoint clients use (`$SHARDFLOW_KINESIS_PLAIN_PORT`) is served in this same
 *    process on 127.0.0.1 by a front (loopbackFront.js) that refuses browser, foreign-Host and
 *    unauthenticated requests — any not signed with the run's access key id, which it takes from
 *    `$SHARDFLOW_LOCAL_ACCESS_KEY_ID` (and removes from the environment kinesis-mock sees) — and
 *    forwards the rest to the plain socket. In the engine's own process, it lives and dies with
 *    kinesis-mock. The TLS front (kinesisTlsProxy.js) forwards to the same socket.
 *    Without a valid access key id the process exits before kinesis-mock starts.
 *
 * If the front's port is taken, the process logs EADDRINUSE and exits, so startEngines tries again
 * with other ports.
 */

const net = require('node:net');
const http = require('node:http');
const path = require('node:path');
const { createFrontHandler, takeAccessKeyId } = require('./loopbackFront');

let accessKeyId;
try {
  accessKeyId = takeAccessKeyId(process.env);
} catch (error) {
  console.error(`kinesis preload: ${error.message}`);
  process.exit(1);
}
const socketDir = process.env.SHARDFLOW_KINESIS_SOCKET_DIR ?? '';
const frontPort = Number(process.env.SHARDFLOW_KINESIS_PLAIN_PORT);
const plainSocket = path.join(socketDir, `${process.env.KINESIS_MOCK_PLAIN_PORT}.sock`);
if (!path.isAbsolute(socketDir) || !Number.isInteger(frontPort) || frontPort <= 0) {
  console.error(
    'kinesis preload: SHARDFLOW_KINESIS_SOCKET_DIR (absolute) and SHARDFLOW_KINESIS_PLAIN_PORT are required',
  );
  process.exit(1);
}

const listen = net.Server.prototype.listen;

/** The TCP port a `listen` call asks for, or undefined for any other kind of listen. */
function tcpPortOf(first) {
  const port = typeof first === 'object' && first !== null ? first.port : first;
  const number = typeof port === 'string' && /^\d+$/.test(port) ? Number(port) : port;
  return Number.isInteger(number) && number > 0 ? number : undefined;
}

net.Server.prototype.listen = function listenOnPrivateSocket(...args) {
  const port = tcpPortOf(args[0]);
  if (port === undefined) {
    throw new Error(
      `kinesis preload: refusing listen(${JSON.stringify(args[0])}): only TCP ports are redirected to private sockets`,
    );
  }
  const callback = args.find((arg) => typeof arg === 'function');
  const address = { address: '127.0.0.1', family: 'IPv4', port };
  this.address = () => address;
  this.prependListener('connection', (socket) => {
    Object.defineProperties(socket, {
      localAddress: { value: '127.0.0.1' },
      localPort: { value: port },
      remoteAddress: { value: '127.0.0.1' },
      remoteFamily: { value: 'IPv4' },
      remotePort: { value: 0 },
    });
  });
  return listen.call(this, path.join(socketDir, `${port}.sock`), callback);
};

const front = http.createServer(
  createFrontHandler(frontPort, plainSocket, 'kinesis-mock', accessKeyId),
);
front.on('error', (error) => {
  console.error(`kinesis front on 127.0.0.1:${frontPort}: ${error.code ?? ''} ${error.message}`);
  process.exit(1);
});
// Not through the replaced method: this is the one TCP port of the process, on loopback only.
listen.call(front, { port: frontPort, host: '127.0.0.1', exclusive: true });
// The front must not keep kinesis-mock alive on its own.
front.unref();
