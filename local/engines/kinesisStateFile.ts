import { copyFile, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { KINESIS_MOCK_PERSIST_INTERVAL_MS } from './constants';

/** kinesis-mock's default PERSIST_FILE_NAME. */
const STATE_FILE = 'kinesis-data.json';
/** The last complete state file, kept by a graceful stop. */
const BACKUP_FILE = `${STATE_FILE}.bak`;
/** How often to retry reading a state file that kinesis-mock is rewriting right now. */
const READ_ATTEMPTS = 10;
const READ_RETRY_MS = 100;

/**
 * Saves a complete copy of kinesis-mock's state file, to be taken before it is stopped.
 *
 * kinesis-mock rewrites the file in place, and a SIGTERM during that write sometimes leaves it
 * empty ("Cannot call write after a stream was destroyed"), which makes the next start fail with
 * `java.util.NoSuchElementException`. Waiting one persist interval first makes the copy current.
 */
export async function snapshotKinesisState(dataDir: string): Promise<void> {
  await delay(KINESIS_MOCK_PERSIST_INTERVAL_MS + 500);
  for (let attempt = 1; attempt <= READ_ATTEMPTS; attempt++) {
    const content = await readJson(join(dataDir, STATE_FILE)).catch(() => null);
    if (content === null) return; // Nothing persisted yet.
    if (content !== undefined) {
      const temporary = join(dataDir, `${BACKUP_FILE}.${process.pid}.tmp`);
      await writeFile(temporary, content);
      await rename(temporary, join(dataDir, BACKUP_FILE));
      return;
    }
    await delay(READ_RETRY_MS);
  }
}

/**
 * Makes kinesis-mock's state file loadable: a broken one is replaced by the last snapshot, or moved
 * aside (`kinesis-data.json.broken-<time>`) when there is none, so the engine starts instead of
 * crashing. Returns a message saying what was done, if anything.
 */
export async function repairKinesisState(dataDir: string): Promise<string | undefined> {
  const stateFile = join(dataDir, STATE_FILE);
  try {
    if ((await readJson(stateFile)) !== undefined) return undefined;
  } catch {
    return undefined; // No state file yet.
  }
  if ((await readJson(join(dataDir, BACKUP_FILE)).catch(() => undefined)) !== undefined) {
    await copyFile(join(dataDir, BACKUP_FILE), stateFile);
    return `${stateFile} was incomplete; restored the copy saved at the last stop`;
  }
  const aside = `${stateFile}.broken-${Date.now()}`;
  await rename(stateFile, aside);
  return `${stateFile} was incomplete and no copy exists; moved it to ${aside} and started empty`;
}

/** The file's text if it is complete JSON, undefined if not; rejects when it does not exist. */
async function readJson(path: string): Promise<string | undefined> {
  const content = await readFile(path, 'utf8');
  try {
    JSON.parse(content);
    return content;
  } catch {
    return undefined;
  }
}
