import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { ShardflowStack } from '#infra/ShardflowStack';

type Statement = { Action: string | string[]; Resource: unknown };

const STATE_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:UpdateItem',
  'dynamodb:PutItem',
  'dynamodb:DeleteItem',
];

describe('ShardflowStack', () => {
  let app: App;
  let stack: ShardflowStack;
  let template: Template;

  beforeAll(() => {
    // GIVEN
    app = new App();
    // WHEN: every pipeline of functions/pipelines/ (enrich, page-views, …) in one synthesized stack
    stack = new ShardflowStack(app, 'shardflow-test', { shardCounts: { numbers: 3, clicks: 4 } });
    template = Template.fromStack(stack);
  });

  function policyStatements(): Statement[] {
    return Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
      (policy) =>
        (policy as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties
          .PolicyDocument.Statement,
    );
  }

  function actionsOf(statement: Statement): string[] {
    return Array.isArray(statement.Action) ? statement.Action : [statement.Action];
  }

  it('deploys every pipeline of functions/pipelines/', () => {
    // THEN
    expect([...stack.pipelines.keys()]).toEqual(expect.arrayContaining(['enrich', 'page-views']));
  });

  it('creates input, output and failure streams, KMS-encrypted, with their logical names', () => {
    // THEN
    template.hasResource('AWS::Kinesis::Stream', {
      Properties: {
        ShardCount: 3,
        RetentionPeriodHours: 24,
        StreamEncryption: { EncryptionType: 'KMS', KeyId: 'alias/aws/kinesis' },
      },
      Metadata: { 'shardflow:name': 'numbers' },
    });
    template.hasResource('AWS::Kinesis::Stream', {
      Properties: { ShardCount: 4 },
      Metadata: { 'shardflow:name': 'clicks' },
    });
    for (const name of ['numbers-doubled', 'page-view-counts']) {
      template.hasResource('AWS::Kinesis::Stream', {
        Properties: { ShardCount: 2 },
        Metadata: { 'shardflow:name': name },
      });
    }
    for (const name of ['enrich-failures', 'page-views-failures']) {
      template.hasResource('AWS::Kinesis::Stream', {
        Properties: {
          ShardCount: 1,
          RetentionPeriodHours: 168,
          StreamEncryption: { EncryptionType: 'KMS' },
        },
        Metadata: { 'shardflow:name': name },
      });
    }
    const streams = Object.values(template.findResources('AWS::Kinesis::Stream'));
    expect(streams.length).toBeGreaterThanOrEqual(6);
    for (const stream of streams) {
      expect(stream).toMatchObject({
        Properties: { StreamEncryption: { EncryptionType: 'KMS' } },
        Metadata: { 'shardflow:name': expect.any(String) },
      });
    }
  });

  it('names every stream in a stack output so the CLI can resolve logical names on AWS', () => {
    // THEN
    template.hasOutput('NumbersStreamName', { Description: 'shardflow:name=numbers' });
    template.hasOutput('NumbersDoubledStreamName', {
      Description: 'shardflow:name=numbers-doubled',
    });
    template.hasOutput('ClicksStreamName', { Description: 'shardflow:name=clicks' });
    template.hasOutput('PageViewCountsStreamName', {
      Description: 'shardflow:name=page-view-counts',
    });
    template.hasOutput('PageViewsFailuresStreamName', {
      Description: 'shardflow:name=page-views-failures',
    });
    const described = Object.values(template.findOutputs('*')).filter((output) =>
      String(output.Description).startsWith('shardflow:name='),
    );
    expect(described).toHaveLength(
      Object.keys(template.findResources('AWS::Kinesis::Stream')).length,
    );
  });

  it('runs the enrich handler on Node.js 24 arm64 with its streams and Powertools in its environment', () => {
    // THEN
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      MemorySize: 512,
      Timeout: 60,
      TracingConfig: { Mode: 'Active' },
      Environment: {
        Variables: Match.objectLike({
          OUTPUT_STREAM_NUMBERS_DOUBLED: { Ref: Match.stringLikeRegexp('^NumbersDoubledStream') },
          SHARDFLOW_FAILURE_STREAM: { Ref: Match.stringLikeRegexp('^EnrichFailuresStream') },
          SHARDFLOW_PIPELINE: 'enrich',
          POWERTOOLS_SERVICE_NAME: 'enrich',
          POWERTOOLS_METRICS_NAMESPACE: 'shardflow',
          POWERTOOLS_LOG_LEVEL: 'INFO',
          NODE_OPTIONS: '--enable-source-maps',
        }),
      },
    });
  });

  it('runs the page-views handler with the state table, its output and its failure stream', () => {
    // THEN
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Environment: {
        Variables: Match.objectLike({
          SHARDFLOW_STATE_TABLE: { Ref: Match.stringLikeRegexp('^StateTable') },
          OUTPUT_STREAM_PAGE_VIEW_COUNTS: { Ref: Match.stringLikeRegexp('^PageViewCountsStream') },
          SHARDFLOW_FAILURE_STREAM: { Ref: Match.stringLikeRegexp('^PageViewsFailuresStream') },
          POWERTOOLS_SERVICE_NAME: 'page-views',
        }),
      },
    });
  });

  /** Each function's asset directory in the synthesized assembly, with its NODE_OPTIONS. */
  function functionAssets(): { dir: string; nodeOptions: string }[] {
    const assembly = app.synth();
    return Object.values(template.findResources('AWS::Lambda::Function')).map((fn) => {
      const { Code, Environment } = (
        fn as {
          Properties: {
            Code: { S3Key: string };
            Environment: { Variables: { NODE_OPTIONS: string } };
          };
        }
      ).Properties;
      return {
        dir: path.join(assembly.directory, `asset.${Code.S3Key.replace(/\.zip$/, '')}`),
        nodeOptions: Environment.Variables.NODE_OPTIONS,
      };
    });
  }

  it('bundles every function minified with a source map of mappings only', () => {
    // THEN: each function's asset is one minified file (few, long lines) with its source map, which
    // maps to the sources without carrying their text
    const assets = functionAssets();
    expect(assets.length).toBeGreaterThanOrEqual(3);
    for (const { dir } of assets) {
      const map = JSON.parse(fs.readFileSync(path.join(dir, 'index.js.map'), 'utf8'));
      expect(map.sources).toEqual(
        expect.arrayContaining([expect.stringMatching(/functions\/handlers\/.+\.ts$/)]),
      );
      expect(map.sourcesContent).toBeUndefined();
      const code = fs.readFileSync(path.join(dir, 'index.js'), 'utf8');
      expect(code.length / code.split('\n').length).toBeGreaterThan(1_000); // minified: long lines
    }
  });

  it('bundles the SDK into every function: each one loads with no node_modules to resolve from', () => {
    for (const { dir, nodeOptions } of functionAssets()) {
      // GIVEN: the asset alone, out of reach of any node_modules
      const isolated = fs.mkdtempSync(path.join(os.tmpdir(), 'shardflow-asset-'));
      try {
        for (const file of fs.readdirSync(dir)) {
          fs.copyFileSync(path.join(dir, file), path.join(isolated, file));
        }
        // WHEN: loaded as Lambda loads it (init), with the function's NODE_OPTIONS
        const result = spawnSync(process.execPath, ['-e', "require('./index.js')"], {
          cwd: isolated,
          encoding: 'utf8',
          env: { PATH: process.env.PATH ?? '', AWS_REGION: 'eu-west-1', NODE_OPTIONS: nodeOptions },
        });
        // THEN
        expect({ status: result.status, stderr: result.stderr }).toMatchObject({ status: 0 });
      } finally {
        fs.rmSync(isolated, { recursive: true, force: true });
      }
    }
  });

  it('maps each input stream with the event source defaults and an on-failure queue', () => {
    // THEN
    for (const stream of ['^NumbersStream', '^ClicksStream']) {
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp(stream), 'Arn'] },
        StartingPosition: 'TRIM_HORIZON',
        BatchSize: 500,
        MaximumBatchingWindowInSeconds: 0,
        BisectBatchOnFunctionError: true,
        MaximumRetryAttempts: 10,
        MaximumRecordAgeInSeconds: 86_400,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        ParallelizationFactor: 1,
        DestinationConfig: {
          OnFailure: {
            Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('FailureQueue'), 'Arn'] },
          },
        },
      });
    }
  });

  it('encrypts the on-failure queues, denies non-TLS access and keeps messages 14 days', () => {
    // THEN
    template.allResourcesProperties('AWS::SQS::Queue', {
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 1_209_600,
    });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 'sqs:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  it('creates one state table as functions/state lays it out: on-demand, TTL, PITR, KMS, gsi1', () => {
    // THEN
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
      GlobalSecondaryIndexes: [Match.objectLike({ IndexName: 'gsi1' })],
    });
  });

  it('runs one sweeper every minute over the windowed pipelines', () => {
    // THEN
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      State: 'ENABLED',
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^SweeperHandler'), 'Arn'] },
          RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 },
        }),
      ],
    });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'events.amazonaws.com',
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Environment: {
        Variables: Match.objectLike({
          SHARDFLOW_STATE_TABLE: { Ref: Match.stringLikeRegexp('^StateTable') },
          OUTPUT_STREAM_PAGE_VIEW_COUNTS: { Ref: Match.stringLikeRegexp('^PageViewCountsStream') },
          POWERTOOLS_SERVICE_NAME: 'shardflow-sweeper',
        }),
      },
    });
  });

  it('grants only the actions the handlers call, on the resources they use, without wildcards', () => {
    // THEN
    const statements = policyStatements();
    const actions = statements.flatMap(actionsOf);
    expect(actions.filter((action) => action.includes('*'))).toEqual([]);
    expect(actions).toEqual(expect.arrayContaining(['kinesis:PutRecords', 'kinesis:GetRecords']));
    const dynamodb = statements.filter((statement) =>
      actionsOf(statement).some((action) => action.startsWith('dynamodb:')),
    );
    const windowed = [...stack.pipelines.values()].filter((pipeline) => pipeline.windowed);
    expect(dynamodb.length).toBeGreaterThanOrEqual(windowed.length + 1); // handlers and sweeper
    for (const statement of dynamodb) {
      expect(STATE_ACTIONS).toEqual(expect.arrayContaining(actionsOf(statement)));
      expect(statement.Resource).toEqual([
        { 'Fn::GetAtt': [expect.stringMatching(/^StateTable/), 'Arn'] },
        {
          'Fn::Join': [
            '',
            [{ 'Fn::GetAtt': [expect.stringMatching(/^StateTable/), 'Arn'] }, '/index/gsi1'],
          ],
        },
      ]);
    }
    // page-views (tumbling) puts lane packs but may not Delete: only session windows delete items.
    const pageViewsPolicy = Object.entries(template.findResources('AWS::IAM::Policy')).find(
      ([id]) => id.startsWith('PageViewsRole'),
    );
    const pageViewsActions = JSON.stringify(pageViewsPolicy);
    expect(pageViewsActions).toContain('dynamodb:UpdateItem');
    expect(pageViewsActions).toContain('dynamodb:PutItem');
    expect(pageViewsActions).not.toContain('dynamodb:DeleteItem');
    // Resource '*' only for X-Ray, which has no resource-level permissions.
    for (const statement of statements.filter((s) => s.Resource === '*')) {
      expect(actionsOf(statement).every((action) => action.startsWith('xray:'))).toBe(true);
    }
    // No AWS managed policy (AWSLambdaBasicExecutionRole would grant logs on every group).
    for (const role of Object.values(template.findResources('AWS::IAM::Role'))) {
      expect(
        (role as { Properties: { ManagedPolicyArns?: unknown } }).Properties.ManagedPolicyArns,
      ).toBeUndefined();
    }
  });

  it('alarms on iterator age, errors, throttles, failure queue depth and PutRecords retries', () => {
    // THEN
    for (const pipeline of ['enrich', 'page-views']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: `shardflow-test-${pipeline}-iterator-age`,
        MetricName: 'IteratorAge',
        Namespace: 'AWS/Lambda',
        Statistic: 'Maximum',
        Threshold: 60_000,
        EvaluationPeriods: 5,
      });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: `shardflow-test-${pipeline}-errors`,
        MetricName: 'Errors',
        Threshold: 1,
      });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: `shardflow-test-${pipeline}-throttles`,
        MetricName: 'Throttles',
      });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: `shardflow-test-${pipeline}-failure-queue-depth`,
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Namespace: 'AWS/SQS',
      });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: `shardflow-test-${pipeline}-put-records-retries`,
        MetricName: 'PutRecordsRetries',
        Namespace: 'shardflow',
        Dimensions: [{ Name: 'service', Value: pipeline }],
        EvaluationPeriods: 3,
      });
    }
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: Match.stringLikeRegexp('^Sweeper') } }],
      EvaluationPeriods: 2,
    });
  });

  it('shows every pipeline metric on one dashboard', () => {
    // THEN
    const dashboards = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
    expect(dashboards).toHaveLength(1);
    const body = JSON.stringify(dashboards[0]);
    for (const metric of [
      'RecordsIn',
      'RecordsOut',
      'InvalidRecords',
      'LateRecords',
      'WindowsClosed',
      'DynamoDbWrites',
      'PutRecordsRetries',
      'IteratorAge',
      'Errors',
      'Throttles',
      'ApproximateNumberOfMessagesVisible',
    ]) {
      expect(body).toContain(`\\"${metric}\\"`);
    }
    template.hasOutput('DashboardUrl', {});
  });

  it('retains streams and state by default', () => {
    // THEN
    template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Retain' });
    template.allResources('AWS::Kinesis::Stream', { DeletionPolicy: 'Retain' });
  });

  it('passes the cdk-nag AwsSolutions and Serverless packs with every finding acknowledged', () => {
    // WHEN
    const reports = [new AwsSolutionsChecks(app), new ServerlessChecks(app)].map((pack) =>
      pack.validateScope(stack),
    );
    // THEN: no errors and no warnings left; the acknowledgments (with reasons) are in infra/
    const findings = reports.flatMap((report) =>
      report.violations.map((violation) => `${violation.ruleName} (${violation.severity})`),
    );
    expect(findings).toEqual([]);
  });
});
