import type { DemoSnapshot } from './types';

/** What a finished demo run is checked against. */
export interface DemoExpectations {
  /** Enrich events that had to be sent; undefined when generation was open-ended or interrupted. */
  readonly events?: number;
  /**
   * Every enrich event sent must be back. Off after `--forever` ends on Ctrl-C: what is still on its
   * way then is a backlog (the summary shows it), not a loss.
   * @default true
   */
  readonly allBack?: boolean;
  /** Why sending stopped early, if it did. */
  readonly feedError?: unknown;
}

/**
 * Why a demo run failed, one sentence each (empty: it passed). The enrich contract is strict:
 * every event sent comes back exactly once (and all `events` were sent); after `--forever`, none
 * comes back twice. A pipeline fails the run when its invocations failed and it processed nothing,
 * or when it gave records up (on-failure destination); one that merely lags behind on a busy
 * machine (a batch still running) does not — the summary shows its backlog.
 */
export function findProblems(final: DemoSnapshot, expected: DemoExpectations): string[] {
  const problems: string[] = [];
  if (expected.feedError !== undefined) {
    const error = expected.feedError;
    problems.push(`sending failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  const enrich = final.enrich;
  if (enrich !== undefined) {
    if (expected.events !== undefined && enrich.sent !== expected.events) {
      problems.push(`enrich: sent ${enrich.sent} of ${expected.events} events`);
    }
    const missing = (expected.allBack ?? true) && enrich.received !== enrich.sent;
    if (missing || enrich.received > enrich.sent || enrich.duplicates > 0) {
      problems.push(
        `enrich: ${enrich.received} of ${enrich.sent} events came back, ${enrich.duplicates} duplicates`,
      );
    }
  }
  for (const pipeline of final.pipelines) {
    if (pipeline.sent > 0 && pipeline.recordsIn === 0 && pipeline.errors > 0) {
      problems.push(
        `${pipeline.name}: processed none of the ${pipeline.sent} records sent to it, ${pipeline.errors} invocations failed (--verbose shows why)`,
      );
    }
    if (pipeline.failed > 0) {
      problems.push(
        `${pipeline.name}: ${pipeline.failed} records were given up on (on-failure destination)`,
      );
    }
  }
  return problems;
}
