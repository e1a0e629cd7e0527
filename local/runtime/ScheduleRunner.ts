import { randomUUID } from 'node:crypto';
import type { FunctionInvoker } from '#local/lambda/types';
import type { ScheduledTarget } from './findSchedules';
import { parseSchedule, type Schedule } from './parseSchedule';

/** Options for {@link ScheduleRunner}. */
export interface ScheduleRunnerOptions {
  readonly region: string;
  readonly accountId: string;
  /**
   * Multiplies the wait before each run (tests use e.g. 0.01 so `rate(1 minute)` fires every 600 ms).
   * @default 1
   */
  readonly timeScale?: number;
  /** Receives a line per failed invocation or unusable schedule. */
  readonly warn: (line: string) => void;
}

/** Counters of one schedule. */
export interface ScheduleStats {
  readonly logicalId: string;
  readonly expression: string;
  readonly functionName: string;
  readonly invocations: number;
  readonly errors: number;
}

interface Running {
  readonly target: ScheduledTarget;
  readonly schedule: Schedule;
  readonly invoker: FunctionInvoker;
  timer?: NodeJS.Timeout;
  invocations: number;
  errors: number;
}

/**
 * Invokes the template's scheduled Lambda targets on their `rate(...)`/`cron(...)` schedules
 * with EventBridge's scheduled-event payload (`detail-type: "Scheduled Event"`), or the target's
 * `Input` if it has one — an asynchronous invocation: errors are reported, not retried.
 *
 * @example
 * ```ts
 * const runner = new ScheduleRunner(findSchedules(assembly, endpoints), hostFor, { region, accountId, warn });
 * runner.start();
 * ```
 */
export class ScheduleRunner {
  private readonly running: Running[] = [];
  private readonly inFlight = new Set<Promise<unknown>>();
  private stopped = false;

  public constructor(
    targets: readonly ScheduledTarget[],
    invokerFor: (targetArn: string) => FunctionInvoker | undefined,
    private readonly options: ScheduleRunnerOptions,
  ) {
    for (const target of targets) {
      const invoker = invokerFor(target.targetArn);
      if (invoker === undefined) {
        options.warn(
          `shardflow: schedule ${target.stack}/${target.logicalId} targets ${target.targetArn}, which is not a function of the app; not run`,
        );
        continue;
      }
      try {
        const schedule = parseSchedule(target.expression);
        this.running.push({ target, schedule, invoker, invocations: 0, errors: 0 });
      } catch (error) {
        options.warn(
          `shardflow: ${target.stack}/${target.logicalId}: ${(error as Error).message}; not run`,
        );
      }
    }
  }

  /** Counters per schedule. */
  public get stats(): ScheduleStats[] {
    return this.running.map((running) => ({
      logicalId: running.target.logicalId,
      expression: running.target.expression,
      functionName: running.invoker.functionName,
      invocations: running.invocations,
      errors: running.errors,
    }));
  }

  /** Schedules the first run of every target. */
  public start(): void {
    for (const running of this.running) this.arm(running, Date.now());
  }

  /** Cancels the timers and waits for invocations in flight. Idempotent. */
  public async stop(): Promise<void> {
    this.stopped = true;
    for (const running of this.running) clearTimeout(running.timer);
    await Promise.all([...this.inFlight]);
  }

  private arm(running: Running, from: number): void {
    if (this.stopped) return;
    const next = running.schedule.next(from);
    if (next === undefined) return;
    const scale = this.options.timeScale ?? 1;
    running.timer = setTimeout(
      () => {
        this.fire(running, next);
        this.arm(running, next);
      },
      Math.max(0, (next - from) * scale),
    );
    running.timer.unref();
  }

  private fire(running: Running, at: number): void {
    const { target } = running;
    const event = target.input ?? {
      version: '0',
      id: randomUUID(),
      'detail-type': 'Scheduled Event',
      source: target.type === 'AWS::Events::Rule' ? 'aws.events' : 'aws.scheduler',
      account: this.options.accountId,
      time: new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      region: this.options.region,
      resources: [target.arn],
      detail: {},
    };
    running.invocations += 1;
    const invocation = running.invoker
      .invoke(event)
      .then((result) => {
        if (!result.ok) {
          running.errors += 1;
          this.options.warn(
            `shardflow: scheduled invocation of ${running.invoker.functionName} (${target.logicalId}) failed: ${result.error.errorType}: ${result.error.errorMessage}`,
          );
        }
      })
      .catch(() => undefined)
      .finally(() => this.inFlight.delete(invocation));
    this.inFlight.add(invocation);
  }
}
