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
 *   (DNS rebinding) sends its own name, and the SDK sends the endpoint's `127.0.0.1:PORT`;
 * - is not signed with this run's access key id: its one `Authorization` header must be AWS
 *   Signature Version 4, `AWS4-HMAC-SHA256 Credential=<access key id>/<scope>, …`, naming exactly
 *   the key id startEngines generated for this run (`EngineEndpoints.credentials`). 127.0.0.1 is
 *   open to every user of the machine; this keeps the others out.
 *
 * The access key id acts as a bearer secret: the signature itself is not verified (kinesis-mock
 * and DynamoDB Local verify none either). That is enough because the key id never leaves this
 * user: it is random per run (at least 100 bits), the engines get it through their environment
 * (`/proc/<pid>/environ` is readable only by their owner, unlike the command line), clients
 * through `.shardflow/local.json` (mode 0600) or the environment of processes this user starts,
 * and requests carry it over loopback only, which other users cannot read without root — who
 * could read the engines' data anyway.
 *
 * Plain JavaScript (CommonJS), because it runs in processes started with plain `node`.
 */

const { createHash, timingSafeEqual } = require('node:crypto');
const http = require('node:http');

/** Host names a request may name in `Host`, each followed by `:PORT`. */
const LOOPBACK_HOSTNAMES = ['127.0.0.1', 'localhost', '[::1]'];

/** The variable through which each engine process gets the run's access key id. */
const ACCESS_KEY_ID_VARIABLE = 'SHARDFLOW_LOCAL_ACCESS_KEY_ID';

/**
 * What a run's access key id must look like for a front to start: letters and digits (what
 * DynamoDB Local accepts in a key id), at least 20 of them. Anything else — no variable, an empty
 * or short one — stops the front rather than let it serve unauthenticated.
 */
const ACCESS_KEY_ID_PATTERN = /^[A-Za-z0-9]{20,128}$/;

/** How a SigV4 `Authorization` header starts: the algorithm, a space, then its parameters. */
const SIGV4_ALGORITHM = 'AWS4-HMAC-SHA256 ';

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
 * gives them for HTTP/1.1 and HTTP/2) must not reach an engine listening on `port` whose run's
 * access key id is `accessKeyId`, or undefined when it may. Refuses everything when `accessKeyId`
 * is not a valid key id (fail closed).
 */
function refusalOf(rawHeaders, port, accessKeyId) {
  if (!isValidAccessKeyId(accessKeyId)) return 'this engine front has no valid access key id';
  const hosts = [];
  const authorizations = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = String(rawHeaders[i]).toLowerCase();
    const value = String(rawHeaders[i + 1]);
    if (name === 'origin') return `a browser request (Origin: ${value}) is refused`;
    if (name.startsWith('sec-fetch-')) return `a browser request (${name}: ${value}) is refused`;
    if (name === 'host' || name === ':authority') hosts.push(value);
    if (name === 'authorization') authorizations.push(value);
  }
  if (hosts.length === 0) return 'a request without Host is refused';
  const allowed = LOOPBACK_HOSTNAMES.map((hostname) => `${hostname}:${port}`);
  const foreign = hosts.find((host) => !allowed.includes(host.toLowerCase()));
  if (foreign !== undefined) {
    return `Host ${foreign} is refused: only ${allowed.join(', ')} are served`;
  }
  return credentialRefusalOf(authorizations, accessKeyId);
}

/**
 * Why these `Authorization` header values do not name the run's access key id, or undefined when
 * there is exactly one and it does. Never repeats a key id: neither the run's nor the one sent.
 */
function credentialRefusalOf(authorizations, accessKeyId) {
  const hint =
    "sign it with this run's credentials (EngineEndpoints.credentials, in .shardflow/local.json)";
  if (authorizations.length === 0) return `a request without Authorization is refused: ${hint}`;
  if (authorizations.length > 1) return 'a request with more than one Authorization is refused';
  const sent = accessKeyIdOf(authorizations[0]);
  if (sent === undefined) {
    return `an Authorization that is not AWS Signature Version 4 (AWS4-HMAC-SHA256 Credential=...) is refused: ${hint}`;
  }
  if (!sameSecret(sent, accessKeyId)) {
    return `a request signed with another access key id is refused: ${hint}`;
  }
  return undefined;
}

/**
 * The access key id of a SigV4 `Authorization` value (`AWS4-HMAC-SHA256 Credential=KEY/scope,
 * SignedHeaders=…, Signature=…`): what precedes the first `/` of its `Credential` parameter, or
 * undefined when it has none.
 */
function accessKeyIdOf(authorization) {
  if (!authorization.startsWith(SIGV4_ALGORITHM)) return undefined;
  const credential = authorization
    .slice(SIGV4_ALGORITHM.length)
    .split(',')
    .map((parameter) => parameter.trim())
    .find((parameter) => parameter.startsWith('Credential='));
  if (credential === undefined) return undefined;
  const slash = credential.indexOf('/');
  return slash > 'Credential='.length ? credential.slice('Credential='.length, slash) : undefined;
}

/**
 * Whether two strings are equal, without an early exit at the first difference: their SHA-256
 * digests (equal in length whatever the strings) compared with `timingSafeEqual`.
 */
function sameSecret(a, b) {
  const digest = (value) => createHash('sha256').update(value, 'utf8').digest();
  return timingSafeEqual(digest(a), digest(b));
}

/** Whether `value` may serve as a run's access key id (see {@link ACCESS_KEY_ID_PATTERN}). */
function isValidAccessKeyId(value) {
  return typeof value === 'string' && ACCESS_KEY_ID_PATTERN.test(value);
}

/**
 * The run's access key id from `SHARDFLOW_LOCAL_ACCESS_KEY_ID`, removed from `env` so that nothing
 * else in the process (the engine's own code) sees it. Throws when it is missing or not a valid
 * key id: a front must not start without one.
 */
function takeAccessKeyId(env) {
  const accessKeyId = env[ACCESS_KEY_ID_VARIABLE];
  delete env[ACCESS_KEY_ID_VARIABLE];
  if (!isValidAccessKeyId(accessKeyId)) {
    throw new Error(
      `${ACCESS_KEY_ID_VARIABLE} must hold the run's access key id (${ACCESS_KEY_ID_PATTERN}): refusing to serve without one`,
    );
  }
  return accessKeyId;
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
 * Throws when `accessKeyId` is not a valid key id, so that no front serves without one.
 *
 * @param port - the loopback port this front listens on (the port `Host` must name)
 * @param socketPath - where the engine listens
 * @param engine - the engine's name, for the 502 answer when it is not reachable
 * @param accessKeyId - the run's access key id, which every request must be signed with
 */
function createFrontHandler(port, socketPath, engine, accessKeyId) {
  if (!isValidAccessKeyId(accessKeyId)) {
    throw new Error(`${engine} front: no valid access key id: refusing to serve without one`);
  }
  const agent = new http.Agent({ keepAlive: true });
  return (request, response) => {
    const reason = refusalOf(request.rawHeaders, port, accessKeyId);
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

module.exports = {
  ACCESS_KEY_ID_PATTERN,
  ACCESS_KEY_ID_VARIABLE,
  HOP_BY_HOP,
  LOOPBACK_HOSTNAMES,
  createFrontHandler,
  refusalOf,
  takeAccessKeyId,
};
