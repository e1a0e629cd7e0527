/** Types of loopbackFront.js (plain CommonJS: it runs in processes started with plain `node`). */

/** Headers of a connection, not of a request: never forwarded. */
export const HOP_BY_HOP: ReadonlySet<string>;

/** Host names a request may name in `Host`, each followed by `:PORT`. */
export const LOOPBACK_HOSTNAMES: readonly string[];

/**
 * Why a request with these raw headers must not reach an engine listening on `port` (a browser
 * `Origin`/`Sec-Fetch-*` header, a `Host` that is not loopback with that port), or undefined.
 */
export function refusalOf(rawHeaders: readonly string[], port: number): string | undefined;

/** The request handler of a loopback front forwarding to an engine's Unix socket. */
export function createFrontHandler(port: number, socketPath: string, engine: string): unknown;
