/**
 * Jest config for Stryker mutation runs (`npm run mutation`, see stryker.config.mjs), not for
 * `npm test`. Same transform and aliases as jest.config.js, but tests are taken from test/unit
 * only: no mutant ever starts DynamoDB Local or kinesis-mock. Stryker runs jest with
 * `--findRelatedTests <target>`; the source folders are roots so that jest follows imports
 * through them and finds every unit test that reaches a target, not only those importing it
 * directly.
 *
 * @type {import('jest').Config}
 */
module.exports = {
  ...require('./jest.config.js'),
  roots: ['test/unit', 'functions', 'local', 'infra', 'bench', 'soak'].map((d) => `<rootDir>/${d}`),
  testMatch: ['<rootDir>/test/unit/**/*.test.ts'],
};
