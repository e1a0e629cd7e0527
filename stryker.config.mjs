/**
 * Mutation testing with Stryker: `npm run mutation`. Not part of `npm test`.
 *
 * Each target below is mutated, and every mutant is run against the unit tests that import the
 * target (jest `--findRelatedTests` over test/unit only, see jest.mutation.config.js), narrowed
 * per mutant to the tests that cover it (`coverageAnalysis: 'perTest'`). Integration and e2e
 * suites are never run.
 *
 * To add a target, add one line to `TARGETS`: a path or glob relative to the repo root, e.g.
 * 'functions/watermark/*.ts'; a line starting with '!' excludes files the glob matched (e.g.
 * '!functions/watermark/index.ts'). A single function can be targeted with a line range:
 * 'functions/state/planSessionWrite.ts:40-80'. Run one target only, without editing this file:
 * `npm run mutation -- --mutate functions/state/sequence.ts`.
 *
 * Reports: clear text on the console (score per file, surviving mutants), and
 * reports/mutation/mutation.{html,json}. The run fails below `thresholds.break`.
 */

/** Files to mutate. */
const TARGETS = [
  // One path or glob per line, from the repo root, e.g. 'functions/watermark/*.ts'.
  // The watermark and lateness rules.
  'functions/watermark/*.ts',
  '!functions/watermark/index.ts',
  '!functions/watermark/types.ts',
  // The fence planning: slices, sessions, and the refusals a session key remembers.
  'functions/state/planSliceWrite.ts',
  'functions/state/planSessionWrite.ts',
  'functions/state/elementIds.ts',
  'functions/state/sequence.ts',
  // Lane packs: what a batch's records in a cursor range put into each slice's pack.
  'functions/state/packs/planPacks.ts',
];

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
const config = {
  mutate: TARGETS,
  testRunner: 'jest',
  jest: {
    projectType: 'custom',
    configFile: 'jest.mutation.config.js',
    enableFindRelatedTests: true,
  },
  coverageAnalysis: 'perTest',
  // Files no unit test reads; keeps the sandbox copy small.
  ignorePatterns: [
    '/cdk.out',
    '/.shardflow',
    '/coverage',
    '/docs',
    '/test/integration',
    '/test/e2e',
  ],
  reporters: ['clear-text', 'progress', 'html', 'json'],
  clearTextReporter: { reportTests: false, reportMutants: true, reportScoreTable: true },
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  thresholds: { high: 90, low: 85, break: 85 },
  tempDirName: '.stryker-tmp',
};

export default config;
