import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { synthEnvironment, synthesize } from '#local/session/synthesize';

/** The user's real AWS setup, as the parent process has it. */
const USER_AWS = {
  AWS_ACCESS_KEY_ID: 'AKIAREALUSERKEY00000',
  AWS_SECRET_ACCESS_KEY: 'real-secret',
  AWS_SESSION_TOKEN: 'real-token',
  AWS_PROFILE: 'prod-admin',
  AWS_DEFAULT_PROFILE: 'prod-admin',
  AWS_ROLE_ARN: 'arn:aws:iam::111111111111:role/deployer',
  AWS_WEB_IDENTITY_TOKEN_FILE: '/var/run/secrets/token',
  AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: '/v2/credentials/abc',
  AWS_CONTAINER_CREDENTIALS_FULL_URI: 'http://169.254.170.23/v1/credentials',
  AWS_CONTAINER_AUTHORIZATION_TOKEN: 'container-token',
};

/**
 * A CDK project whose app writes the environment it sees to `env.json` in the cloud assembly and, with
 * `probeCredentials`, whether the AWS SDK's default credential chain finds credentials.
 */
function tinyApp(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shardflow-synth-'));
  const provider = require.resolve('@aws-sdk/credential-provider-node');
  fs.writeFileSync(path.join(dir, 'cdk.json'), JSON.stringify({ app: 'node app.js' }));
  fs.writeFileSync(
    path.join(dir, 'app.js'),
    `const fs = require('node:fs');
const path = require('node:path');
const out = process.env.CDK_OUTDIR;
fs.writeFileSync(path.join(out, 'env.json'), JSON.stringify(process.env));
require(${JSON.stringify(provider)}).defaultProvider()().then(
  (credentials) => credentials.accessKeyId,
  (error) => 'none: ' + error.name,
).then((found) => {
  fs.writeFileSync(path.join(out, 'credentials.json'), JSON.stringify(found));
  fs.writeFileSync(path.join(out, 'manifest.json'), '{"artifacts":{}}');
});
`,
  );
  return dir;
}

describe('synthesize', () => {
  const saved = { ...process.env };
  afterEach(() => {
    for (const name of Object.keys(process.env)) {
      if (!(name in saved)) delete process.env[name];
    }
    Object.assign(process.env, saved);
  });

  it('runs the app without the user’s AWS credentials, profile or role in its environment', async () => {
    // GIVEN a user with credentials, a profile and a role in the environment
    Object.assign(process.env, USER_AWS, { SHARDFLOW_TEST_KEPT: 'kept' });
    const project = tinyApp();
    const outDir = path.join(project, 'cdk.out');

    // WHEN
    await synthesize(project, outDir);

    // THEN the app saw none of them, and the rest of the environment as it is
    const seen = JSON.parse(fs.readFileSync(path.join(outDir, 'env.json'), 'utf8')) as Record<
      string,
      string
    >;
    for (const name of Object.keys(USER_AWS)) expect(seen[name]).toBeUndefined();
    expect(seen).toMatchObject({
      SHARDFLOW_TEST_KEPT: 'kept',
      PATH: process.env.PATH,
      CDK_OUTDIR: outDir,
      AWS_EC2_METADATA_DISABLED: 'true',
    });
    fs.rmSync(project, { recursive: true, force: true });
  });

  it('runs the app where the AWS SDK finds no credentials, though the user has a default profile', async () => {
    // GIVEN a shared credentials file with a default profile (what `aws configure` writes)
    const project = tinyApp();
    const credentials = path.join(project, 'aws-credentials');
    fs.writeFileSync(
      credentials,
      '[default]\naws_access_key_id = AKIADEFAULTPROFILE00\naws_secret_access_key = secret\n',
    );
    process.env.AWS_SHARED_CREDENTIALS_FILE = credentials;
    process.env.AWS_CONFIG_FILE = path.join(project, 'aws-config');
    const outDir = path.join(project, 'cdk.out');

    // WHEN
    await synthesize(project, outDir);

    // THEN
    const found = JSON.parse(fs.readFileSync(path.join(outDir, 'credentials.json'), 'utf8'));
    expect(found).toBe('none: CredentialsProviderError');
    fs.rmSync(project, { recursive: true, force: true });
  });

  it('leaves out every credential variable of the SDK chain, whatever its case, and only those', () => {
    // GIVEN
    const parent = {
      ...USER_AWS,
      aws_secret_access_key: 'lower-case on Windows',
      AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: '/token',
      AWS_BEARER_TOKEN_BEDROCK: 'bearer',
      AWS_SECURITY_TOKEN: 'legacy',
      // the AWS SDK for Java v1's credentials file (an app may synthesize through Java)
      AWS_CREDENTIAL_PROFILES_FILE: '/home/user/.aws/credentials',
      AWS_REGION: 'eu-west-1',
      HOME: '/home/user',
    };

    // WHEN
    const environment = synthEnvironment(parent, '/out');

    // THEN
    expect(environment).toEqual({
      AWS_REGION: 'eu-west-1',
      HOME: '/home/user',
      AWS_SHARED_CREDENTIALS_FILE: os.devNull,
      AWS_CONFIG_FILE: os.devNull,
      AWS_CREDENTIAL_PROFILES_FILE: os.devNull,
      AWS_EC2_METADATA_DISABLED: 'true',
      CDK_OUTDIR: '/out',
      CDK_DISABLE_VERSION_CHECK: '1',
    });
  });
});
