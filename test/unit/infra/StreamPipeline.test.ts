import * as path from 'node:path';
import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { PipelineSweeper } from '#infra/PipelineSweeper';
import { StateTable } from '#infra/StateTable';
import { StreamPipeline, type StreamPipelineProps } from '#infra/StreamPipeline';
import type { PipelineDefinitionConfig } from '#infra/types';
import { pageViews } from '#pipelines/page-views';
import { pipeline } from '#runtime/pipeline';

const ROOT = path.join(__dirname, '../../..');
const ENRICH_ENTRY = path.join(ROOT, 'functions/handlers/enrich.ts');
const PAGE_VIEWS_ENTRY = path.join(ROOT, 'functions/handlers/page-views.ts');

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

/** A windowed definition as plain JSON (what infra reads), with one window setting overridden. */
function windowed(
  window: Record<string, unknown> = {},
  maxOutOfOrdernessMs = 30_000,
): PipelineDefinitionConfig {
  return {
    name: 'counts',
    config: {
      kind: 'windowed',
      name: 'counts',
      input: { stream: 'in' },
      outputs: ['out'],
      stages: [],
      window: { kind: 'tumbling', sizeMs: 60_000, slideMs: 60_000, sliceMs: 60_000, ...window },
      eventTime: 'extractor',
      maxOutOfOrdernessMs,
      idleTimeoutMs: 60_000,
      emit: 'final',
      aggregates: [],
    } as PipelineDefinitionConfig['config'],
  };
}

