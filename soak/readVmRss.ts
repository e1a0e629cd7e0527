import { readFile } from 'node:fs/promises';

/**
 * Resident set size of a process from `/proc/<pid>/status` (`VmRSS`), in bytes; `undefined` where
 * there is no /proc (macOS) or the process is gone.
 */
export async function readVmRss(pid: number): Promise<number | undefined> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}
