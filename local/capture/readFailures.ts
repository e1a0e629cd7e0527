import { readFileSync } from 'node:fs';
import type { CapturedFailure } from './types';

/** Reads a failure file (JSON lines); a missing file means no failures. Torn or blank lines are skipped. */
export function readFailures(file: string): CapturedFailure[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const failures: CapturedFailure[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      failures.push(JSON.parse(line) as CapturedFailure);
    } catch {
      // A line being written by the runtime right now; the next read sees it whole.
    }
  }
  return failures;
}