/** Builds a pipeline on given streams; validation throws before anything is bundled. */
function pipelineWith(
  overrides: Partial<StreamPipelineProps>,
  definition: PipelineDefinitionConfig = STATELESS,
): void {
  const stack = new Stack(new App(), 'test');
  new StreamPipeline(stack, 'Pipeline', {
    definition,
    entry: ENRICH_ENTRY,
    inputStream: new kinesis.Stream(stack, 'In'),
    outputStreams: { out: new kinesis.Stream(stack, 'Out') },
    failureStream: new kinesis.Stream(stack, 'Failures'),
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
    expect(() => pipelineWith({ maxRecordAge: Duration.days(8) })).toThrow('got 691200');
  });

  it('fails when maxBatchingWindow is above 300 seconds', () => {
    expect(() => pipelineWith({ maxBatchingWindow: Duration.minutes(6) })).toThrow(
      'maxBatchingWindow (seconds) must be an integer in 0..300, got 360',
    );
  });

  it('fails when parallelizationFactor is outside 1..10', () => {
    expect(() => pipelineWith({ parallelizationFactor: 11 })).toThrow(
      'parallelizationFactor must be an integer in 1..10, got 11',
    );
  });

  it('fails when a windowed pipeline asks for parallelizationFactor above 1', () => {
    expect(() => pipelineWith({ parallelizationFactor: 4 }, windowed())).toThrow(
      'parallelizationFactor must be 1 for windowed pipeline counts, got 4: its window state is fenced per shard',
    );
  });

  it('fails when the shard count of a created stream is outside 1..500', () => {
    expect(() =>
      pipelineWith({ shardCount: 0, inputStream: undefined, outputStreams: undefined }),
    ).toThrow('shardCount of stream in must be an integer in 1..500, got 0');
    expect(() => pipelineWith({ shardCount: 501, inputStream: undefined })).toThrow('got 501');
  });

  it('fails when the window size is outside 1 s..7 d', () => {
    expect(() => pipelineWith({}, windowed({ sizeMs: 500, slideMs: 500 }))).toThrow(
      'window size (ms) of counts must be an integer in 1000..604800000, got 500',
    );
    expect(() => pipelineWith({}, windowed({ sizeMs: 8 * 86_400_000 }))).toThrow('got 691200000');
  });

  it('fails when a hopping window slides by more than its size', () => {
    expect(() =>
      pipelineWith({}, windowed({ kind: 'hopping', sizeMs: 60_000, slideMs: 120_000 })),
    ).toThrow('window slide (ms) of counts must be an integer in 1000..60000, got 120000');
  });

  it('fails when a session gap is outside 1 s..1 d', () => {
    expect(() => pipelineWith({}, windowed({ kind: 'session', gapMs: 2 * 86_400_000 }))).toThrow(
      'session gap (ms) of counts must be an integer in 1000..86400000, got 172800000',
    );
  });

  it('fails when allowed lateness exceeds maxRecordAge', () => {
    expect(() =>
      pipelineWith({ maxRecordAge: Duration.minutes(1) }, windowed({}, 120_000)),
    ).toThrow(
      'maxOutOfOrderness (ms) of counts (at most maxRecordAge) must be an integer in 0..60000, got 120000',
    );
  });

  it('fails when timeout or memorySize are outside what Lambda allows', () => {
    expect(() => pipelineWith({ timeout: Duration.minutes(16) })).toThrow(
      'timeout (seconds) must be an integer in 1..900, got 960',
    );
    expect(() => pipelineWith({ memorySize: 64 })).toThrow(
      'memorySize must be an integer in 128..10240, got 64',
    );
  });

  it('fails when a pipeline name is not [a-z0-9-]: a wildcard would widen its state partitions', () => {
    // GIVEN: definitions written as plain JSON, which pipeline() would have refused
    const named = (name: string): PipelineDefinitionConfig => {
      const definition = windowed();
      return { name, config: { ...definition.config, name } };
    };
    // WHEN / THEN
    for (const name of ['page*', 'page?views', 'page#K', 'Page', '']) {
      expect(() => pipelineWith({}, named(name))).toThrow(
        `pipeline name must be 1..64 characters of [a-z0-9-] starting with a letter or digit, got ${JSON.stringify(name)}: ` +
          'it becomes the dynamodb:LeadingKeys pattern "<name>#*" of its state partitions',
      );
    }
    expect(() => pipeline('page*')).toThrow('pipeline name must be 1..64 characters of [a-z0-9-]');
  });

  it('fails when failureStreamRetention is not whole hours from 24 hours to 365 days', () => {
    expect(() => pipelineWith({ failureStreamRetention: Duration.hours(23) })).toThrow(
      'failureStreamRetention (hours) must be an integer in 24..8760, got 23',
    );
    expect(() => pipelineWith({ failureStreamRetention: Duration.days(366) })).toThrow(
      'failureStreamRetention (hours) must be an integer in 24..8760, got 8784',
    );
    expect(() => pipelineWith({ failureStreamRetention: Duration.minutes(90) })).toThrow(
      'failureStreamRetention (hours) must be an integer in 24..8760, got 1.5',
    );
    expect(() => pipelineWith({ failureStreamRetention: Duration.hours(8_760) })).not.toThrow();
  });

  it('fails when outputStreams do not match the outputs of the definition', () => {
    const stack = new Stack(new App(), 'test');
    const stream = new kinesis.Stream(stack, 'S');
    expect(() => pipelineWith({ outputStreams: { other: stream } })).toThrow(
      "outputStreams has no stream for 'out'; pipeline enrich writes out",
    );
  });

  it('fails when a windowed pipeline is given a sweeper of another state table', () => {
    // GIVEN
    const stack = new Stack(new App(), 'test');
    const table = (id: string) =>
      new dynamodb.Table(stack, id, {
        partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      });
    const sweeper = new PipelineSweeper(stack, 'Sweeper', {
      entry: path.join(ROOT, 'functions/handlers/sweeper.ts'),
      stateTable: table('A'),
    });
    // WHEN / THEN
    expect(
      () =>
        new StreamPipeline(stack, 'Pipeline', {
          definition: windowed(),
          entry: PAGE_VIEWS_ENTRY,
          stateTable: table('B'),
          sweeper,
        }),
    ).toThrow('pipeline counts uses another state table than the sweeper');
  });

  it('marks the handler of a windowed pipeline with its window kind, and no other function', () => {
    // GIVEN: an app that skips bundling
    const stack = new Stack(new App({ context: { [cxapi.BUNDLING_STACKS]: [] } }), 'test');

    // WHEN: the user's environment tries to drop the marker
    new StreamPipeline(stack, 'PageViews', {
      definition: pageViews,
      entry: PAGE_VIEWS_ENTRY,
      environment: { SHARDFLOW_WINDOW_KIND: '' },
    });
    new StreamPipeline(stack, 'Enrich', { definition: STATELESS, entry: ENRICH_ENTRY });

    // THEN
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          SHARDFLOW_PIPELINE: 'page-views',
          SHARDFLOW_WINDOW_KIND: 'tumbling',
        }),
      },
    });
    const marked = Object.values(template.findResources('AWS::Lambda::Function')).filter(
      (fn) =>
        (fn as { Properties: { Environment: { Variables: Record<string, string> } } }).Properties
          .Environment.Variables.SHARDFLOW_WINDOW_KIND !== undefined,
    );
    expect(marked).toHaveLength(1);
  });

  it('gives the shared sweeper each windowed pipeline’s starting position, as SHARDFLOW_STARTING_POSITION_<PIPELINE>', () => {
    // GIVEN an app that skips bundling, with one state table and one sweeper
    const stack = new Stack(new App({ context: { [cxapi.BUNDLING_STACKS]: [] } }), 'test');
    const state = new StateTable(stack, 'State');
    const sweeper = new PipelineSweeper(stack, 'Sweeper', {
      entry: path.join(ROOT, 'functions/handlers/sweeper.ts'),
      stateTable: state.table,
    });

    // WHEN two windowed pipelines register with it: page-views from the default TRIM_HORIZON,
    // counts from LATEST
    new StreamPipeline(stack, 'PageViews', {
      definition: pageViews,
      entry: PAGE_VIEWS_ENTRY,
      stateTable: state.table,
      sweeper,
    });
    new StreamPipeline(stack, 'Counts', {
      definition: windowed(),
      entry: PAGE_VIEWS_ENTRY,
      stateTable: state.table,
      sweeper,
      startingPosition: lambda.StartingPosition.LATEST,
    });

    // THEN the sweeper function has one starting-position variable per pipeline, and no other
    const sweepers = Object.values(
      Template.fromStack(stack).findResources('AWS::Lambda::Function', {
        Properties: { Description: Match.stringLikeRegexp('^shardflow sweeper') },
      }),
    );
    expect(sweepers).toHaveLength(1);
    const variables = (
      sweepers[0] as { Properties: { Environment: { Variables: Record<string, unknown> } } }
    ).Properties.Environment.Variables;
    expect(
      Object.fromEntries(
        Object.entries(variables).filter(([name]) =>
          name.startsWith('SHARDFLOW_STARTING_POSITION'),
        ),
      ),
    ).toEqual({
      SHARDFLOW_STARTING_POSITION_PAGE_VIEWS: 'TRIM_HORIZON',
      SHARDFLOW_STARTING_POSITION_COUNTS: 'LATEST',
    });
  });

  describe('state and failure stream protections', () => {
    /** A stack that skips bundling: these tests read policies only. */
    const unbundled = () =>
      new Stack(new App({ context: { [cxapi.BUNDLING_STACKS]: [] } }), 'test');
    const STATE_RESOURCES = [
      { 'Fn::GetAtt': [Match.stringLikeRegexp('^PageViewsStateTable'), 'Arn'] },
      {
        'Fn::Join': [
          '',
          [
            { 'Fn::GetAtt': [Match.stringLikeRegexp('^PageViewsStateTable'), 'Arn'] },
            '/index/gsi1',
          ],
        ],
      },
    ];
    /** The Deny statement of a failure stream's resource policy, readers exempted by `condition`. */
    const denyReads = (condition?: unknown) => ({
      Sid: 'DenyRecordReadsToAllButFailureStreamReaders',
      Effect: 'Deny',
      Principal: {
        AWS: {
          'Fn::Join': [
            '',
            ['arn:', { Ref: 'AWS::Partition' }, ':iam::', { Ref: 'AWS::AccountId' }, ':root'],
          ],
        },
      },
      Action: ['kinesis:GetShardIterator', 'kinesis:GetRecords'],
      Resource: {
        'Fn::GetAtt': [Match.stringLikeRegexp('^PageViewsPageViewsFailuresStream'), 'Arn'],
      },
      ...(condition === undefined ? {} : { Condition: condition }),
    });

    it('lets the handler reach only its own partitions of the state table and of gsi1', () => {
      // GIVEN
      const stack = unbundled();
      // WHEN
      new StreamPipeline(stack, 'PageViews', { definition: pageViews, entry: PAGE_VIEWS_ENTRY });
      // THEN: `page-views#*` matches `page-views#K#…`, `#WM`, `#P#…`, `#LN`, `#SL`, `#due#…`, `#SLdue`, …
      Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
        Roles: [{ Ref: Match.stringLikeRegexp('^PageViewsRole') }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            {
              Effect: 'Allow',
              Action: [
                'dynamodb:GetItem',
                'dynamodb:BatchGetItem',
                'dynamodb:Query',
                'dynamodb:UpdateItem',
                'dynamodb:PutItem',
              ],
              Resource: STATE_RESOURCES,
              Condition: {
                'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['page-views#*'] },
              },
            },
          ]),
        },
      });
    });

    it('keeps failure records 7 days by default, with the streams’ key, and denies reading them', () => {
      // GIVEN
      const stack = unbundled();
      // WHEN
      new StreamPipeline(stack, 'PageViews', { definition: pageViews, entry: PAGE_VIEWS_ENTRY });
      // THEN
      const template = Template.fromStack(stack);
      template.hasResource('AWS::Kinesis::Stream', {
        Properties: {
          RetentionPeriodHours: 168,
          StreamEncryption: { EncryptionType: 'KMS', KeyId: 'alias/aws/kinesis' },
        },
        Metadata: { 'shardflow:name': 'page-views-failures' },
      });
      for (const name of ['clicks', 'page-view-counts']) {
        template.hasResource('AWS::Kinesis::Stream', {
          Properties: { RetentionPeriodHours: 24 },
          Metadata: { 'shardflow:name': name },
        });
      }
      // no reader named: every principal of the account is denied the records, the stream's writers
      // (PutRecords) are not
      template.resourceCountIs('AWS::Kinesis::ResourcePolicy', 1);
      template.hasResourceProperties('AWS::Kinesis::ResourcePolicy', {
        ResourceArn: {
          'Fn::GetAtt': [Match.stringLikeRegexp('^PageViewsPageViewsFailuresStream'), 'Arn'],
        },
        ResourcePolicy: { Version: '2012-10-17', Statement: [denyReads()] },
      });
    });

    it('applies a custom retention, a failure-stream key and exempts the named readers', () => {
      // GIVEN
      const stack = unbundled();
      const failureKey = new kms.Key(stack, 'FailureKey', { enableKeyRotation: true });
      const oncall = new iam.Role(stack, 'Oncall', { assumedBy: new iam.AccountRootPrincipal() });
      // WHEN
      new StreamPipeline(stack, 'PageViews', {
        definition: pageViews,
        entry: PAGE_VIEWS_ENTRY,
        failureStreamRetention: Duration.days(3),
        failureStreamEncryptionKey: failureKey,
        failureStreamReaders: [oncall],
      });
      // THEN: the failure stream alone is encrypted with the failure key, kept 72 hours
      const template = Template.fromStack(stack);
      const byFailureKey = { 'Fn::GetAtt': [Match.stringLikeRegexp('^FailureKey'), 'Arn'] };
      template.hasResource('AWS::Kinesis::Stream', {
        Properties: {
          RetentionPeriodHours: 72,
          StreamEncryption: { EncryptionType: 'KMS', KeyId: byFailureKey },
        },
        Metadata: { 'shardflow:name': 'page-views-failures' },
      });
      template.hasResource('AWS::Kinesis::Stream', {
        Properties: { StreamEncryption: { EncryptionType: 'KMS', KeyId: 'alias/aws/kinesis' } },
        Metadata: { 'shardflow:name': 'clicks' },
      });
      // the reader is exempted from the deny by its ARN …
      template.hasResourceProperties('AWS::Kinesis::ResourcePolicy', {
        ResourcePolicy: {
          Statement: [
            denyReads({
              ArnNotEquals: {
                'aws:PrincipalArn': [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^Oncall'), 'Arn'] }],
              },
            }),
          ],
        },
      });
      // … and granted exactly the reads, and the key through Kinesis only
      template.hasResourceProperties('AWS::IAM::Policy', {
        Roles: [{ Ref: Match.stringLikeRegexp('^Oncall') }],
        PolicyDocument: {
          Statement: [
            {
              Effect: 'Allow',
              Action: [
                'kinesis:DescribeStreamSummary',
                'kinesis:ListShards',
                'kinesis:GetShardIterator',
                'kinesis:GetRecords',
              ],
              Resource: {
                'Fn::GetAtt': [Match.stringLikeRegexp('^PageViewsPageViewsFailuresStream'), 'Arn'],
              },
            },
            {
              Effect: 'Allow',
              Action: 'kms:Decrypt',
              Resource: byFailureKey,
              Condition: {
                StringEquals: {
                  'kms:ViaService': {
                    'Fn::Join': ['', ['kinesis.', { Ref: 'AWS::Region' }, '.amazonaws.com']],
                  },
                },
              },
            },
          ],
        },
      });
      // the handler writes failures with the failure key
      template.hasResourceProperties('AWS::IAM::Policy', {
        Roles: [{ Ref: Match.stringLikeRegexp('^PageViewsRole') }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Action: 'kms:GenerateDataKey', Resource: byFailureKey }),
          ]),
        },
      });
    });

    it('gives a failure stream shared by two pipelines one deny statement that exempts the readers of both', () => {
      // GIVEN one failure stream for two pipelines, each with its own reader
      const stack = unbundled();
      const shared = new kinesis.Stream(stack, 'SharedFailures');
      const readerA = new iam.Role(stack, 'ReaderA', { assumedBy: new iam.AccountRootPrincipal() });
      const readerB = new iam.Role(stack, 'ReaderB', { assumedBy: new iam.AccountRootPrincipal() });
      // WHEN
      for (const [id, name, reader] of [
        ['A', 'views-a', readerA],
        ['B', 'views-b', readerB],
      ] as const) {
        new StreamPipeline(stack, id, {
          definition: { ...pageViews, name, config: { ...pageViews.config, name } },
          entry: PAGE_VIEWS_ENTRY,
          inputStream: new kinesis.Stream(stack, `${id}In`),
          failureStream: shared,
          failureStreamReaders: [reader],
        });
      }
      // THEN one statement (one Sid), neither reader denied by the other pipeline's exemption
      const policies = Template.fromStack(stack).findResources('AWS::Kinesis::ResourcePolicy');
      expect(Object.values(policies)).toHaveLength(1);
      const [policy] = Object.values(policies) as Array<{
        Properties: { ResourcePolicy: { Statement: Array<Record<string, unknown>> } };
      }>;
      const statements = policy?.Properties.ResourcePolicy.Statement ?? [];
      expect(
        statements.map((statement) => [statement.Sid, statement.Effect, statement.Action]),
      ).toEqual([
        [
          'DenyRecordReadsToAllButFailureStreamReaders',
          'Deny',
          ['kinesis:GetShardIterator', 'kinesis:GetRecords'],
        ],
      ]);
      const condition = statements[0]?.Condition as
        | { ArnNotEquals: { 'aws:PrincipalArn': unknown[] } }
        | undefined;
      const exempted = (condition?.ArnNotEquals['aws:PrincipalArn'] ?? []).map(
        (arn) => (arn as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0],
      );
      expect(exempted).toEqual([
        expect.stringMatching(/^ReaderA/),
        expect.stringMatching(/^ReaderB/),
      ]);
    });

    it('warns when the failure stream is imported and its resource policy cannot be managed', () => {
      // GIVEN
      const stack = unbundled();
      const imported = kinesis.Stream.fromStreamArn(
        stack,
        'Imported',
        'arn:aws:kinesis:eu-west-1:123456789012:stream/page-views-failures',
      );
      // WHEN
      new StreamPipeline(stack, 'PageViews', {
        definition: pageViews,
        entry: PAGE_VIEWS_ENTRY,
        failureStream: imported,
      });
      // THEN
      Annotations.fromStack(stack).hasWarning(
        '/test/PageViews',
        Match.stringLikeRegexp('the failure stream of page-views is imported'),
      );
      Template.fromStack(stack).resourceCountIs('AWS::Kinesis::ResourcePolicy', 0);
    });
  });

  describe('standalone windowed pipeline with every event source default overridden', () => {
    let template: Template;

    beforeAll(() => {
      // GIVEN
      const stack = new Stack(new App(), 'standalone');
      const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
      // WHEN: nothing given but the definition (its real config) and the handler
      new StreamPipeline(stack, 'PageViews', {
        definition: pageViews,
        entry: PAGE_VIEWS_ENTRY,
        shardCount: 3,
        encryptionKey: key,
        removalPolicy: RemovalPolicy.DESTROY,
        batchSize: 100,
        maxBatchingWindow: Duration.seconds(5),
        retryAttempts: 3,
        maxRecordAge: Duration.hours(1),
        bisectBatchOnError: false,
        startingPosition: lambda.StartingPosition.LATEST,
        reportBatchItemFailures: false,
        memorySize: 1024,
        timeout: Duration.seconds(30),
        iteratorAgeAlarmThreshold: Duration.minutes(5),
      });
      template = Template.fromStack(stack);
    });

    it('creates its input, output and failure streams, encrypted with the key, named', () => {
      // THEN
      for (const [name, shards] of [
        ['clicks', 3],
        ['page-view-counts', 3],
        ['page-views-failures', 1],
      ] as const) {
        template.hasResource('AWS::Kinesis::Stream', {
          Properties: {
            ShardCount: shards,
            StreamEncryption: {
              EncryptionType: 'KMS',
              KeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Key'), 'Arn'] },
            },
          },
          Metadata: { 'shardflow:name': name },
          DeletionPolicy: 'Delete',
        });
      }
      template.hasOutput('*', { Description: 'shardflow:name=page-views-failures' });
    });

    it('creates its state table and sweeper, the table encrypted with the key', () => {
      // THEN
      template.hasResourceProperties('AWS::DynamoDB::Table', {
        SSESpecification: {
          SSEEnabled: true,
          SSEType: 'KMS',
          KMSMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Key'), 'Arn'] },
        },
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      });
      template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(1 minute)' });
      template.resourceCountIs('AWS::Lambda::Function', 2);
    });

    it('encrypts the on-failure queue with the key', () => {
      template.hasResourceProperties('AWS::SQS::Queue', {
        KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Key'), 'Arn'] },
      });
    });

    it('applies every event source override', () => {
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        StartingPosition: 'LATEST',
        BatchSize: 100,
        MaximumBatchingWindowInSeconds: 5,
        BisectBatchOnFunctionError: false,
        MaximumRetryAttempts: 3,
        MaximumRecordAgeInSeconds: 3600,
        FunctionResponseTypes: Match.absent(),
        ParallelizationFactor: 1,
      });
    });

    it('applies the function and alarm overrides', () => {
      template.hasResourceProperties('AWS::Lambda::Function', {
        MemorySize: 1024,
        Timeout: 30,
        Environment: { Variables: Match.objectLike({ SHARDFLOW_PIPELINE: 'page-views' }) },
      });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'IteratorAge',
        Threshold: 300_000,
      });
    });
  });
});
