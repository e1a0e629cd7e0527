import { join } from 'node:path';

/** Path of the execution-environment script each worker process runs. */
export const BOOTSTRAP_PATH = join(__dirname, 'bootstrap.js');

/** Value of `AWS_EXECUTION_ENV` in a worker. */
export const EXECUTION_ENV = 'AWS_Lambda_nodejs22.x';

/** Function version every local invocation runs (`AWS_LAMBDA_FUNCTION_VERSION`). */
export const FUNCTION_VERSION = '$LATEST';

/** How long a worker may take to load the handler module (Lambda's init phase limit), in milliseconds. */
export const INIT_TIMEOUT_MS = 10_000;

/** How long a worker may take to answer a memory query (`FunctionHost.memory()`), in milliseconds. */
export const MEMORY_QUERY_TIMEOUT_MS = 2_000;

/** Share of the function's memory given to the V8 heap, as Lambda's Node.js runtime does. */
export const HEAP_SHARE = 0.9;

/** Error types a host reports, as Lambda names them. */
export const FUNCTION_ERROR_TYPES = {
  TIMEOUT: 'Sandbox.Timedout',
  EXIT: 'Runtime.ExitError',
  INIT_TIMEOUT: 'Runtime.InitTimeout',
} as const;
