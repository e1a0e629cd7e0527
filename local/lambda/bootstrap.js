// Lambda execution environment for one function, started by FunctionHost with an IPC channel.
// Plain JavaScript (no TypeScript loader) so a warm process starts fast. Protocol:
//   child → parent  { type: 'ready', initError? }           once the handler module is loaded
//   parent → child  { type: 'invoke', id, event, context }  one at a time
//   child → parent  { type: 'result', id, payload } | { type: 'error', id, error }
//   parent → child  { type: 'memory', id }                  any time after 'ready'
//   child → parent  { type: 'memory', id, usage }           process.memoryUsage() (npm run soak)
// The process exits when the parent goes away (IPC 'disconnect'), so no child outlives it.

const { existsSync } = require('node:fs');
const path = require('node:path');
const { pathToFileURL } = require('node:url');

if (typeof process.send !== 'function') {
  process.stderr.write('bootstrap.js must be started by FunctionHost with an IPC channel\n');
  process.exit(1);
}
process.on('disconnect', () => process.exit(0));

function toError(error) {
  if (error instanceof Error) {
    return {
      errorType: error.name || error.constructor?.name || 'Error',
      errorMessage: error.message,
      stackTrace: String(error.stack ?? '').split('\n'),
    };
  }
  return { errorType: typeof error, errorMessage: String(error), stackTrace: [] };
}

async function loadHandler() {
  const spec = process.env._HANDLER ?? '';
  const taskRoot = process.env.LAMBDA_TASK_ROOT ?? process.cwd();
  const dot = spec.lastIndexOf('.');
  if (dot <= 0) {
    throw Object.assign(new Error(`Bad handler ${spec}: expected <file>.<export>`), {
      name: 'Runtime.MalformedHandlerName',
    });
  }
  const file = path.resolve(taskRoot, spec.slice(0, dot));
  const exportPath = spec.slice(dot + 1).split('.');
  let moduleExports;
  const esm = ['.mjs'].map((ext) => file + ext).find((candidate) => existsSync(candidate));
  try {
    moduleExports = esm ? await import(pathToFileURL(esm).href) : require(file);
  } catch (error) {
    if (error && error.code === 'MODULE_NOT_FOUND' && String(error.message).includes(file)) {
      throw Object.assign(new Error(`Cannot find module '${spec.slice(0, dot)}'`), {
        name: 'Runtime.ImportModuleError',
      });
    }
    throw error;
  }
  const handler = exportPath.reduce(
    (object, key) => (object == null ? undefined : object[key]),
    moduleExports,
  );
  if (typeof handler !== 'function') {
    throw Object.assign(new Error(`${spec} is undefined or not exported`), {
      name: 'Runtime.HandlerNotFound',
    });
  }
  return handler;
}

function runHandler(handler, event, context) {
  return new Promise((resolve, reject) => {
    let settled = false;
    const callback = (error, value) => {
      if (settled) return;
      settled = true;
      if (error !== undefined && error !== null) reject(error);
      else resolve(value);
    };
    context.done = callback;
    context.succeed = (value) => callback(null, value);
    context.fail = (error) => callback(error ?? new Error('handled'));
    const returned = handler(event, context, callback);
    if (returned && typeof returned.then === 'function') {
      returned.then(
        (value) => callback(null, value),
        (error) => callback(error ?? new Error('handler rejected')),
      );
    } else if (handler.length < 3) {
      callback(null, returned);
    }
  });
}

function contextFor(fields) {
  return {
    awsRequestId: fields.awsRequestId,
    functionName: fields.functionName,
    functionVersion: fields.functionVersion,
    invokedFunctionArn: fields.invokedFunctionArn,
    memoryLimitInMB: fields.memoryLimitInMB,
    logGroupName: fields.logGroupName,
    logStreamName: fields.logStreamName,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, fields.deadlineMs - Date.now()),
  };
}

async function main() {
  let handler;
  try {
    handler = await loadHandler();
  } catch (error) {
    process.send({ type: 'ready', initError: toError(error) });
    return;
  }
  process.on('message', async (message) => {
    if (message?.type === 'memory') {
      process.send({ type: 'memory', id: message.id, usage: process.memoryUsage() });
      return;
    }
    if (message?.type !== 'invoke') return;
    const { id } = message;
    try {
      process.env._X_AMZN_TRACE_ID = message.traceId;
      const result = await runHandler(handler, message.event, contextFor(message.context));
      let payload;
      try {
        payload = JSON.stringify(result === undefined ? null : result);
      } catch (error) {
        process.send({
          type: 'error',
          id,
          error: {
            errorType: 'Runtime.MarshalError',
            errorMessage: `Unable to stringify response body: ${error.message}`,
          },
        });
        return;
      }
      process.send({ type: 'result', id, payload });
    } catch (error) {
      process.send({ type: 'error', id, error: toError(error) });
    }
  });
  process.send({ type: 'ready' });
}

main().catch((error) => {
  process.stderr.write(`${error?.stack ? error.stack : error}\n`);
  process.exit(1);
});
