import { randomUUID } from 'node:crypto';
import type { FunctionInvoker, InvocationResult } from '#local/lambda/types';
import { CHAOS_ERROR_TYPES } from './constants';
import { seededRandom } from './seededRandom';
import type { ChaosOptions } from './types';

/**
 * Wraps a function invoker and injects function errors at a rate, reproducibly from a seed:
 * before the handler runs (nothing happened), or after it returned (its side effects are done,
 * its result is replaced by an error) — the two cases a Kinesis handler must survive.
 *
 * @example
 * ```ts
 * const invoker = new ChaosInvoker(host, { rate: 0.2, seed: 7 });
 * ```
 */
export class ChaosInvoker implements FunctionInvoker {
  private readonly random: () => number;
  /** Injected errors so far: before and after the handler. */
  public readonly injected = { before: 0, after: 0 };

  public constructor(
    private readonly inner: FunctionInvoker,
    private readonly options: ChaosOptions,
  ) {
    // One sequence per function, derived from the seed and the name, so adding a function does not reshuffle others.
    let hash = options.seed ?? 1;
    for (const char of inner.functionName) hash = (Math.imul(hash, 31) + char.charCodeAt(0)) | 0;
    this.random = seededRandom(hash);
  }

  public get functionName(): string {
    return this.inner.functionName;
  }

  public async invoke(event: unknown): Promise<InvocationResult> {
    const before = this.random() < this.options.rate;
    const after = this.random() < this.options.rate;
    if (before) {
      this.injected.before += 1;
      return {
        ok: false,
        requestId: randomUUID(),
        error: {
          errorType: CHAOS_ERROR_TYPES.BEFORE_HANDLER,
          errorMessage: 'chaos: invocation failed before the handler ran',
        },
        durationMs: 0,
      };
    }
    const result = await this.inner.invoke(event);
    if (!after || !result.ok) return result;
    this.injected.after += 1;
    return {
      ok: false,
      requestId: result.requestId,
      error: {
        errorType: CHAOS_ERROR_TYPES.AFTER_HANDLER,
        errorMessage:
          'chaos: invocation failed after the handler returned (its side effects are done)',
      },
      durationMs: result.durationMs,
    };
  }
}
