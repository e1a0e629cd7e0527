// biome-ignore-all lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub syntax
import { IntrinsicResolutionError } from '#local/assembly/errors';
import { TemplateResolver } from '#local/assembly/TemplateResolver';
import type { CfnTemplate } from '#local/assembly/types';

const ACCOUNT = { region: 'eu-west-1', accountId: '000000000000' };

function resolverFor(template: CfnTemplate, stackName = 'App') {
  return new TemplateResolver(
    { artifactId: stackName, stackName, templateFile: 'x.json', template },
    ACCOUNT,
    (name) => (name === 'Other-Export' ? 'imported-value' : undefined),
  );
}

const TEMPLATE: CfnTemplate = {
  Parameters: { Env: { Type: 'String', Default: 'dev' }, NoDefault: { Type: 'String' } },
  Conditions: {
    IsProd: { 'Fn::Equals': [{ Ref: 'Env' }, 'prod'] },
    IsNotProd: { 'Fn::Not': [{ Condition: 'IsProd' }] },
    Both: { 'Fn::And': [{ Condition: 'IsNotProd' }, { 'Fn::Equals': ['a', 'a'] }] },
  },
  Mappings: { Sizes: { dev: { shards: 1 } } },
  Resources: {
    Input: { Type: 'AWS::Kinesis::Stream', Properties: { ShardCount: 1 } },
    Named: {
      Type: 'AWS::Kinesis::Stream',
      Properties: { Name: { 'Fn::Sub': '${AWS::StackName}-named' } },
    },
    Table: { Type: 'AWS::DynamoDB::Table', Properties: { TableName: 'my-table' } },
    Fn: { Type: 'AWS::Lambda::Function', Properties: {} },
    Queue: { Type: 'AWS::SQS::Queue', Properties: {} },
    Topic: { Type: 'AWS::SNS::Topic', Properties: {} },
    Bucket: { Type: 'AWS::S3::Bucket', Properties: {} },
    Role: { Type: 'AWS::IAM::Role', Properties: {} },
    Loop: { Type: 'AWS::Kinesis::Stream', Properties: { Name: { Ref: 'Loop' } } },
    ProdOnly: { Type: 'AWS::Kinesis::Stream', Condition: 'IsProd', Properties: {} },
  },
};

