import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CloudAssembly, LocalFunctionDefinition } from '#local/assembly/types';
import { ensurePrivateDirectory, PRIVATE_DIR_MODE } from '#local/io/privateDirectory';
import { CODE_COPIES_DIRECTORY, RUN_FOLDER_PREFIX } from './constants';
import { copyCodeDirectory } from './copyCodeDirectory';
import { LocalRuntimeError, UnsafeCodePathError, UnsafeFunctionCodeError } from './errors';

/** What {@link FunctionCodeStore.stage} did. */
export interface StagedFunctionCode {
  /** The functions, each with `codeDirectory` now its private copy. */
  readonly functions: readonly LocalFunctionDefinition[];
  /** Code directories copied (functions sharing one share the copy). */
  readonly directories: number;
  /** Files copied. */
  readonly files: number;
  /** Bytes copied. */
  readonly bytes: number;
  /** How long copying took, in milliseconds. */
  readonly durationMs: number;
}

/** Whether a process with this id exists (EPERM: it does, it is someone else's). */
function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A copy's folder name: its index, then the original's name restricted to safe characters. */
function copyName(index: number, codeDirectory: string): string {
  const name = path
    .basename(codeDirectory)
    .replace(/[^A-Za-z0-9._-]/g, '_')
    .slice(0, 100);
  return `${index}-${name}`;
}

/**
 * The private folder of one local runtime run in which its functions' code is kept: the runtime runs
 * each function from a copy made there ({@link copyCodeDirectory}), never from `cdk.out`, whose asset
 * folders the CDK leaves writable by anyone (0777) and which `--app` may name anywhere. Inline code
 * (`Code.ZipFile`) is written there too. The folder is `<base>/run-<pid>-<random>` (0700, made
 * exclusively in a private `<base>`); folders of runs whose process is gone are removed on creation.
 *
 * @example
 * ```ts
 * const store = FunctionCodeStore.create();
 * const deployment = await deployAssembly(assembly, { …, inlineCodeDirectory: store.inlineDirectory });
 * const { functions } = store.stage(assembly, deployment.functions);
 * // … run functions …
 * store.remove();
 * ```
 */
export class FunctionCodeStore {
  /** Where `planDeployment` writes inline code (`Code.ZipFile`). */
  public readonly inlineDirectory: string;
  private readonly codeDirectory: string;
  /** Copies made so far: the next one's index. */
  private copies = 0;

  private constructor(
    /** The run's private folder. */
    public readonly directory: string,
  ) {
    this.inlineDirectory = path.join(directory, 'inline');
    this.codeDirectory = path.join(directory, 'code');
  }

  /**
   * Makes this run's private folder in `base`, which is made private first (0700, the user's, no
   * folder above it that another user may write to).
   *
   * @param base - @default `.shardflow/code` in the current directory (the project of `shardflow local up`)
   * @throws UnsafePathError if `base` cannot be made private
   */
  public static create(base: string = path.resolve(CODE_COPIES_DIRECTORY)): FunctionCodeStore {
    const checked = ensurePrivateDirectory(base, {
      purpose: 'private copies of the functions’ code',
      repair: true,
    });
    for (const name of fs.readdirSync(checked)) {
      const pid = Number(new RegExp(`^${RUN_FOLDER_PREFIX}(\\d+)-`).exec(name)?.[1]);
      if (Number.isInteger(pid) && pid > 0 && !processExists(pid)) {
        fs.rmSync(path.join(checked, name), { recursive: true, force: true });
      }
    }
    return new FunctionCodeStore(
      fs.mkdtempSync(path.join(checked, `${RUN_FOLDER_PREFIX}${process.pid}-`)),
    );
  }

  /**
   * Copies each function's code directory (once, however many functions use it) into the run's
   * folder, and returns the functions with `codeDirectory` set to their copy.
   *
   * @throws UnsafeFunctionCodeError naming the function, its template and the file that cannot be
   *   trusted (another user's, writable by anyone, a link out of the code directory)
   * @throws LocalRuntimeError if a code directory cannot be read
   */
  public stage(
    assembly: CloudAssembly,
    functions: readonly LocalFunctionDefinition[],
  ): StagedFunctionCode {
    const startedAt = performance.now();
    const copies = new Map<string, string>();
    let files = 0;
    let bytes = 0;
    if (functions.length > 0 && !fs.existsSync(this.codeDirectory)) {
      fs.mkdirSync(this.codeDirectory, { mode: PRIVATE_DIR_MODE });
    }
    const staged = functions.map((fn): LocalFunctionDefinition => {
      let copy: string | undefined;
      try {
        const real = fs.realpathSync.native(fn.codeDirectory);
        const done = copies.get(real);
        if (done !== undefined) return { ...fn, codeDirectory: done };
        copy = path.join(this.codeDirectory, copyName(this.copies, fn.codeDirectory));
        this.copies += 1;
        const copied = copyCodeDirectory(fn.codeDirectory, copy);
        files += copied.files;
        bytes += copied.bytes;
        copies.set(real, copy);
        return { ...fn, codeDirectory: copy };
      } catch (error) {
        if (copy !== undefined) fs.rmSync(copy, { recursive: true, force: true });
        const templateFile =
          assembly.stacks.find((stack) => stack.stackName === fn.stack)?.templateFile ?? fn.stack;
        if (error instanceof UnsafeCodePathError) {
          throw new UnsafeFunctionCodeError(
            { ...fn, templateFile, path: error.path, reason: error.reason },
            assembly.directory,
          );
        }
        throw new LocalRuntimeError(
          `cannot copy the code of function ${fn.functionName} (${fn.stack}/${fn.logicalId} in ${templateFile}) from ${fn.codeDirectory}: ${(error as Error).message}`,
          assembly.directory,
          { cause: error },
        );
      }
    });
    return {
      functions: staged,
      directories: copies.size,
      files,
      bytes,
      durationMs: performance.now() - startedAt,
    };
  }

  /** Removes the run's folder with every copy in it. Idempotent. */
  public remove(): void {
    fs.rmSync(this.directory, { recursive: true, force: true });
  }
}
