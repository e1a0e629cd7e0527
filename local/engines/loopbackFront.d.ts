/** Types of loopbackFront.js (plain CommonJS: it runs in processes started with plain `node`). */

/** The variable through which each engine process gets the run's access key id. */
export const ACCESS_KEY_ID_VARIABLE: 'SHARDFLOW_LOCAL_ACCESS_KEY_ID';

/** What a run's access key id must look like for a front to start (letters and digits, 20–128). */
export const ACCESS_KEY_ID_PATTERN: RegExp;

/** Headers of a connection, not of a request: never forwarded. */
export const HOP_BY_HOP: ReadonlySet<string>;

/** Host names a request may name in `Host`, each followed by `:PORT`. */
export const LOOPBACK_HOSTNAMES: readonly string[];

/**
 * Why a request with these raw headers must not reach an engine listening on `port` (a browser
 * `Origin`/`Sec-Fetch-*` header, a `Host` that is not loopback with that port, no SigV4
 * `Authorization` naming exactly `accessKeyId`), or undefined. Refuses everything when
 * `accessKeyId` is not a valid key id.
 */
export function refusalOf(
  rawHeaders: readonly string[],
  port: number,
  accessKeyId: string,
): string | undefined;

/**
 * The run's access key id from `SHARDFLOW_LOCAL_ACCESS_KEY_ID` in `env`, which it removes from
 * `env`; throws when it is missing or not a valid key id.
 */
export function takeAccessKeyId(env: Record<string, string | undefined>): string;

/**
 * The request handler of a loopback front forwarding to an engine's Unix socket; throws when
 * `accessKeyId` is not a valid key id.
 */
export function createFrontHandler(
  port: number,
  socketPath: string,
  engine: string,
  accessKeyId: string,
): unknown;
