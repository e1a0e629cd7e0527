/**
 * Guardian of the embedded engines: kills them when the process that started them is gone, even
 * when that process was killed with SIGKILL and could not clean up itself.
 *
 * Plain JavaScript, so it starts in milliseconds. Usage:
 *   node guardian.js PARENT_PID GRACE_MS POLL_MS [REMOVE_DIR]
 * The parent writes each engine's pid (= its process group id) to stdin, one per line. The parent
 * counts as gone when stdin reaches its end (the parent's end of the pipe closed), when the
 * guardian was re-parented, or when the parent pid no longer exists. The engines then get
 * SIGTERM, SIGKILL after GRACE_MS; the guardian removes REMOVE_DIR (kinesis-mock's private socket
 * folder), if given, and exits.
 */

const fs = require('node:fs');

const [parentPid, graceMs, pollMs] = process.argv.slice(2, 5).map(Number);
const removeDir = process.argv[5];
const engines = new Set();
let pending = '';
let stopping = false;

process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  const lines = (pending + chunk).split('\n');
  pending = lines.pop() ?? '';
  for (const line of lines) {
    const pid = Number(line);
    if (Number.isInteger(pid) && pid > 0) engines.add(pid);
  }
});
process.stdin.on('end', killEngines);
process.stdin.on('error', killEngines);
const poll = setInterval(() => {
  if (process.ppid !== parentPid || !isAlive(parentPid)) killEngines();
}, pollMs);

function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

function signalGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is gone.
  }
}

function killEngines() {
  if (stopping) return;
  stopping = true;
  clearInterval(poll);
  for (const pid of engines) signalGroup(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  const wait = setInterval(() => {
    if (Date.now() < deadline && [...engines].some(isAlive)) return;
    clearInterval(wait);
    for (const pid of engines) signalGroup(pid, 'SIGKILL');
    if (removeDir !== undefined) fs.rmSync(removeDir, { recursive: true, force: true });
    process.exit(0);
  }, 50);
}
