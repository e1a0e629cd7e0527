import {
  closeSync,
  constants,
  fchmodSync,
  fstatSync,
  mkdirSync,
  openSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { UnsafePathError } from '#local/io/errors';
import {
  currentUid,
  GROUP_OTHER_BITS,
  PRIVATE_DIR_MODE,
  PRIVATE_FILE_MODE,
} from '#local/io/privateDirectory';
import type { CapturedFailure, FailureCaptureOptions } from './types';

/** 0 where the platform has no such flag (Windows). */
const O_NOFOLLOW = constants.O_NOFOLLOW ?? 0;
/** A FIFO put in the file's place must not block the open (ENXIO instead, or fstat refuses it). */
const O_NONBLOCK = constants.O_NONBLOCK ?? 0;

/**
 * Stands in for the on-failure destinations (SQS, SNS, S3) of a local run: keeps every failure
 * record in memory and appends it as one JSON line to a file, which `shardflow failures` reads
 * from another process. Appends are synchronous, so lines are whole and in order.
 *
 * The file is opened once, when the capture is made (created 0600 if missing), never through a
 * symbolic link (O_NOFOLLOW), and checked on the open file: a regular file of the current user's,
 * whose group and other permissions are removed. Every failure is appended to that open file, so a
 * file or link put in its place later receives nothing.
 *
 * @example
 * ```ts
 * const capture = new FailureCapture({ file: '.shardflow/failures.jsonl' });
 * capture.add(toDiscardedBatchRecord(discarded, source));
 * ```
 */
export class FailureCapture {
  private readonly captured: CapturedFailure[] = [];
  private fd: number | undefined;

  /**
   * @throws UnsafePathError when the file is a symbolic link, not a regular file, or another user's
   */
  public constructor(private readonly options: FailureCaptureOptions = {}) {
    if (options.file) this.fd = openPrivateAppend(options.file);
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
    if (this.fd === undefined) return;
    const line = Buffer.from(`${JSON.stringify(failure)}\n`);
    let written = 0;
    while (written < line.length) {
      written += writeSync(this.fd, line, written);
    }
  }

  /** Closes the failure file; failures added afterwards are kept in memory only. Idempotent. */
  public close(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
  }
}

function openPrivateAppend(file: string): number {
  mkdirSync(dirname(file), { recursive: true, mode: PRIVATE_DIR_MODE });
  const refuse = (reason: string): never => {
    throw new UnsafePathError(file, `refusing to append failure records to ${file}: ${reason}`);
  };
  let fd: number;
  try {
    fd = openSync(
      file,
      constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | O_NOFOLLOW | O_NONBLOCK,
      PRIVATE_FILE_MODE,
    );
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') refuse('it is a symbolic link');
    if (code === 'ENXIO') refuse('it is not a regular file');
    throw error;
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) refuse('it is not a regular file');
    const uid = currentUid();
    if (uid !== undefined && stats.uid !== uid) {
      refuse(`it is owned by uid ${stats.uid}, not by you (uid ${uid}); remove it`);
    }
    if (uid !== undefined && (stats.mode & GROUP_OTHER_BITS) !== 0) {
      fchmodSync(fd, stats.mode & PRIVATE_FILE_MODE);
    }
    return fd;
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}
