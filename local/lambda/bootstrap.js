// Lambda execution environment for one function, started by FunctionHost with an IPC channel.
// Plain JavaScript (no TypeScript loader) so a warm process starts fast. Protocol:
//   child → parent  { type: 'ready', initError? }           once the handler module is loaded
//   parent → child  { type: 'invoke', id, event, context }  one at a time
//   child → parent  { type: 'result', id, payload } | { type: 'error', id, error }
//   parent → child  { type: 'memory', id }                  any time after 'ready'
//   child → parent  { type: 'memory', id, usage }           process.memoryUsage() (npm run soak)
// The process exits when the parent goes away (IPC 'disconnect'), so no child outlives it.

const { existsSync, realpathSync } = require('node:fs');
const Module = require('node:module');
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

/** A Lambda-like runtime error (`Runtime.ImportModuleError`, …). */
function runtimeError(name, message) {
  return Object.assign(new Error(message), { name });
}

/** Whether `file` is `root` or inside it. */
function isInside(root, file) {
  const relative = path.relative(root, file);
  return (
    relative === '' ||
    (!relative.startsWith(`..${path.sep}`) && relative !== '..' && !path.isAbsolute(relative))
  );
}

/**
 * Resolves packages the way Lambda does for code in its task root: in node_modules folders inside the
 * root, then in NODE_PATH — never in node_modules folders above the root (`/tmp/node_modules`, which
 * any local user may create, would otherwise come before NODE_PATH). Packages loaded from NODE_PATH
 * resolve their own dependencies as usual.
 */
function confineModuleResolution(root) {
  const nodeModulePaths = Module._nodeModulePaths;
  Module._nodeModulePaths = function confined(from) {
    const paths = nodeModulePaths.call(this, from);
    return isInside(root, from) ? paths.filter((folder) => isInside(root, folder)) : paths;
  };
}

/**
 * Loads the handler module the way Lambda's Node.js runtime does — `<path>/<module>.<export path>`,
 * the module resolved against the code root (LAMBDA_TASK_ROOT) — but only from inside the code root:
 * a handler containing `..` fails as on Lambda (Runtime.MalformedHandlerName), and an absolute module
 * path, or a module file that leads out of the code root through a symbolic link or a package.json
 * `main`, cannot be found (Runtime.ImportModuleError).
 */
async function loadHandler() {
  const spec = process.env._HANDLER ?? '';
  const taskRoot = process.env.LAMBDA_TASK_ROOT ?? process.cwd();
  if (spec.includes('..')) {
    throw runtimeError(
      'Runtime.MalformedHandlerName',
      `'${spec}' is not a valid handler name: it must not contain '..'`,
    );
  }
  const handlerString = path.basename(spec);
  const moduleRoot = spec.slice(0, spec.length - handlerString.length);
  const match = /^([^.]+)\.(.+)$/.exec(handlerString);
  if (match === null) {
    throw runtimeError(
      'Runtime.MalformedHandlerName',
      `Bad handler ${spec}: expected <file>.<export>`,
    );
  }
  const [, moduleName, exportPath] = match;
  const modulePath = `${moduleRoot}${moduleName}`;
  const notFound = (why) =>
    runtimeError('Runtime.ImportModuleError', `Cannot find module '${modulePath}'${why}`);
  if (path.isAbsolute(modulePath)) {
    throw notFound(
      ": the local runtime loads handlers only from the function's code directory (absolute paths such as Lambda layers under /opt are not emulated)",
    );
  }
  const root = realpathSync.native(taskRoot);
  confineModuleResolution(root);
  const file = path.resolve(root, modulePath);
  let resolved;
  const esm = `${file}.mjs`;
  if (existsSync(esm)) {
    resolved = esm;
  } else {
    try {
      resolved = require.resolve(file);
    } catch (error) {
      if (error && error.code === 'MODULE_NOT_FOUND') throw notFound('');
      throw error;
    }
  }
  const real = realpathSync.native(resolved);
  if (!isInside(root, file) || !isInside(root, real)) {
    throw notFound(`: it resolves to ${real}, outside the function's code directory ${root}`);
  }
  const moduleExports = real.endsWith('.mjs')
    ? await import(pathToFileURL(real).href)
    : require(real);
  const handler = exportPath
    .split('.')
    .reduce((object, key) => (object == null ? undefined : object[key]), moduleExports);
  if (typeof handler !== 'function') {
    throw runtimeError('Runtime.HandlerNotFound', `${spec} is undefined or not exported`);
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
