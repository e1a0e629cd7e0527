import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { builtinModules } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { build } from 'esbuild';
import { deployedBuildOptions } from '#bench/coldStart';
import { createPipelineFunction } from '#infra/pipelineFunction';
import { LAZY_CREDENTIAL_PROVIDERS } from '#infra/stream-pipeline-defaults';

const ROOT = path.join(__dirname, '../../..');
const ENTRY = path.join(ROOT, 'test/fixtures/bundling/credentials.ts');

/** The credentials Lambda puts in a function's environment (its execution role's). */
const ROLE_CREDENTIALS = {
  AWS_ACCESS_KEY_ID: 'ASIAEXAMPLEROLEKEY',
  AWS_SECRET_ACCESS_KEY: 'example-secret',
  AWS_SESSION_TOKEN: 'example-token',
};

/** Calls the handler of the bundle in `dir`; prints its result, or the error and exits 1. */
const INVOKE = `require('./index.js').handler().then(
  (result) => process.stdout.write(JSON.stringify(result)),
  (error) => { process.stderr.write(String(error)); process.exit(1); },
)`;

/** Modules a bundle still loads at run time (`require` or `import()`), Node's built-ins aside. */
function externalsOf(code: string): string[] {
  const specifiers = [...code.matchAll(/\b(?:require|import)\("([^"]+)"\)/g)].map((m) => m[1]);
  return [...new Set(specifiers)]
    .filter((s): s is string => s !== undefined && !s.startsWith('node:'))
    .filter((s) => !builtinModules.includes(s))
    .sort();
}

describe('createPipelineFunction', () => {
  let workDir: string;
  let nodeOptions: string;

  /** Runs `node -e script` next to the copy of the bundle, with nothing else to resolve from. */
  function run(script: string, env: Record<string, string>) {
    return spawnSync(process.execPath, ['-e', script], {
      cwd: workDir,
      encoding: 'utf8',
      env: {
        PATH: process.env.PATH ?? '',
        HOME: workDir,
        AWS_REGION: 'eu-west-1',
        NODE_OPTIONS: nodeOptions,
        ...env,
      },
    });
  }

  beforeAll(() => {
    // GIVEN: a function whose handler resolves the credentials of the DynamoDB and Kinesis clients
    const app = new App();
    const stack = new Stack(app, 'test');
    createPipelineFunction(stack, {
      entry: ENTRY,
      serviceName: 'credentials',
      description: 'credential chain of the bundled SDK',
      runtime: lambda.Runtime.NODEJS_24_X,
      memorySize: 128,
      timeout: Duration.seconds(10),
      tracing: lambda.Tracing.DISABLED,
      logLevel: 'INFO',
      logRetention: logs.RetentionDays.ONE_DAY,
      environment: {},
    });
    // WHEN: synthesized, and its asset copied where no node_modules is in reach
    const assembly = app.synth();
    const [fn] = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function'));
    const properties = (
      fn as {
        Properties: {
          Code: { S3Key: string };
          Environment: { Variables: { NODE_OPTIONS: string } };
        };
      }
    ).Properties;
    nodeOptions = properties.Environment.Variables.NODE_OPTIONS;
    const assetDir = path.join(
      assembly.directory,
      `asset.${properties.Code.S3Key.replace(/\.zip$/, '')}`,
    );
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'shardflow-bundle-'));
    for (const file of fs.readdirSync(assetDir)) {
      fs.copyFileSync(path.join(assetDir, file), path.join(workDir, file));
    }
  }, 60_000);

  afterAll(() => {
    fs.rmSync(workDir, { recursive: true, force: true });
  });

  it('bundles the SDK clients: the role credentials from the environment resolve with no node_modules', () => {
    // WHEN
    const result = run(INVOKE, ROLE_CREDENTIALS);

    // THEN
    expect({ status: result.status, stderr: result.stderr }).toMatchObject({ status: 0 });
    expect(JSON.parse(result.stdout)).toEqual([
      ROLE_CREDENTIALS.AWS_ACCESS_KEY_ID,
      ROLE_CREDENTIALS.AWS_ACCESS_KEY_ID,
    ]);
  });

  it('leaves out exactly the credential providers the chain loads on demand', () => {
    // WHEN
    const code = fs.readFileSync(path.join(workDir, 'index.js'), 'utf8');

    // THEN
    expect(externalsOf(code)).toEqual([...LAZY_CREDENTIAL_PROVIDERS].sort());
  });

  it('bundles byte for byte what the cold-start bench measures', async () => {
    // WHEN: the same entry bundled with the bench's options
    const outfile = path.join(workDir, 'bench', 'index.js');
    await build({
      ...deployedBuildOptions(),
      entryPoints: [ENTRY],
      outfile,
      absWorkingDir: ROOT,
      logLevel: 'silent',
    });

    // THEN
    expect(fs.readFileSync(outfile, 'utf8')).toBe(
      fs.readFileSync(path.join(workDir, 'index.js'), 'utf8'),
    );
  });

  it('fails to find the next provider without environment credentials: it is not in the bundle', () => {
    // WHEN: no credentials in the environment, so the chain moves past the environment provider
    const result = run(INVOKE, {});

    // THEN: Lambda would resolve it from its runtime's SDK; here there is nothing to resolve it from
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(
      /Cannot find (package|module) '@aws-sdk\/credential-provider-ini'/,
    );
  });
});
