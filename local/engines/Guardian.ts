import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { ENGINE_STOP_GRACE_MS } from './constants';
import { EngineError } from './errors';

/** How often the guardian checks that its parent is still alive. */
const GUARDIAN_POLL_MS = 300;

/** The plain-JS watchdog process, next to this file. */
const GUARDIAN_SCRIPT = join(__dirname, 'guardian.js');

/**
 * A watchdog process that kills the engines when this process dies, even by SIGKILL
 * (see `guardian.js`). It does not keep this process's event loop alive.
 */
export class Guardian {
  private readonly child: ChildProcess;

  private constructor(child: ChildProcess) {
    this.child = child;
  }

  /**
   * Starts the guardian for the current process.
   *
   * @param removeOnKill - a folder the guardian removes once it has killed the engines (their
   *   private socket folder) (default: none)
   */
  public static async start(removeOnKill?: string): Promise<Guardian> {
    const child = spawn(
      process.execPath,
      [
        GUARDIAN_SCRIPT,
        String(process.pid),
        String(ENGINE_STOP_GRACE_MS),
        String(GUARDIAN_POLL_MS),
        ...(removeOnKill === undefined ? [] : [removeOnKill]),
      ],
      // Own process group: a Ctrl-C meant for this process must not take the guardian with it.
      {
        detached: true,
        stdio: ['pipe', 'ignore', 'ignore'],
        env: { PATH: process.env.PATH ?? '' },
      },
    );
    const [event] = (await Promise.race([once(child, 'spawn'), once(child, 'error')])) as [unknown];
    if (event instanceof Error) {
      throw new EngineError(`the engine guardian could not be started: ${event.message}`, {
        cause: event,
      });
    }
    child.unref();
    (child.stdin as Socket).unref();
    // The pipe breaks when the guardian is gone; that must not crash this process.
    child.stdin?.on('error', () => undefined);
    return new Guardian(child);
  }

  /** The guardian's process id. */
  public get pid(): number | undefined {
    return this.child.pid;
  }

  /** Puts an engine (its process group) under the guardian's watch. */
  public watch(pid: number): void {
    this.child.stdin?.write(`${pid}\n`);
  }

  /**
   * Ends the guardian without it touching the engines: call it before stopping them, so it can
   * never signal a pid that the system has given to another process since.
   */
  public dismiss(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}
