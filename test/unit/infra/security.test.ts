import * as path from 'node:path';
import { App, type CfnElement, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { discoverPipelines } from '#infra/discoverPipelines';
import { ShardflowStack } from '#infra/ShardflowStack';

// What docs/security.md claims about the synthesized template, beyond what ShardflowStack.test.ts
// already asserts (no wildcard action in the default stack, DynamoDB scoping, `*` only for X-Ray,
// no managed policies, KMS on streams, SSE on queues and the table).

type Json = Record<string, unknown>;
interface Statement {
  readonly Effect: string;
  readonly Action?: string | string[];
  readonly NotAction?: unknown;
  readonly Resource?: unknown;
  readonly NotResource?: unknown;
  readonly Principal?: unknown;
  readonly Condition?: unknown;
}

/** Window kind of each windowed pipeline the stack deploys: session pipelines also Put and Delete. */
const windowKinds = new Map(
  discoverPipelines(path.resolve(__dirname, '../../..')).pipelines.flatMap(({ definition }) =>
    definition.config.kind === 'windowed'
      ? [[definition.config.name, definition.config.window.kind] as const]
      : [],
  ),
);

const asList = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

const LOGS = ['logs:CreateLogStream', 'logs:PutLogEvents'];
const XRAY = ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'];
/** The event source mapping sends a discarded batch's metadata, with the function's role. */
const ON_FAILURE_QUEUE = ['sqs:SendMessage'];
/**
 * What the event source mapping (running as the function's role) and the windowed handler's tail
 * probe need on the input stream: the list in Lambda's documentation for a Kinesis mapping.
 */
const STREAM_READ = [
  'kinesis:DescribeStream',
  'kinesis:DescribeStreamSummary',
  'kinesis:ListShards',
  'kinesis:GetShardIterator',
  'kinesis:GetRecords',
  'kinesis:SubscribeToShard',
];
/** What the sweeper's tail probe needs on a windowed pipeline's input stream. */
const SWEEPER_TAIL_PROBE = ['kinesis:GetRecords', 'kinesis:GetShardIterator', 'kinesis:ListShards'];
/** `KinesisSink` calls nothing but `PutRecords`. */
const STREAM_WRITE = ['kinesis:PutRecords'];
const STATE = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:UpdateItem',
];
const SESSION_STATE = [...STATE, 'dynamodb:PutItem', 'dynamodb:DeleteItem'];
/** Tumbling and hopping handlers put lane packs (`Put` in TransactWriteItems); the sweeper does not. */
const SLICED_STATE = [...STATE, 'dynamodb:PutItem'];

/**
 * The resource a statement names, as `<logical id>` or `<logical id>/index/gsi1`, `*`, or
 * `undefined` when it is neither a reference to a resource of the template nor `*`.
 */
function resourceName(resource: unknown): string | undefined {
  if (resource === '*') return '*';
  if (typeof resource !== 'object' || resource === null) return undefined;
  const r = resource as Json;
  if (typeof r.Ref === 'string') return r.Ref;
  const getAtt = r['Fn::GetAtt'];
  if (Array.isArray(getAtt) && getAtt[1] === 'Arn') return String(getAtt[0]);
  const join = r['Fn::Join'];
  if (Array.isArray(join) && join[0] === '') {
    const parts = join[1] as unknown[];
    const head = resourceName(parts[0]);
    const tail = parts.slice(1);
    if (head !== undefined && head !== '*' && tail.every((p) => typeof p === 'string')) {
      const suffix = tail.join('');
      return suffix.includes('*') ? undefined : `${head}${suffix}`;
    }
  }
  if (r['Fn::ImportValue'] !== undefined) return `import:${JSON.stringify(r['Fn::ImportValue'])}`;
  return undefined;
}

/**
 * The service a `kms:` statement is limited to (`kinesis` for `kms:ViaService` =
 * `kinesis.<region>.amazonaws.com`), or `unconditioned:<condition>` when it is not exactly that.
 */
