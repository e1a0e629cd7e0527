import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Synthesizes the CDK app of a project into `outDir` by running the `app` command of its cdk.json, as the
 * CDK CLI does (the app writes the cloud assembly to `CDK_OUTDIR`). No AWS account or network is needed.
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
      env: { ...process.env, CDK_OUTDIR: outDir, CDK_DISABLE_VERSION_CHECK: '1' },
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
