/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { diagnostics: false }],
  },
  moduleNameMapper: {
    '^#commons/(.*)$': '<rootDir>/functions/commons/$1',
    '^#runtime/(.*)$': '<rootDir>/functions/runtime/$1',
    '^#watermark/(.*)$': '<rootDir>/functions/watermark/$1',
    '^#state/(.*)$': '<rootDir>/functions/state/$1',
    '^#sinks/(.*)$': '<rootDir>/functions/sinks/$1',
    '^#sources/(.*)$': '<rootDir>/functions/sources/$1',
    '^#pipelines/(.*)$': '<rootDir>/functions/pipelines/$1',
    '^#handlers/(.*)$': '<rootDir>/functions/handlers/$1',
    '^#local/(.*)$': '<rootDir>/local/$1',
    '^#infra/(.*)$': '<rootDir>/infra/$1',
    '^#test/(.*)$': '<rootDir>/test/$1',
    '^#bench/(.*)$': '<rootDir>/bench/$1',
    '^#soak/(.*)$': '<rootDir>/soak/$1',
  },
  testTimeout: 120_000,
  // Integration and e2e suites start real engines; two cores here, so keep workers low.
  maxWorkers: 2,
};