function viaService(condition: unknown): string {
  type Via = { StringEquals?: { 'kms:ViaService'?: { 'Fn::Join'?: [string, unknown[]] } } };
  const first = (condition as Via | undefined)?.StringEquals?.['kms:ViaService']?.[
    'Fn::Join'
  ]?.[1][0];
  const service = String(first).replace(/\.$/, '');
  const regional = {
    StringEquals: {
      'kms:ViaService': {
        'Fn::Join': ['', [`${service}.`, { Ref: 'AWS::Region' }, '.amazonaws.com']],
      },
    },
  };
  return JSON.stringify(condition) === JSON.stringify(regional)
    ? service
    : `unconditioned:${JSON.stringify(condition)}`;
}

/** Every statement of the identity policies attached to the role with this logical id. */
function statementsOfRole(template: Template, roleId: string): Statement[] {
  const role = template.findResources('AWS::IAM::Role')[roleId] as { Properties: Json };
  const inline = asList(role.Properties.Policies as Json[] | undefined).flatMap(
    (p) => (p.PolicyDocument as { Statement: Statement[] }).Statement,
  );
  const attached = Object.values(template.findResources('AWS::IAM::Policy'))
    .map((p) => (p as { Properties: Json }).Properties)
    .filter((p) => asList(p.Roles as unknown[]).some((r) => (r as Json).Ref === roleId))
    .flatMap((p) => (p.PolicyDocument as { Statement: Statement[] }).Statement);
  return [...inline, ...attached];
}

/**
 * The partitions a statement is limited to, as ` if <pattern>,<pattern>` (its only condition must be
 * `ForAllValues:StringLike` on `dynamodb:LeadingKeys`), or '' for a statement without a condition.
 */
function leadingKeysOf(statement: Statement): string {
  if (statement.Condition === undefined) return '';
  type LeadingKeys = { 'ForAllValues:StringLike'?: { 'dynamodb:LeadingKeys'?: string[] } };
  const patterns = (statement.Condition as LeadingKeys)['ForAllValues:StringLike']?.[
    'dynamodb:LeadingKeys'
  ];
  expect(statement.Condition).toEqual({
    'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': patterns },
  });
  expect(asList(statement.Action).every((action) => action.startsWith('dynamodb:'))).toBe(true);
  return ` if ${asList(patterns).join(',')}`;
}

/**
 * A role's grants as `resource[ if <LeadingKeys patterns>] → sorted actions`, failing on anything but an
 * Allow whose only possible condition is a `dynamodb:LeadingKeys` one.
 */
function grantsOfRole(template: Template, roleId: string): Record<string, string[]> {
  const grants: Record<string, Set<string>> = {};
  for (const statement of statementsOfRole(template, roleId)) {
    expect(statement).toMatchObject({ Effect: 'Allow' });
    expect(statement.NotAction).toBeUndefined();
    expect(statement.NotResource).toBeUndefined();
    const partitions = leadingKeysOf(statement);
    for (const resource of asList(statement.Resource)) {
      const name = `${resourceName(resource) ?? `unscoped:${JSON.stringify(resource)}`}${partitions}`;
      grants[name] ??= new Set();
      for (const action of asList(statement.Action)) grants[name].add(action);
    }
  }
  return Object.fromEntries(
    Object.entries(grants).map(([name, actions]) => [name, [...actions].sort()]),
  );
}

function logicalId(construct: IConstruct): string {
  const child = construct.node.defaultChild ?? construct;
  return Stack.of(construct).getLogicalId(child as CfnElement);
}

/** What a role must be granted, built resource by resource (`suffix`: `/index/gsi1`, ` if <patterns>`). */
function expectedGrants(): {
  add(construct: IConstruct | string, actions: readonly string[], suffix?: string): void;
  done(): Record<string, string[]>;
} {
  const grants: Record<string, Set<string>> = {};
  return {
    add(construct, actions, suffix = '') {
      const name = typeof construct === 'string' ? construct : `${logicalId(construct)}${suffix}`;
      grants[name] ??= new Set();
      for (const action of actions) grants[name].add(action);
    },
    done: () =>
      Object.fromEntries(
        Object.entries(grants).map(([name, actions]) => [name, [...actions].sort()]),
      ),
  };
}

