import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * Environment variables through which the AWS SDKs (the credential chain of SDK v3, the legacy
 * names of SDK v2 and boto) and the CDK CLI find credentials, a profile or a role: none of them
 * reaches the app's code during synthesis.
 */
export const AWS_CREDENTIAL_VARIABLES: readonly string[] = [
  // static credentials
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_SECURITY_TOKEN',
  'AWS_ACCESS_KEY',
  'AWS_SECRET_KEY',
  'AWS_CREDENTIAL_EXPIRATION',
  'AWS_CREDENTIAL_SCOPE',
  'AWS_ACCOUNT_ID',
  // profiles (SSO, credential_process, role chaining all start from one)
  'AWS_PROFILE',
  'AWS_DEFAULT_PROFILE',
  'AWS_SDK_LOAD_CONFIG',
  'AWS_LOGIN_CACHE_DIRECTORY',
  'AWS_CREDENTIAL_PROFILES_FILE',
  // web identity (EKS, GitHub Actions OIDC)
  'AWS_WEB_IDENTITY_TOKEN_FILE',
  'AWS_ROLE_ARN',
  'AWS_ROLE_SESSION_NAME',
  // instance metadata
  'AWS_EC2_METADATA_SERVICE_ENDPOINT',
  'AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE',
  'AWS_EC2_METADATA_TOKEN',
];

/** Prefixes of further credential variables: ECS/EKS container credentials, bearer tokens. */
export const AWS_CREDENTIAL_VARIABLE_PREFIXES: readonly string[] = [
  'AWS_CONTAINER_',
  'AWS_BEARER_TOKEN_',
];

/**
 * The environment the app's synthesis runs with: the user's, minus every AWS credential and profile
 * variable, with the shared config and credentials files replaced by an empty one and the instance
 * metadata service off — so an SDK client created while synthesizing finds no credentials instead of
 * the user's. It does not sandbox the app: its code still runs as the user and can read what the
 * user can.
 *
 * @example
 * ```ts
 * spawn(app, { shell: true, env: synthEnvironment(process.env, 'cdk.out') });
 * ```
 */
export function synthEnvironment(
  parent: NodeJS.ProcessEnv,
  outDir: string,
): Record<string, string> {
  const removed = new Set(AWS_CREDENTIAL_VARIABLES);
  const environment: Record<string, string> = {};
  for (const [name, value] of Object.entries(parent)) {
    if (value === undefined) continue;
    const upper = name.toUpperCase(); // Windows names are case-insensitive
    if (removed.has(upper)) continue;
    if (AWS_CREDENTIAL_VARIABLE_PREFIXES.some((prefix) => upper.startsWith(prefix))) continue;
    environment[name] = value;
  }
  return {
    ...environment,
    AWS_SHARED_CREDENTIALS_FILE: os.devNull,
    AWS_CONFIG_FILE: os.devNull,
    // the AWS SDK for Java v1's name for the credentials file (v2 reads AWS_SHARED_CREDENTIALS_FILE)
    AWS_CREDENTIAL_PROFILES_FILE: os.devNull,
    AWS_EC2_METADATA_DISABLED: 'true',
    CDK_OUTDIR: outDir,
    CDK_DISABLE_VERSION_CHECK: '1',
  };
}

/**
 * Synthesizes the CDK app of a project into `outDir` by running the `app` command of its cdk.json, as the
 * CDK CLI does (the app writes the cloud assembly to `CDK_OUTDIR`). No AWS account or network is needed:
 * the command runs the project's code as the current user, with the user's environment minus every AWS
 * credential and profile variable ({@link synthEnvironment}).
 *
 * @returns the cloud assembly directory
 */
export async function synthesize(projectDir: string, outDir: string): Promise<string> {
  const cdkJson = path.join(projectDir, 'cdk.json');
  if (!fs.existsSync(cdkJson)) {
    throw new Error(
      `no cdk.json in ${projectDir}: pass --app with a CDK project or a cdk.out directory`,
    );
  }
  const app = (JSON.parse(fs.readFileSync(cdkJson, 'utf8')) as { app?: string }).app;
  if (!app) {
    throw new Error(`${cdkJson} has no "app" command`);
  }
  fs.rmSync(outDir, { recursive: true, force: true });
  fs.mkdirSync(outDir, { recursive: true });
  const stderr: string[] = [];
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(app, {
      cwd: projectDir,
      shell: true,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: synthEnvironment(process.env, outDir),
    });
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
    child.on('error', reject);
    child.on('exit', resolve);
  });
  if (code !== 0 || !fs.existsSync(path.join(outDir, 'manifest.json'))) {
    throw new Error(`synthesis failed (\`${app}\` exited ${code}):\n${stderr.join('').trim()}`);
  }
  return outDir;
}

/** Whether a directory is a synthesized cloud assembly rather than a CDK project. */
export function isCloudAssembly(dir: string): boolean {
  return fs.existsSync(path.join(dir, 'manifest.json'));
}