describe('TemplateResolver', () => {
  const resolver = resolverFor(TEMPLATE);

  it('names resources without an explicit name ${stackName}-${logicalId}, deterministically', () => {
    // WHEN / THEN
    expect(resolver.resolve({ Ref: 'Input' })).toBe('App-Input');
    expect(resolverFor(TEMPLATE).resolve({ Ref: 'Input' })).toBe('App-Input');
  });

  it('uses the explicit name property, itself resolved', () => {
    // WHEN / THEN
    expect(resolver.resolve({ Ref: 'Named' })).toBe('App-named');
    expect(resolver.resolve({ Ref: 'Table' })).toBe('my-table');
  });

  it.each([
    [['Input', 'Arn'], 'arn:aws:kinesis:eu-west-1:000000000000:stream/App-Input'],
    [['Table', 'Arn'], 'arn:aws:dynamodb:eu-west-1:000000000000:table/my-table'],
    [
      ['Table', 'StreamArn'],
      'arn:aws:dynamodb:eu-west-1:000000000000:table/my-table/stream/1970-01-01T00:00:00.000',
    ],
    [['Fn', 'Arn'], 'arn:aws:lambda:eu-west-1:000000000000:function:App-Fn'],
    [['Queue', 'Arn'], 'arn:aws:sqs:eu-west-1:000000000000:App-Queue'],
    [['Queue', 'QueueName'], 'App-Queue'],
    [['Topic', 'TopicName'], 'App-Topic'],
    [['Bucket', 'Arn'], 'arn:aws:s3:::app-bucket'],
    [['Role', 'Arn'], 'arn:aws:iam::000000000000:role/App-Role'],
  ])('resolves Fn::GetAtt %j', (argument, expected) => {
    // WHEN / THEN
    expect(resolver.resolve({ 'Fn::GetAtt': argument })).toBe(expected);
  });

  it('accepts the string form of Fn::GetAtt', () => {
    expect(resolver.resolve({ 'Fn::GetAtt': 'Input.Arn' })).toBe(
      'arn:aws:kinesis:eu-west-1:000000000000:stream/App-Input',
    );
  });

  it('resolves Ref of a queue to its URL and of a topic to its ARN, as CloudFormation does', () => {
    expect(resolver.resolve({ Ref: 'Queue' })).toBe(
      'https://sqs.eu-west-1.amazonaws.com/000000000000/App-Queue',
    );
    expect(resolver.resolve({ Ref: 'Topic' })).toBe('arn:aws:sns:eu-west-1:000000000000:App-Topic');
  });

  it('resolves pseudo parameters and parameter defaults', () => {
    expect(
      resolver.resolve({
        'Fn::Join': [
          '|',
          [
            { Ref: 'AWS::Region' },
            { Ref: 'AWS::AccountId' },
            { Ref: 'AWS::Partition' },
            { Ref: 'AWS::URLSuffix' },
            { Ref: 'AWS::StackName' },
            { Ref: 'Env' },
          ],
        ],
      }),
    ).toBe('eu-west-1|000000000000|aws|amazonaws.com|App|dev');
  });

  it('resolves both forms of Fn::Sub, attributes and escaped literals', () => {
    expect(
      resolver.resolve({ 'Fn::Sub': '${AWS::Region}:${Input}:${Input.Arn}:${!Literal}' }),
    ).toBe(
      'eu-west-1:App-Input:arn:aws:kinesis:eu-west-1:000000000000:stream/App-Input:${Literal}',
    );
    expect(resolver.resolve({ 'Fn::Sub': ['${A}-${B}', { A: { Ref: 'Table' }, B: 'x' }] })).toBe(
      'my-table-x',
    );
  });

  it('resolves Fn::Select over Fn::Split and Fn::FindInMap', () => {
    expect(resolver.resolve({ 'Fn::Select': [2, { 'Fn::Split': ['/', 'a/b/c'] }] })).toBe('c');
    expect(resolver.resolve({ 'Fn::FindInMap': ['Sizes', { Ref: 'Env' }, 'shards'] })).toBe(1);
  });

  it('evaluates conditions and drops AWS::NoValue', () => {
    // WHEN
    const resolved = resolver.resolve({
      mode: { 'Fn::If': ['IsProd', 'prod', 'dev'] },
      both: { 'Fn::If': ['Both', 'yes', 'no'] },
      gone: { 'Fn::If': ['IsProd', 'x', { Ref: 'AWS::NoValue' }] },
      list: ['a', { 'Fn::If': ['IsProd', 'b', { Ref: 'AWS::NoValue' }] }],
    });

    // THEN
    expect(resolved).toEqual({ mode: 'dev', both: 'yes', list: ['a'] });
    expect(resolver.isActive('ProdOnly')).toBe(false);
    expect(resolver.isActive('Input')).toBe(true);
  });

  it('resolves Fn::ImportValue through the lookup', () => {
    expect(resolver.resolve({ 'Fn::ImportValue': 'Other-Export' })).toBe('imported-value');
  });

  it('fails on an unknown resource, naming the stack and the expression', () => {
    expect(() => resolver.resolve({ Ref: 'Nope' })).toThrow(IntrinsicResolutionError);
    expect(() => resolver.resolve({ Ref: 'Nope' })).toThrow('in stack App: {"Ref":"Nope"}');
  });

  it('fails on a circular name reference', () => {
    expect(() => resolver.resolve({ Ref: 'Loop' })).toThrow(/circular reference/);
  });

  it('fails on an attribute that is not modelled and on a parameter without a default', () => {
    expect(() => resolver.resolve({ 'Fn::GetAtt': ['Input', 'Whatever'] })).toThrow(
      /attribute Whatever is not modelled locally/,
    );
    expect(() => resolver.resolve({ Ref: 'NoDefault' })).toThrow(/no Default/);
  });

  it('fails on an unsupported intrinsic', () => {
    expect(() => resolver.resolve({ 'Fn::Transform': {} })).toThrow(
      /Fn::Transform is not supported/,
    );
  });
});