describe('security of the synthesized ShardflowStack (AWS managed keys)', () => {
  let stack: ShardflowStack;
  let template: Template;

  beforeAll(() => {
    // GIVEN every pipeline of functions/pipelines/ in one stack, as `npm run synth` builds it
    stack = new ShardflowStack(new App(), 'shardflow-security');
    template = Template.fromStack(stack);
  });

  it('grants each pipeline role exactly its own log group, queue, input, outputs, failure stream and state', () => {
    // GIVEN
    const pipelines = [...stack.pipelines.values()];
    expect(pipelines.map((p) => p.pipelineName)).toEqual(
      expect.arrayContaining(['enrich', 'page-views', 'sessions', 'trending', 'error-rate']),
    );
    for (const pipeline of pipelines) {
      const expected = expectedGrants();
      expected.add(pipeline.node.findChild('Logs'), LOGS);
      expected.add('*', XRAY);
      expected.add(pipeline.failureQueue, ON_FAILURE_QUEUE);
      expected.add(pipeline.inputStream, STREAM_READ);
      for (const stream of [...Object.values(pipeline.outputStreams), pipeline.failureStream]) {
        expected.add(stream, STREAM_WRITE);
      }
      if (pipeline.stateTable) {
        const actions =
          windowKinds.get(pipeline.pipelineName) === 'session' ? SESSION_STATE : SLICED_STATE;
        // its own partitions only, in the table and in gsi1: `<pipeline>#*`
        const own = ` if ${pipeline.pipelineName}#*`;
        expected.add(pipeline.stateTable, actions, own);
        expected.add(pipeline.stateTable, actions, `/index/gsi1${own}`);
      }
      // WHEN
      const granted = grantsOfRole(template, logicalId(pipeline.handler.role as iam.IRole));
      // THEN: nothing else, nothing broader: another pipeline's streams and state are out of reach
      expect({ pipeline: pipeline.pipelineName, granted }).toEqual({
        pipeline: pipeline.pipelineName,
        granted: expected.done(),
      });
    }
  });

  it('grants the sweeper its log group, the state table and the windowed pipelines’ outputs only', () => {
    // GIVEN
    const windowed = [...stack.pipelines.values()].filter((p) => p.windowed);
    const sweeper = windowed[0]?.sweeper;
    expect(sweeper).toBeDefined();
    if (sweeper === undefined) return;
    const expected = expectedGrants();
    expected.add(sweeper.node.findChild('Logs'), LOGS);
    expected.add('*', XRAY);
    // the state of every windowed pipeline (the union of their partitions), whole-item writes only in
    // the session pipelines' partitions
    const all = ` if ${windowed.map((p) => `${p.pipelineName}#*`).join(',')}`;
    const sessions = ` if ${windowed
      .filter((p) => windowKinds.get(p.pipelineName) === 'session')
      .map((p) => `${p.pipelineName}#*`)
      .join(',')}`;
    expect(sessions).toBe(' if sessions#*');
    expected.add(sweeper.stateTable, STATE, all);
    expected.add(sweeper.stateTable, STATE, `/index/gsi1${all}`);
    expected.add(sweeper.stateTable, SESSION_STATE.slice(STATE.length), sessions);
    expected.add(sweeper.stateTable, SESSION_STATE.slice(STATE.length), `/index/gsi1${sessions}`);
    for (const pipeline of windowed) {
      for (const stream of Object.values(pipeline.outputStreams)) {
        expected.add(stream, STREAM_WRITE);
      }
      // the tail probe: is a silent shard caught up before it stops holding the watermark back?
      expected.add(pipeline.inputStream, SWEEPER_TAIL_PROBE);
    }
    // WHEN
    const granted = grantsOfRole(template, logicalId(sweeper.handler.role as iam.IRole));
    // THEN: no failure stream, no queue, no stateless pipeline's stream
    expect(granted).toEqual(expected.done());
  });

  it('names a resource of this template in every statement except X-Ray’s, never a pattern', () => {
    // GIVEN
    const resources = new Set(Object.keys(template.toJSON().Resources as Json));
    const policies = Object.values(template.findResources('AWS::IAM::Policy'));
    expect(policies.length).toBe(stack.pipelines.size + 1);
    // WHEN
    const statements = policies.flatMap(
      (p) =>
        (p as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties
          .PolicyDocument.Statement,
    );
    // THEN
    for (const statement of statements) {
      const actions = asList(statement.Action);
      for (const resource of asList(statement.Resource)) {
        const name = resourceName(resource);
        if (name === '*') {
          expect(actions).toEqual(XRAY);
          continue;
        }
        expect({ resource, name }).toEqual({ resource, name: expect.any(String) });
        expect(resources.has(String(name).replace('/index/gsi1', ''))).toBe(true);
      }
    }
  });

  it('limits every DynamoDB statement to pipeline partitions, and grants no action that names no key', () => {
    // GIVEN
    const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
      (p) =>
        (p as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties
          .PolicyDocument.Statement,
    );
    const dynamodb = statements.filter((s) =>
      asList(s.Action).some((action) => action.startsWith('dynamodb:')),
    );
    // THEN: one per windowed handler, two of the sweeper (table and gsi1 in each), each with
    // `<pipeline>#*` patterns of deployed windowed pipelines only (ForAllValues passes a request
    // naming no key: Scan and PartiQL must stay out)
    expect(dynamodb.length).toBe(windowKinds.size + 2);
    for (const statement of dynamodb) {
      const patterns = leadingKeysOf(statement).replace(' if ', '').split(',');
      expect(patterns.length).toBeGreaterThan(0);
      for (const pattern of patterns) {
        expect(pattern).toMatch(/^[a-z0-9][a-z0-9-]*#\*$/);
        expect(windowKinds.has(pattern.slice(0, -2))).toBe(true);
      }
      expect([...STATE, ...SESSION_STATE]).toEqual(
        expect.arrayContaining(asList(statement.Action)),
      );
    }
  });

  it('denies the failure streams’ records to every principal of the account, and keeps them 7 days', () => {
    // GIVEN
    const policies = Object.values(template.findResources('AWS::Kinesis::ResourcePolicy')).map(
      (p) =>
        (p as { Properties: { ResourceArn: unknown; ResourcePolicy: { Statement: Statement[] } } })
          .Properties,
    );
    for (const pipeline of stack.pipelines.values()) {
      const failureStream = logicalId(pipeline.failureStream);
      // WHEN
      const own = policies.filter((p) => resourceName(p.ResourceArn) === failureStream);
      // THEN: one Deny of the record reads, no reader exempted in the default app, nothing allowed
      expect(own.map((p) => p.ResourcePolicy.Statement)).toEqual([
        [
          {
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
            Resource: { 'Fn::GetAtt': [failureStream, 'Arn'] },
          },
        ],
      ]);
      template.hasResource('AWS::Kinesis::Stream', {
        Properties: { RetentionPeriodHours: 168 },
        Metadata: { 'shardflow:name': `${pipeline.pipelineName}-failures` },
      });
    }
    expect(policies).toHaveLength(stack.pipelines.size); // input and output streams have none
  });

  it('lets only the Lambda service assume the function roles', () => {
    // THEN
    const roles = Object.values(template.findResources('AWS::IAM::Role'));
    expect(roles).toHaveLength(stack.pipelines.size + 1);
    for (const role of roles) {
      expect((role as { Properties: Json }).Properties.AssumeRolePolicyDocument).toEqual({
        Version: '2012-10-17',
        Statement: [
          {
            Action: 'sts:AssumeRole',
            Effect: 'Allow',
            Principal: { Service: 'lambda.amazonaws.com' },
          },
        ],
      });
    }
  });

  it('lets nothing but the sweeper schedule invoke a function, and opens no resource policy', () => {
    // THEN: no function URL, no table resource policy, and the only stream resource policies are the
    // failure streams' (which deny, below): writers need IAM in this account
    template.resourceCountIs('AWS::Lambda::Url', 0);
    template.resourceCountIs('AWS::Kinesis::ResourcePolicy', stack.pipelines.size);
    for (const policy of Object.values(template.findResources('AWS::Kinesis::ResourcePolicy'))) {
      const statements = (policy as { Properties: { ResourcePolicy: { Statement: Statement[] } } })
        .Properties.ResourcePolicy.Statement;
      expect(statements.map((statement) => statement.Effect)).toEqual(['Deny']);
    }
    template.resourceCountIs('AWS::DynamoDB::ResourcePolicy', 0);
    const permissions = Object.values(template.findResources('AWS::Lambda::Permission'));
    expect(permissions).toEqual([
      {
        Type: 'AWS::Lambda::Permission',
        Properties: {
          Action: 'lambda:InvokeFunction',
          FunctionName: { 'Fn::GetAtt': [expect.stringMatching(/^SweeperHandler/), 'Arn'] },
          Principal: 'events.amazonaws.com',
          SourceArn: { 'Fn::GetAtt': [expect.stringMatching(/^SweeperSchedule/), 'Arn'] },
        },
      },
    ]);
  });

  it('attaches to every on-failure queue a policy that only denies non-TLS access to it', () => {
    // GIVEN
    const queues = Object.keys(template.findResources('AWS::SQS::Queue'));
    expect(queues).toHaveLength(stack.pipelines.size);
    const policies = Object.values(template.findResources('AWS::SQS::QueuePolicy')).map(
      (p) => (p as { Properties: Json }).Properties,
    );
    // THEN
    for (const queue of queues) {
      const own = policies.filter((p) =>
        asList(p.Queues as unknown[]).some((q) => (q as Json).Ref === queue),
      );
      expect(own).toHaveLength(1);
      expect(
        (own[0] as { PolicyDocument: { Statement: unknown } }).PolicyDocument.Statement,
      ).toEqual([
        {
          Action: 'sqs:*',
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          Effect: 'Deny',
          Principal: { AWS: '*' },
          Resource: { 'Fn::GetAtt': [queue, 'Arn'] },
        },
      ]);
    }
  });

  it('runs every function at log level INFO without event logging, so no payload reaches the logs', () => {
    // THEN: debug lines (batch details) and Powertools' whole-event logging stay off
    const functions = Object.values(template.findResources('AWS::Lambda::Function'));
    expect(functions).toHaveLength(stack.pipelines.size + 1);
    for (const fn of functions) {
      const variables = (fn as { Properties: { Environment: { Variables: Json } } }).Properties
        .Environment.Variables;
      expect(variables.POWERTOOLS_LOG_LEVEL).toBe('INFO');
      expect(variables.POWERTOOLS_LOGGER_LOG_EVENT).toBeUndefined();
      expect(variables.POWERTOOLS_DEV).toBeUndefined();
    }
  });
});

