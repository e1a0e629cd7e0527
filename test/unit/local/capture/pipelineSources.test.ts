import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pipelineSources } from '#local/capture/pipelineSources';

const stream = (name: string) => ({
  Type: 'AWS::Kinesis::Stream',
  Properties: { ShardCount: 1 },
  Metadata: { 'shardflow:name': name },
});
const handler = (pipeline: string) => ({
  Type: 'AWS::Lambda::Function',
  Properties: { Environment: { Variables: { SHARDFLOW_PIPELINE: pipeline } } },
});
const mapping = (fn: string, streamId: string) => ({
  Type: 'AWS::Lambda::EventSourceMapping',
  Properties: { FunctionName: { Ref: fn }, EventSourceArn: { 'Fn::GetAtt': [streamId, 'Arn'] } },
});

describe('pipelineSources', () => {
  it('finds each pipeline’s input stream from its handler’s event source mapping, and who else reads it', () => {
    // GIVEN an assembly where page-views and sessions read clicks, and enrich reads numbers
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shardflow-sources-'));
    fs.writeFileSync(
      path.join(dir, 'manifest.json'),
      JSON.stringify({
        version: '48.0.0',
        artifacts: {
          App: {
            type: 'aws:cloudformation:stack',
            properties: { templateFile: 'App.template.json', stackName: 'dev' },
          },
        },
      }),
    );
    fs.writeFileSync(
      path.join(dir, 'App.template.json'),
      JSON.stringify({
        Resources: {
          Clicks: stream('clicks'),
          Numbers: stream('numbers'),
          PageViewsFn: handler('page-views'),
          SessionsFn: handler('sessions'),
          EnrichFn: handler('enrich'),
          SweeperFn: { Type: 'AWS::Lambda::Function', Properties: {} },
          M1: mapping('PageViewsFn', 'Clicks'),
          M2: mapping('SessionsFn', 'Clicks'),
          M3: mapping('EnrichFn', 'Numbers'),
        },
      }),
    );
    const deployed = (logicalId: string, physicalName: string, type = 'AWS::Kinesis::Stream') => ({
      type,
      physicalName,
      arn: `arn:${physicalName}`,
      logicalId,
      stack: 'dev',
    });

    // WHEN
    const sources = pipelineSources({
      cdkOut: dir,
      names: {
        clicks: deployed('Clicks', 'dev-clicks-1'),
        numbers: deployed('Numbers', 'dev-numbers-1'),
        'page-views-fn': deployed('PageViewsFn', 'dev-page-views', 'AWS::Lambda::Function'),
      },
    });

    // THEN
    expect(Object.fromEntries(sources)).toEqual({
      'page-views': {
        pipeline: 'page-views',
        stream: 'clicks',
        physicalName: 'dev-clicks-1',
        functionName: 'dev-page-views',
        alsoReadBy: ['sessions'],
      },
      sessions: {
        pipeline: 'sessions',
        stream: 'clicks',
        physicalName: 'dev-clicks-1',
        alsoReadBy: ['page-views'],
      },
      enrich: {
        pipeline: 'enrich',
        stream: 'numbers',
        physicalName: 'dev-numbers-1',
        alsoReadBy: [],
      },
    });
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
