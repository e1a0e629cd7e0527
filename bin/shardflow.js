#!/usr/bin/env node
// Entry point of the `shardflow` CLI. The CLI is written in TypeScript and run through tsx, so the
// same sources serve the CLI, the tests and the CDK app without a separate build step.
const path = require('node:path');

process.env.TSX_TSCONFIG_PATH ??= path.join(__dirname, '..', 'tsconfig.json');
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
