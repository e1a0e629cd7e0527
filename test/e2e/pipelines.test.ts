import { describeAppAgainstOracles } from './appSuite';

// 15 minutes of events per input stream (60 at full scale)
describeAppAgainstOracles('example pipelines on the embedded AWS against their oracles', {
  minutes: process.env.SHARDFLOW_FULL_SCALE === '1' ? 60 : 15,
});
