import * as path from 'node:path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import { StreamPipeline, type StreamPipelineProps } from '#infra/StreamPipeline';

const ENTRY = path.join(__dirname, '../../../functions/handlers/enrich.ts');

function pipelineWith(overrides: Partial<StreamPipelineProps>): void {
  const stack = new Stack(new App(), 'test');
  new StreamPipeline(stack, 'Pipeline', {
    pipelineName: 'enrich',
    entry: ENTRY,
    inputStream: new kinesis.Stream(stack, 'In'),
    outputStreams: { out: new kinesis.Stream(stack, 'Out') },
    ...overrides,
  });
}

describe('StreamPipeline', () => {
  it('fails when batchSize is outside 1..10000', () => {
    // WHEN / THEN
    expect(() => pipelineWith({ batchSize: 20_000 })).toThrow(
      'batchSize must be an integer in 1..10000, got 20000',
    );
    expect(() => pipelineWith({ batchSize: 0 })).toThrow('got 0');
  });

  it('fails when retryAttempts is outside -1..10000', () => {
    expect(() => pipelineWith({ retryAttempts: -2 })).toThrow(
      'retryAttempts must be an integer in -1..10000, got -2',
    );
  });

  it('fails when maxRecordAge is outside 60..604800 seconds', () => {
    expect(() => pipelineWith({ maxRecordAge: Duration.seconds(30) })).toThrow(
      'maxRecordAge (seconds) must be an integer in 60..604800, got 30',
    );
  });

  it('fails when maxBatchingWindow is above 300 seconds', () => {
    expect(() => pipelineWith({ maxBatchingWindow: Duration.minutes(6) })).toThrow('got 360');
  });
});
