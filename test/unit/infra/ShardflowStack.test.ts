import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { ShardflowStack } from '#infra/ShardflowStack';

describe('ShardflowStack', () => {
  let template: Template;

  beforeAll(() => {
    // GIVEN
    const app = new App();
    // WHEN
    const stack = new ShardflowStack(app, 'shardflow-test', { shardCounts: { numbers: 3 } });
    template = Template.fromStack(stack);
  });

  it('creates the enrich input and output streams, encrypted, with their logical names', () => {
    // THEN
    template.resourceCountIs('AWS::Kinesis::Stream', 2);
    template.hasResource('AWS::Kinesis::Stream', {
      Properties: {
        ShardCount: 3,
        StreamEncryption: { EncryptionType: 'KMS', KeyId: 'alias/aws/kinesis' },
      },
      Metadata: { 'shardflow:name': 'numbers' },
    });
    template.hasResource('AWS::Kinesis::Stream', {
      Properties: { ShardCount: 2 },
      Metadata: { 'shardflow:name': 'numbers-doubled' },
    });
  });

  it('names every stream in a stack output so the CLI can resolve logical names on AWS', () => {
    // THEN
    template.hasOutput('NumbersStreamName', { Description: 'shardflow:name=numbers' });
    template.hasOutput('NumbersDoubledStreamName', {
      Description: 'shardflow:name=numbers-doubled',
    });
  });

  it('runs the enrich handler on nodejs22.x arm64 with the output stream in its environment', () => {
    // THEN
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      Environment: {
        Variables: Match.objectLike({
          OUTPUT_STREAM_NUMBERS_DOUBLED: { Ref: Match.stringLikeRegexp('^NumbersDoubledStream') },
          POWERTOOLS_SERVICE_NAME: 'enrich',
        }),
      },
    });
  });

  it('maps the input stream with the event source defaults', () => {
    // THEN
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: 500,
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 10,
      MaximumRecordAgeInSeconds: 86_400,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ParallelizationFactor: 1,
      DestinationConfig: { OnFailure: { Destination: Match.anyValue() } },
    });
  });

  it('encrypts the on-failure queue and grants the function write access to the output stream only', () => {
    // THEN
    template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true });
    const policies = template.findResources('AWS::IAM::Policy');
    const statements = Object.values(policies).flatMap(
      (policy) =>
        (policy as { Properties: { PolicyDocument: { Statement: unknown[] } } }).Properties
          .PolicyDocument.Statement,
    );
    const actions = statements.flatMap((statement) => {
      const action = (statement as { Action: string | string[] }).Action;
      return Array.isArray(action) ? action : [action];
    });
    expect(actions).toEqual(expect.arrayContaining(['kinesis:PutRecord', 'kinesis:PutRecords']));
    expect(actions.filter((action) => action.endsWith('*') && !action.startsWith('kms:'))).toEqual(
      [],
    );
  });
});
