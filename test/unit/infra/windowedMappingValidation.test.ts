import * as path from 'node:path';
import { App, CfnParameter, Lazy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { KinesisEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { StreamPipeline, type StreamPipelineProps } from '#infra/StreamPipeline';
import type { PipelineDefinitionConfig } from '#infra/types';
import { pageViews } from '#pipelines/page-views';

const ROOT = path.join(__dirname, '../../..');
const PAGE_VIEWS_ENTRY = path.join(ROOT, 'functions/handlers/page-views.ts');
const ENRICH_ENTRY = path.join(ROOT, 'functions/handlers/enrich.ts');

const STATELESS: PipelineDefinitionConfig = {
  name: 'enrich',
  config: {
    kind: 'stateless',
    name: 'enrich',
    input: { stream: 'in' },
    outputs: ['out'],
    stages: ['map'],
  },
};

/** Why every rejection below fails: the pipeline, then the reason and the way out. */
const REASON =
  'window state is fenced per shard, and concurrent batches of one shard would lose records. ' +
  'Give the input stream more shards for more throughput instead.';

/** An app that skips bundling (the check reads the construct tree, not the code), and its stack. */
function appWithStack(): { app: App; stack: Stack } {
  const app = new App({ context: { [cxapi.BUNDLING_STACKS]: [] } });
  return { app, stack: new Stack(app, 'test') };
}

/** The page-views (tumbling) pipeline with its own streams, table and sweeper. */
function windowedPipeline(stack: Stack, props: Partial<StreamPipelineProps> = {}): StreamPipeline {
  return new StreamPipeline(stack, 'PageViews', {
    definition: pageViews,
    entry: PAGE_VIEWS_ENTRY,
    ...props,
  });
}

describe('windowedMappingValidation', () => {
  it('fails synthesis when the pipeline is given a token that resolves to parallelizationFactor 4', () => {
    // GIVEN: the constructor cannot see through the token
    const { app, stack } = appWithStack();
    windowedPipeline(stack, { parallelizationFactor: Lazy.number({ produce: () => 4 }) });

    // WHEN / THEN
    const message = new RegExp(
      '\\[test/PageViews\\] event source mapping test/PageViews/Handler/KinesisEventSource:\\S+ ' +
        'invokes the handler of windowed pipeline page-views with ParallelizationFactor 4; ' +
        'it must be absent or 1 \\(a plain number at synth time\\): window state is fenced per shard',
    );
    expect(() => Template.fromStack(stack)).toThrow(message);
    expect(() => app.synth()).toThrow(message);
  });

  it('fails synthesis when the user adds a mapping with parallelizationFactor 4 to the handler', () => {
    // GIVEN
    const { stack } = appWithStack();
    const pipeline = windowedPipeline(stack);
    const extra = new kinesis.Stream(stack, 'Extra');

    // WHEN
    pipeline.handler.addEventSource(
      new KinesisEventSource(extra, {
        startingPosition: lambda.StartingPosition.TRIM_HORIZON,
        parallelizationFactor: 4,
      }),
    );

    // THEN
    expect(() => Template.fromStack(stack)).toThrow(
      /event source mapping test\/PageViews\/Handler\/KinesisEventSource:testExtra\S+\/Resource invokes the handler of windowed pipeline page-views with ParallelizationFactor 4;/,
    );
  });

  it('fails synthesis when a raw CfnEventSourceMapping in another stack has ParallelizationFactor 2', () => {
    // GIVEN
    const { app, stack } = appWithStack();
    const pipeline = windowedPipeline(stack);
    const other = new Stack(app, 'other');

    // WHEN
    new lambda.CfnEventSourceMapping(other, 'Raw', {
      functionName: pipeline.handler.functionArn,
      eventSourceArn: pipeline.inputStream.streamArn,
      startingPosition: 'LATEST',
      parallelizationFactor: 2,
    });

    // THEN
    expect(() => Template.fromStack(other)).toThrow(
      `event source mapping other/Raw invokes the handler of windowed pipeline page-views with ParallelizationFactor 2; it must be absent or 1 (a plain number at synth time): ${REASON}`,
    );
  });

  it('fails synthesis when ParallelizationFactor is a CfnParameter', () => {
    // GIVEN: a value only known at deployment
    const { stack } = appWithStack();
    const factor = new CfnParameter(stack, 'Factor', { type: 'Number', default: 1 });

    // WHEN
    windowedPipeline(stack, { parallelizationFactor: factor.valueAsNumber });

    // THEN
    expect(() => Template.fromStack(stack)).toThrow(
      'invokes the handler of windowed pipeline page-views with ParallelizationFactor {"Ref":"Factor"}; it must be absent or 1',
    );
  });

  it('fails synthesis when an override sets ParallelizationFactor on the pipeline mapping', () => {
    // GIVEN
    const { stack } = appWithStack();
    const pipeline = windowedPipeline(stack);
    const mapping = pipeline.handler.node
      .findAll()
      .find((construct) => construct instanceof lambda.CfnEventSourceMapping);

    // WHEN: the escape hatch the L1 property does not show
    (mapping as lambda.CfnEventSourceMapping).addPropertyOverride('ParallelizationFactor', 3);

    // THEN
    expect(() => Template.fromStack(stack)).toThrow('with ParallelizationFactor 3;');
  });

  it('accepts mappings with ParallelizationFactor 1 or none', () => {
    // GIVEN
    const { stack } = appWithStack();
    const pipeline = windowedPipeline(stack);

    // WHEN
    pipeline.handler.addEventSource(
      new KinesisEventSource(new kinesis.Stream(stack, 'Extra'), {
        startingPosition: lambda.StartingPosition.TRIM_HORIZON,
        parallelizationFactor: 1,
      }),
    );
    new lambda.CfnEventSourceMapping(stack, 'Raw', {
      functionName: pipeline.handler.functionName,
      eventSourceArn: pipeline.inputStream.streamArn,
      startingPosition: 'LATEST',
    });

    // THEN
    const template = Template.fromStack(stack);
    template.resourcePropertiesCountIs(
      'AWS::Lambda::EventSourceMapping',
      { ParallelizationFactor: 1 },
      2,
    );
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      StartingPosition: 'LATEST',
      ParallelizationFactor: Match.absent(),
    });
  });

  it('accepts parallelizationFactor 4 on a mapping to another function of the app', () => {
    // GIVEN
    const { stack } = appWithStack();
    const pipeline = windowedPipeline(stack);
    const other = new lambda.Function(stack, 'Other', {
      runtime: lambda.Runtime.NODEJS_24_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => {};'),
    });

    // WHEN: it reads the windowed pipeline's input stream
    other.addEventSource(
      new KinesisEventSource(pipeline.inputStream, {
        startingPosition: lambda.StartingPosition.TRIM_HORIZON,
        parallelizationFactor: 4,
      }),
    );

    // THEN
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      ParallelizationFactor: 4,
    });
  });

  it('accepts parallelizationFactor 4 on a stateless pipeline', () => {
    // GIVEN
    const { stack } = appWithStack();

    // WHEN
    new StreamPipeline(stack, 'Enrich', {
      definition: STATELESS,
      entry: ENRICH_ENTRY,
      parallelizationFactor: 4,
    });

    // THEN
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      ParallelizationFactor: 4,
    });
  });
});
