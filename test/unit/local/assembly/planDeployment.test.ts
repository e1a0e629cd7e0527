// biome-ignore-all lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub syntax
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { StreamPipeline } from '#infra/StreamPipeline';
import { DeploymentError, WindowedParallelizationError } from '#local/assembly/errors';
import { loadCloudAssembly } from '#local/assembly/loadCloudAssembly';
import { planDeployment } from '#local/assembly/planDeployment';
import type { CloudAssembly } from '#local/assembly/types';
import { readMappingSettings } from '#local/esm/readMappingSettings';
import { pageViews } from '#pipelines/page-views';

const FIXTURE = join(__dirname, '../../../fixtures/assembly');
const HASH = '3f1b2c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f809';
const ENDPOINTS = { region: 'us-east-1', accountId: '000000000000' };
const ARN = (service: string, resource: string) =>
  `arn:aws:${service}:us-east-1:000000000000:${resource}`;

function assemblyWith(resources: Record<string, unknown>): CloudAssembly {
  return {
    directory: '/nowhere',
    stacks: [
      {
        artifactId: 'S',
        stackName: 'S',
        templateFile: '/nowhere/S.json',
        template: { Resources: resources as never },
      },
    ],
    assetsByObjectKey: new Map(),
  };
}

describe('planDeployment', () => {
  const plan = planDeployment(loadCloudAssembly(FIXTURE), { endpoints: ENDPOINTS });
  const { deployment } = plan;

  it('plans each stream with its shard count, ON_DEMAND as 4 shards, skipping false conditions', () => {
    expect(plan.streams.map(({ streamName, shardCount }) => [streamName, shardCount])).toEqual([
      ['Fixture-Numbers', 2],
      ['Fixture-doubled', 4],
      ['fixture-flaky-in', 1],
      ['fixture-flaky-out', 1],
    ]);
  });

  it('plans the table with keys, attributes, GSI, billing mode and TTL', () => {
    // WHEN
    const state = plan.tables.find((table) => table.logicalId === 'State');

    // THEN
    expect(state).toEqual({
      stack: 'Fixture',
      logicalId: 'State',
      tableName: 'Fixture-state',
      timeToLiveAttribute: 'expiresAt',
      createTable: {
        TableName: 'Fixture-state',
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
          { AttributeName: 'status', AttributeType: 'S' },
          { AttributeName: 'closesAt', AttributeType: 'N' },
        ],
        GlobalSecondaryIndexes: [
          {
            IndexName: 'byStatus',
            KeySchema: [
              { AttributeName: 'status', KeyType: 'HASH' },
              { AttributeName: 'closesAt', KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'KEYS_ONLY' },
          },
        ],
      },
    });
  });

  it('plans a GlobalTable as an on-demand table', () => {
    expect(plan.tables.find((table) => table.logicalId === 'Registry')?.createTable).toMatchObject({
      TableName: 'Fixture-Registry',
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
    });
  });

  it('maps the function code S3Key to the asset directory in cdk.out', () => {
    // WHEN
    const echo = deployment.functions.find((fn) => fn.logicalId === 'Echo');

    // THEN
    expect(echo?.codeDirectory).toBe(join(FIXTURE, `asset.${HASH}`));
    expect(readFileSync(join(echo?.codeDirectory ?? '', 'index.js'), 'utf8')).toContain(
      'exports.handler',
    );
  });

  it('resolves each function environment into local names and ARNs', () => {
    // WHEN
    const echo = deployment.functions.find((fn) => fn.logicalId === 'Echo');

    // THEN
    expect(echo).toMatchObject({
      functionName: 'Fixture-Echo',
      functionArn: ARN('lambda', 'function:Fixture-Echo'),
      handler: 'index.handler',
      runtime: 'nodejs22.x',
      timeoutSeconds: 10,
      memorySizeMb: 256,
      roleArn: 'arn:aws:iam::000000000000:role/Fixture-HandlerRole',
    });
    expect(echo?.environment).toEqual({
      OUTPUT_STREAM: 'Fixture-doubled',
      OUTPUT_STREAM_ARN: ARN('kinesis', 'stream/Fixture-doubled'),
      TABLE_NAME: 'Fixture-state',
      TABLE_ARN: ARN('dynamodb', 'table/Fixture-state'),
      PSEUDO: 'us-east-1|000000000000|aws|amazonaws.com|${Literal}',
      SUB_VARIABLES: `Fixture-Numbers@${ARN('kinesis', 'stream/Fixture-Numbers')}`,
      SELECTED: 'b',
      MODE: 'dev',
      QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/000000000000/Fixture-Failures',
      BATCH_LIMIT: '500',
    });
  });

  it('applies Lambda defaults for Timeout and MemorySize and keeps an explicit FunctionName', () => {
    expect(deployment.functions.find((fn) => fn.logicalId === 'Flaky')).toMatchObject({
      functionName: 'fixture-flaky',
      timeoutSeconds: 3,
      memorySizeMb: 128,
      handler: 'flaky.handler',
    });
  });

  it('keeps every event source mapping property, resolved, and finds the target by name or ARN', () => {
    // WHEN
    const [echo, flaky] = deployment.eventSourceMappings;

    // THEN
    expect(echo).toMatchObject({
      logicalId: 'EchoMapping',
      functionName: 'Fixture-Echo',
      eventSourceArn: ARN('kinesis', 'stream/Fixture-Numbers'),
      eventSourceType: 'AWS::Kinesis::Stream',
      properties: {
        BatchSize: 10,
        StartingPosition: 'LATEST',
        MaximumRetryAttempts: -1,
        DestinationConfig: { OnFailure: { Destination: ARN('sqs', 'Fixture-Failures') } },
      },
    });
    expect(echo?.uuid).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(flaky).toMatchObject({ functionName: 'fixture-flaky', logicalId: 'FlakyMapping' });
  });

  it('exposes the logical-name map from shardflow:name metadata', () => {
    expect(deployment.names.numbers).toEqual({
      physicalName: 'Fixture-Numbers',
      arn: ARN('kinesis', 'stream/Fixture-Numbers'),
      type: 'AWS::Kinesis::Stream',
      logicalId: 'Numbers',
      stack: 'Fixture',
    });
    expect(Object.keys(deployment.names).sort()).toEqual([
      'echo',
      'failures',
      'flaky-in',
      'flaky-out',
      'numbers',
      'numbers-doubled',
      'state',
    ]);
  });

  it('names every type that is not emulated in ONE warning line', () => {
    expect(plan.warnings).toEqual([
      'shardflow: not emulated locally: AWS::CloudWatch::Alarm (1), AWS::IAM::Policy (1), AWS::IAM::Role (1), AWS::Logs::LogGroup (1), AWS::SQS::Queue (1)',
    ]);
    expect(deployment.notEmulated).toEqual({
      'AWS::CloudWatch::Alarm': 1,
      'AWS::IAM::Policy': 1,
      'AWS::IAM::Role': 1,
      'AWS::Logs::LogGroup': 1,
      'AWS::SQS::Queue': 1,
    });
  });

  it('resolves outputs whose condition holds', () => {
    expect(deployment.outputs).toEqual({
      Fixture: {
        NumbersStreamName: 'Fixture-Numbers',
        DoubledStreamArn: ARN('kinesis', 'stream/Fixture-doubled'),
      },
    });
  });

  it('writes inline code (Code.ZipFile) to a directory as index.js', () => {
    // GIVEN
    const inline = mkdtempSync(join(tmpdir(), 'inline-'));
    const assembly = assemblyWith({
      Inline: {
        Type: 'AWS::Lambda::Function',
        Properties: {
          Code: { ZipFile: 'exports.handler = async () => 42;' },
          Handler: 'index.handler',
        },
      },
    });

    // WHEN
    const { deployment: inlineDeployment } = planDeployment(assembly, {
      endpoints: ENDPOINTS,
      inlineCodeDirectory: inline,
    });

    // THEN
    const directory = inlineDeployment.functions[0]?.codeDirectory ?? '';
    expect(directory).toBe(join(inline, 'S-Inline'));
    expect(readFileSync(join(directory, 'index.js'), 'utf8')).toBe(
      'exports.handler = async () => 42;',
    );
  });

  it('fails naming the function when its asset is not in the assembly', () => {
    // GIVEN
    const assembly = assemblyWith({
      Fn: {
        Type: 'AWS::Lambda::Function',
        Properties: { Code: { S3Bucket: 'b', S3Key: 'missing.zip' }, Handler: 'index.handler' },
      },
    });

    // WHEN / THEN
    expect(() => planDeployment(assembly, { endpoints: ENDPOINTS })).toThrow(DeploymentError);
    expect(() => planDeployment(assembly, { endpoints: ENDPOINTS })).toThrow(
      'S/Fn: no asset in /nowhere is published as missing.zip',
    );
  });

  it('fails on a FunctionName that would lead out of the inline code directory, writing nothing', () => {
    // GIVEN an inline function whose FunctionName climbs into a neighbouring project
    const base = realpathSync(mkdtempSync(join(tmpdir(), 'inline-name-')));
    const inline = join(base, 'inline');
    mkdirSync(inline);
    const assembly = assemblyWith({
      Fn: {
        Type: 'AWS::Lambda::Function',
        Properties: {
          FunctionName: '../victim-project/node_modules/some-dep',
          Code: { ZipFile: 'module.exports = "planted by the template";' },
          Handler: 'index.handler',
        },
      },
    });

    // WHEN / THEN
    expect(() =>
      planDeployment(assembly, { endpoints: ENDPOINTS, inlineCodeDirectory: inline }),
    ).toThrow(
      new DeploymentError(
        'FunctionName "../victim-project/node_modules/some-dep" is not a Lambda function name (1 to 64 letters, digits, hyphens or underscores) in template /nowhere/S.json: refusing to deploy it',
        'S',
        'Fn',
      ),
    );
    expect(existsSync(join(base, 'victim-project'))).toBe(false);
    expect(readdirSync(inline)).toEqual([]);
  });

  it('keeps inline code of a function whose generated name is no folder name inside the directory', () => {
    // GIVEN a logical id (so the generated name S-<logical id>) that climbs out of the directory
    const base = mkdtempSync(join(tmpdir(), 'inline-name-'));
    const inline = join(base, 'inline');
    mkdirSync(inline);
    const assembly = assemblyWith({
      'x/../../escaped': {
        Type: 'AWS::Lambda::Function',
        Properties: { Code: { ZipFile: 'exports.handler = async () => 1;' } },
      },
    });

    // WHEN
    const { deployment: planned } = planDeployment(assembly, {
      endpoints: ENDPOINTS,
      inlineCodeDirectory: inline,
    });

    // THEN
    expect(readdirSync(base)).toEqual(['inline']);
    const [folder] = readdirSync(inline);
    expect(folder).toMatch(/^function-[0-9a-f]{16}$/);
    expect(planned.functions[0]?.codeDirectory).toBe(join(inline, folder as string));
  });

  it.each([
    ['/tmp/outside/evil.handler', 'is an absolute path, outside the function’s code'],
    ['../outside/evil.handler', "contains '..', which Lambda's Node.js runtime refuses"],
    ['lib/../../evil.handler', "contains '..'"],
    ['index.handler extra', 'is empty or contains white space'],
  ])('fails on Handler %s, naming the function and the template', (handler, problem) => {
    // GIVEN
    const assembly = assemblyWith({
      Fn: {
        Type: 'AWS::Lambda::Function',
        Properties: {
          FunctionName: 'fn',
          Code: { ZipFile: 'exports.handler = async () => 1;' },
          Handler: handler,
        },
      },
    });

    // WHEN / THEN
    const planning = () =>
      planDeployment(assembly, {
        endpoints: ENDPOINTS,
        inlineCodeDirectory: mkdtempSync(join(tmpdir(), 'inline-')),
      });
    expect(planning).toThrow(DeploymentError);
    expect(planning).toThrow(`S/Fn: Handler ${JSON.stringify(handler)} of function fn ${problem}`);
    expect(planning).toThrow(
      "a handler must name a module inside the function's code directory (template /nowhere/S.json): refusing to run it",
    );
  });

  it('plans handlers in subfolders of the code', () => {
    // GIVEN
    const assembly = assemblyWith({
      Fn: {
        Type: 'AWS::Lambda::Function',
        Properties: {
          Code: { ZipFile: 'exports.handler = async () => 1;' },
          Handler: 'dist/handlers/views.main.handler',
        },
      },
    });

    // WHEN
    const { deployment: planned } = planDeployment(assembly, {
      endpoints: ENDPOINTS,
      inlineCodeDirectory: mkdtempSync(join(tmpdir(), 'inline-')),
    });

    // THEN
    expect(planned.functions[0]?.handler).toBe('dist/handlers/views.main.handler');
  });

  it('fails when a mapping targets a function outside the deployment', () => {
    // GIVEN
    const assembly = assemblyWith({
      Mapping: {
        Type: 'AWS::Lambda::EventSourceMapping',
        Properties: { FunctionName: 'elsewhere', EventSourceArn: 'arn:aws:kinesis:x:y:stream/z' },
      },
    });

    // WHEN / THEN
    expect(() => planDeployment(assembly, { endpoints: ENDPOINTS })).toThrow(
      /targets function elsewhere, which is not part of the deployment/,
    );
  });
});

