import { describeAppAgainstOracles } from './appSuite';

// Issue 8: the same final results as without chaos (the oracle) under function errors before
// and after state writes, DynamoDB throttling and PutRecords partial failures.
describeAppAgainstOracles('example pipelines under --chaos 0.2 against their oracles', {
  minutes: process.env.SHARDFLOW_FULL_SCALE === '1' ? 60 : 4,
  chaos: { rate: 0.2, seed: 8 },
});