describe('security of the synthesized ShardflowStack (customer managed key)', () => {
  let app: App;
  let stack: ShardflowStack;
  let template: Template;
  let keyArn: string;

  beforeAll(() => {
    // GIVEN the stack with a customer key from another stack
    app = new App();
    const keys = new Stack(app, 'shardflow-keys');
    const key = new kms.Key(keys, 'Key', { enableKeyRotation: true });
    stack = new ShardflowStack(app, 'shardflow-security-cmk', { encryptionKey: key });
    template = Template.fromStack(stack);
    keyArn = JSON.stringify(stack.resolve(key.keyArn));
  });

  it('encrypts every stream, queue and the state table with the key', () => {
    // THEN
    const streams = Object.values(template.findResources('AWS::Kinesis::Stream'));
    expect(streams.length).toBeGreaterThan(0);
    for (const stream of streams) {
      const encryption = (stream as { Properties: Json }).Properties.StreamEncryption as Json;
      expect(encryption.EncryptionType).toBe('KMS');
      expect(JSON.stringify(encryption.KeyId)).toBe(keyArn);
    }
    const queues = Object.values(template.findResources('AWS::SQS::Queue'));
    expect(queues.length).toBeGreaterThan(0);
    for (const queue of queues) {
      expect(JSON.stringify((queue as { Properties: Json }).Properties.KmsMasterKeyId)).toBe(
        keyArn,
      );
    }
    const tables = Object.values(template.findResources('AWS::DynamoDB::Table'));
    expect(tables).toHaveLength(1);
    const sse = (tables[0] as { Properties: Json }).Properties.SSESpecification as Json;
    expect(sse).toMatchObject({ SSEEnabled: true, SSEType: 'KMS' });
    expect(JSON.stringify(sse.KMSMasterKeyId)).toBe(keyArn);
  });

  it('grants no wildcard action with a customer key, and `*` as a resource only to X-Ray', () => {
    // GIVEN
    const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
      (p) =>
        (p as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties
          .PolicyDocument.Statement,
    );
    // WHEN
    const actions = statements.flatMap((s) => asList(s.Action));
    // THEN: docs/security.md F3 (`kms:ReEncrypt*`, `kms:GenerateDataKey*` from CDK's grant helpers) is gone
    expect(actions.filter((action) => action.includes('*'))).toEqual([]);
    for (const statement of statements.filter((s) => asList(s.Resource).includes('*'))) {
      expect(statement.Action).toEqual(XRAY);
    }
  });

  it('grants each role exactly the key actions its services call, only through those services', () => {
    // GIVEN: what each service calls on the key with the caller's credentials
    const consume = 'kinesis kms:Decrypt';
    const produce = 'kinesis kms:GenerateDataKey';
    const send = 'sqs kms:Decrypt,kms:GenerateDataKey';
    const state = 'dynamodb kms:Decrypt,kms:Encrypt,kms:GenerateDataKey';
    const keyGrantsOf = (role: iam.IRole) =>
      statementsOfRole(template, logicalId(role))
        .filter((s) => asList(s.Action).some((a) => a.startsWith('kms:')))
        .map((s) => `${viaService(s.Condition)} ${asList(s.Action).sort().join(',')}`)
        .sort();
    const pipelines = [...stack.pipelines.values()];
    const sweeper = pipelines.find((p) => p.sweeper)?.sweeper;
    expect(sweeper).toBeDefined();
    // WHEN
    const granted = Object.fromEntries([
      ...pipelines.map((p) => [p.pipelineName, keyGrantsOf(p.handler.role as iam.IRole)]),
      ['sweeper', keyGrantsOf(sweeper?.handler.role as iam.IRole)],
    ]);
    // THEN: readers decrypt, writers generate data keys, nobody re-encrypts or uses the key directly
    expect(granted).toEqual(
      Object.fromEntries([
        ...pipelines.map((p) => [
          p.pipelineName,
          (p.windowed ? [consume, produce, send, state] : [consume, produce, send]).sort(),
        ]),
        ['sweeper', [consume, produce, state].sort()],
      ]),
    );
  });

  it('grants KMS use on that key only', () => {
    // THEN
    const kmsStatements = Object.values(template.findResources('AWS::IAM::Policy'))
      .flatMap(
        (p) =>
          (p as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties
            .PolicyDocument.Statement,
      )
      .filter((s) => asList(s.Action).some((a) => a.startsWith('kms:')));
    expect(kmsStatements.length).toBeGreaterThan(0);
    for (const statement of kmsStatements) {
      expect(asList(statement.Resource).map((r) => JSON.stringify(r))).toEqual([keyArn]);
      expect(asList(statement.Action).every((a) => a.startsWith('kms:'))).toBe(true);
    }
  });

  it('passes the cdk-nag AwsSolutions and Serverless packs with the key, without an IAM5 acknowledgment', () => {
    // WHEN
    const reports = [new AwsSolutionsChecks(app), new ServerlessChecks(app)].map((pack) =>
      pack.validateScope(stack),
    );
    // THEN: no IAM5 finding for a wildcard KMS action, nothing else left either
    const findings = reports.flatMap((report) =>
      report.violations.map((violation) => `${violation.ruleName} (${violation.severity})`),
    );
    expect(findings).toEqual([]);
  });
});

describe('security of the synthesized ShardflowStack (failure stream readers and key)', () => {
  const ONCALL = 'arn:aws:iam::123456789012:role/oncall';
  let app: App;
  let stack: ShardflowStack;
  let template: Template;
  let failureKeyArn: string;

  beforeAll(() => {
    // GIVEN a failure-stream key from another stack, an on-call role, 2 days of retention (no bundling:
    // only the template matters here)
    app = new App({ context: { [cxapi.BUNDLING_STACKS]: [] } });
    const keys = new Stack(app, 'shardflow-keys');
    const key = new kms.Key(keys, 'FailureKey', { enableKeyRotation: true });
    stack = new ShardflowStack(app, 'shardflow-security-readers', {
      failureStreamEncryptionKey: key,
      failureStreamReaderRoleArns: [ONCALL],
      failureStreamRetention: Duration.days(2),
    });
    template = Template.fromStack(stack);
    failureKeyArn = JSON.stringify(stack.resolve(key.keyArn));
  });

  it('exempts the named role from the deny, and changes no policy of it', () => {
    // THEN
    const policies = Object.values(template.findResources('AWS::Kinesis::ResourcePolicy'));
    expect(policies).toHaveLength(stack.pipelines.size);
    for (const policy of policies) {
      const statements = (policy as { Properties: { ResourcePolicy: { Statement: Statement[] } } })
        .Properties.ResourcePolicy.Statement;
      expect(statements).toEqual([
        expect.objectContaining({
          Effect: 'Deny',
          Action: ['kinesis:GetShardIterator', 'kinesis:GetRecords'],
          Condition: { ArnNotEquals: { 'aws:PrincipalArn': [ONCALL] } },
        }),
      ]);
    }
    // imported immutable: the stack attaches nothing to the operator's role
    expect(JSON.stringify(template.findResources('AWS::IAM::Policy'))).not.toContain('oncall');
  });

  it('encrypts the failure streams alone with the failure key and keeps them 2 days', () => {
    // THEN
    for (const stream of Object.values(template.findResources('AWS::Kinesis::Stream'))) {
      const { Properties, Metadata } = stream as {
        Properties: { RetentionPeriodHours: number; StreamEncryption: { KeyId: unknown } };
        Metadata: Record<string, string>;
      };
      const failures = String(Metadata['shardflow:name']).endsWith('-failures');
      expect({ name: Metadata['shardflow:name'], hours: Properties.RetentionPeriodHours }).toEqual({
        name: Metadata['shardflow:name'],
        hours: failures ? 48 : 24,
      });
      expect(JSON.stringify(Properties.StreamEncryption.KeyId)).toBe(
        failures ? failureKeyArn : '"alias/aws/kinesis"',
      );
    }
  });

  it('passes the cdk-nag AwsSolutions and Serverless packs', () => {
    // WHEN
    const reports = [new AwsSolutionsChecks(app), new ServerlessChecks(app)].map((pack) =>
      pack.validateScope(stack),
    );
    // THEN
    const findings = reports.flatMap((report) =>
      report.violations.map((violation) => `${violation.ruleName} (${violation.severity})`),
    );
    expect(findings).toEqual([]);
  });
});