describe('planDeployment of a mapping with ParallelizationFactor', () => {
  const inlineCodeDirectory = mkdtempSync(join(tmpdir(), 'inline-'));
  const WINDOWED = {
    SHARDFLOW_PIPELINE: 'page-views',
    SHARDFLOW_WINDOW_KIND: 'tumbling',
  };

  /** A stream, a function with `environment` and a mapping of one to the other. */
  function assemblyOf(
    environment: Record<string, string>,
    mapping: Record<string, unknown>,
  ): CloudAssembly {
    return assemblyWith({
      Input: { Type: 'AWS::Kinesis::Stream', Properties: { ShardCount: 2 } },
      Handler: {
        Type: 'AWS::Lambda::Function',
        Properties: {
          Code: { ZipFile: 'exports.handler = async () => ({});' },
          Handler: 'index.handler',
          Environment: { Variables: environment },
        },
      },
      Mapping: {
        Type: 'AWS::Lambda::EventSourceMapping',
        Properties: {
          FunctionName: { Ref: 'Handler' },
          EventSourceArn: { 'Fn::GetAtt': ['Input', 'Arn'] },
          StartingPosition: 'TRIM_HORIZON',
          ...mapping,
        },
      },
    });
  }

  it('fails when a mapping runs a shardflow windowed handler with ParallelizationFactor 4', () => {
    // GIVEN
    const assembly = assemblyOf(WINDOWED, { ParallelizationFactor: 4 });

    // WHEN
    const plan = () => planDeployment(assembly, { endpoints: ENDPOINTS, inlineCodeDirectory });

    // THEN
    expect(plan).toThrow(WindowedParallelizationError);
    expect(plan).toThrow(
      'S/Mapping: ParallelizationFactor must be absent or 1 for a mapping to S-Handler, the handler of ' +
        'tumbling windowed pipeline page-views, got 4: window state is fenced per shard, and concurrent ' +
        'batches of one shard would lose records; give the stream more shards instead',
    );
  });

  it('fails when the windowed handler synthesized by StreamPipeline is mapped with ParallelizationFactor 2', () => {
    // GIVEN: a real synthesized pipeline, its mapping edited after synthesis (what synth refuses);
    // bundled, so its code is inside the assembly as the loader requires
    const outdir = mkdtempSync(join(tmpdir(), 'cdk-out-'));
    const app = new App({ outdir });
    new StreamPipeline(new Stack(app, 'Windowed'), 'PageViews', {
      definition: pageViews,
      entry: join(__dirname, '../../../../functions/handlers/page-views.ts'),
    });
    app.synth();
    const templateFile = join(outdir, 'Windowed.template.json');
    const template = JSON.parse(readFileSync(templateFile, 'utf8')) as {
      Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
    };
    for (const resource of Object.values(template.Resources)) {
      if (resource.Type === 'AWS::Lambda::EventSourceMapping') {
        resource.Properties.ParallelizationFactor = 2;
      }
    }
    writeFileSync(templateFile, JSON.stringify(template));

    // WHEN / THEN
    expect(() => planDeployment(loadCloudAssembly(outdir), { endpoints: ENDPOINTS })).toThrow(
      /^Windowed\/PageViewsHandlerKinesisEventSource\w+: ParallelizationFactor must be absent or 1 for a mapping to Windowed-PageViewsHandler\w+, the handler of tumbling windowed pipeline page-views, got 2/,
    );
  });

  it('plans ParallelizationFactor 1 or none for a windowed handler', () => {
    for (const mapping of [{ ParallelizationFactor: 1 }, {}]) {
      // WHEN
      const { deployment } = planDeployment(assemblyOf(WINDOWED, mapping), {
        endpoints: ENDPOINTS,
        inlineCodeDirectory,
      });

      // THEN
      expect(deployment.eventSourceMappings).toHaveLength(1);
    }
  });

  it('plans ParallelizationFactor 4 for a function that is not a shardflow windowed handler', () => {
    // GIVEN: a stateless shardflow handler and a function shardflow did not make
    const environments: Record<string, string>[] = [{ SHARDFLOW_PIPELINE: 'enrich' }, {}];
    for (const environment of environments) {
      // WHEN
      const { deployment } = planDeployment(assemblyOf(environment, { ParallelizationFactor: 4 }), {
        endpoints: ENDPOINTS,
        inlineCodeDirectory,
      });

      // THEN: the mapping runs with 4 lanes per shard
      const [mapping] = deployment.eventSourceMappings;
      expect(mapping?.properties.ParallelizationFactor).toBe(4);
      expect(
        mapping === undefined
          ? undefined
          : readMappingSettings(mapping).settings.parallelizationFactor,
      ).toBe(4);
    }
  });
});
