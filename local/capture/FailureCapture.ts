import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { CapturedFailure, FailureCaptureOptions } from './types';

/**
 * Stands in for the on-failure destinations (SQS, SNS, S3) of a local run: keeps every failure
 * record in memory and appends it as one JSON line to a file, which `shardflow failures` reads
 * from another process. Appends are synchronous, so lines are whole and in order.
 *
 * @example
 * ```ts
 * const capture = new FailureCapture({ file: '.shardflow/failures.jsonl' });
 * capture.add(toFailureRecord(discarded, source));
 * ```
 */
export class FailureCapture {
  private readonly captured: CapturedFailure[] = [];

  public constructor(private readonly options: FailureCaptureOptions = {}) {
    if (options.file) mkdirSync(dirname(options.file), { recursive: true });
  }

  /** Path of the failure file, if any. */
  public get file(): string | undefined {
    return this.options.file;
  }

  /** Failures captured by this process, oldest first. */
  public get failures(): readonly CapturedFailure[] {
    return this.captured;
  }

  /** Keeps one failure record (and appends it to the file). */
  public add(failure: CapturedFailure): void {
    this.captured.push(failure);
    if (this.options.file) appendFileSync(this.options.file, `${JSON.stringify(failure)}\n`);
  }
}
