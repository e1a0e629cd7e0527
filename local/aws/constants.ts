/** Attempts per request of local clients: enough to ride out a busy engine, few enough to fail fast. */
export const LOCAL_MAX_ATTEMPTS = 5;

/** How long a local client waits for a TCP connection, in milliseconds. */
export const LOCAL_CONNECTION_TIMEOUT_MS = 2_000;

/** How long a local client waits for a response, in milliseconds. */
export const LOCAL_REQUEST_TIMEOUT_MS = 30_000;
