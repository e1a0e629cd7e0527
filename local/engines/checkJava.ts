import { spawn } from 'node:child_process';
import { MIN_JAVA_MAJOR_VERSION } from './constants';
import { JavaCompilerMissingError, JavaMissingError, JavaTooOldError } from './errors';

/**
 * Checks that `java` on PATH runs, is at least Java 17, as DynamoDB Local 3.x requires, and has
 * the `jdk.compiler` module, which runs DynamoDB Local's launcher (`LoopbackDynamoDbLocal.java`,
 * started in source-file mode).
 *
 * @param env - the environment whose PATH is searched (default: `process.env`)
 * @throws JavaMissingError when `java` cannot be run
 * @throws JavaTooOldError when it is older than Java 17
 * @throws JavaCompilerMissingError when it lacks `jdk.compiler` (a JRE without it, e.g. Temurin's)
 */
export async function checkJava(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const output = await javaVersionOutput(env);
  const version = /version "([^"]+)"/.exec(output)?.[1];
  if (version === undefined) throw new JavaMissingError({ cause: new Error(output.trim()) });
  if (javaMajorVersion(version) < MIN_JAVA_MAJOR_VERSION) throw new JavaTooOldError(version);
  // The boot layer fails to resolve when an added module is missing: "Module jdk.compiler not found".
  await javaVersionOutput(env, ['--add-modules', 'jdk.compiler']).catch((error: unknown) => {
    throw new JavaCompilerMissingError(version, { cause: error });
  });
}

/** Major version of a `java -version` string: "1.8.0_392" → 8, "17.0.15" → 17, "21" → 21. */
export function javaMajorVersion(version: string): number {
  const [first, second] = version.split(/[.+_-]/).map(Number);
  return first === 1 && second !== undefined ? second : (first ?? 0);
}

function javaVersionOutput(
  env: NodeJS.ProcessEnv,
  options: readonly string[] = [],
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('java', [...options, '-version'], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', (cause) => reject(new JavaMissingError({ cause })));
    child.once('close', (code) =>
      code === 0
        ? resolve(output)
        : reject(new JavaMissingError({ cause: new Error(output.trim()) })),
    );
  });
}
