#!/usr/bin/env node
// Entry point of the `shardflow` CLI. The CLI is written in TypeScript and run through tsx, so the
// same sources serve the CLI, the tests and the CDK app without a separate build step.
const path = require('node:path');

process.env.TSX_TSCONFIG_PATH ??= path.join(__dirname, '..', 'tsconfig.json');
// Under Node 20 the AWS SDK prints a 9-line notice (it will require Node 22 from January 2027) on
// every command, in the middle of their output. README's requirements say it once; the runtime
// and the engines this process starts inherit the setting.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
require('tsx/cjs/api').register();
require('../local/cli/main.ts')
  .main(process.argv)
  .then((code) => {
    process.exitCode = code;
  })
  .catch((error) => {
    console.error(`shardflow: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  });
