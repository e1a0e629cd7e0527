import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const PROJECT_ROOT = path.resolve(__dirname, '../..');
const CLI = path.join(PROJECT_ROOT, 'bin/shardflow.js');
const PIPELINES = ['enrich', 'page-views', 'sessions', 'error-rate', 'trending'];
// biome-ignore lint/suspicious/noControlCharactersInRegex: detecting ANSI codes
const ANSI = /\u001b\[/;

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Every process that descended from the demo while it ran (engines, function workers): pid → command. */
  readonly descendants: ReadonlyMap<number, string>;
  readonly wallMs: number;
  readonly endedAt: number;
}

/** Parent pid of every process, from /proc. */
function parentsOfAll(): Map<number, number> {
  const parents = new Map<number, number>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid …; comm may hold spaces and parentheses
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parents.set(Number(entry), Number(fields[1]));
    } catch {
      // the process ended while listing
    }
  }
  return parents;
}

function descendantsOf(root: number): number[] {
  const parents = parentsOfAll();
  const found = new Set([root]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, parent] of parents) {
      if (!found.has(pid) && found.has(parent)) {
        found.add(pid);
        grew = true;
      }
    }
  }
  found.delete(root);
  return [...found];
}

function commandOf(pid: number): string | undefined {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const started: ChildProcess[] = [];
const seen = new Map<number, string>();

/** Runs the demo as `npm start` does, stdout piped (not a TTY), watching its process tree. */
function demo(
  args: string[],
  onStdout?: (text: string, child: ChildProcess) => void,
): Promise<Run> {
  const began = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'demo', ...args], {
      cwd: PROJECT_ROOT,
      env: process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    started.push(child);
    const descendants = new Map<number, string>();
    const watch = setInterval(() => {
      if (child.pid === undefined) return;
      for (const pid of descendantsOf(child.pid)) {
        const command = commandOf(pid);
        if (command === undefined || descendants.has(pid)) continue;
        descendants.set(pid, command);
        seen.set(pid, command);
      }
    }, 250);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      onStdout?.(stdout, child);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      clearInterval(watch);
      resolve({
        code,
        stdout,
        stderr,
        descendants,
        wallMs: Date.now() - began,
        endedAt: Date.now(),
      });
    });
  });
}

/** A row of the summary's pipeline table: the numbers after the name. */
function summaryRow(stdout: string, pipeline: string): string[] {
  const summary = stdout.slice(stdout.indexOf('shardflow demo —'));
  const row = new RegExp(`^ +${pipeline} +\\d`);
  const line = summary.split('\n').find((l) => row.test(l)) ?? '';
  return line.trim().split(/\s+/).slice(1);
}

/** Descendants still running a few seconds after the demo exited (same pid and command: not a reused pid). */
async function leftovers(run: Run): Promise<string[]> {
  await new Promise((resolve) => setTimeout(resolve, 3000));
  return [...run.descendants]
    .filter(([pid, command]) => alive(pid) && commandOf(pid) === command)
    .map(([pid, command]) => `${pid} ${command}`);
}

describe('npm start (shardflow demo)', () => {
  afterAll(() => {
    // Whatever a failed test left running goes, so no engine outlives the suite.
    for (const child of started) if (child.exitCode === null) child.kill('SIGKILL');
    // only processes this suite started: same pid and same command as when they were seen
    for (const [pid, command] of seen) {
      if (alive(pid) && commandOf(pid) === command) process.kill(pid, 'SIGKILL');
    }
  });

  it('runs every pipeline, sends 1,000 enrich events and gets all back, prints a summary, exits 0 and leaves no process', async () => {
    // WHEN
    const run = await demo(['--duration', '20']);

    // THEN
    expect({ code: run.code, problems: run.stderr.match(/^shardflow.*$/gm) }).toEqual({
      code: 0,
      problems: null,
    });
    // issue-2 contract: every enrich event back exactly once, with put-to-output latency
    expect(run.stdout).toContain('  sent       1000\n  received   1000\n  duplicates 0\n');
    expect(run.stdout).toMatch(/ {2}latency {4}p50 \d+ ms, p99 \d+ ms \(put → output\)/);
    // not a TTY: compact progress lines, never ANSI redraws
    expect(run.stdout).not.toMatch(ANSI);
    expect(run.stdout).toMatch(/^\[\d+:\d\d\] enrich \d+→\d+ · page-views \d+→\d+ /m);
    // every pipeline got generated input and processed it
    for (const pipeline of PIPELINES) {
      const [sent, recordsIn] = summaryRow(run.stdout, pipeline).map(Number);
      expect(sent).toBeGreaterThan(0);
      expect(recordsIn).toBeGreaterThan(0);
    }
    // invalid records of the generator reached the failure streams
    const invalid = PIPELINES.slice(1).map((p) => Number(summaryRow(run.stdout, p)[6]));
    expect(invalid.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    expect(run.descendants.size).toBeGreaterThanOrEqual(2);
    expect(await leftovers(run)).toEqual([]);
    process.stderr.write(`demo --duration 20 took ${(run.wallMs / 1000).toFixed(1)} s\n`);
  }, 300_000);

  it('with --forever keeps generating until SIGINT, then stops everything and exits 0', async () => {
    // GIVEN a demo generating for ever; WHEN it is interrupted once enrich results come back
    let interruptedAt = 0;
    const run = await demo(['--forever'], (stdout, child) => {
      if (interruptedAt === 0 && /enrich \d+→[1-9]\d*/.test(stdout)) {
        interruptedAt = Date.now();
        child.kill('SIGINT');
      }
    });

    // THEN
    expect(interruptedAt).toBeGreaterThan(0);
    expect({ code: run.code, problems: run.stderr.match(/^shardflow.*$/gm) }).toEqual({
      code: 0,
      problems: null,
    });
    expect(run.stderr).toContain('stopping on SIGINT: generation stopped, tearing down');
    const sent = Number(/ {2}sent {7}(\d+)/.exec(run.stdout)?.[1]);
    const received = Number(/ {2}received {3}(\d+)/.exec(run.stdout)?.[1]);
    expect(sent).toBeGreaterThan(0);
    expect(received).toBeGreaterThan(0);
    expect(received).toBeLessThanOrEqual(sent);
    expect(run.stdout).toContain('  duplicates 0\n');
    expect(await leftovers(run)).toEqual([]);
    process.stderr.write(
      `demo --forever ended ${((run.endedAt - interruptedAt) / 1000).toFixed(1)} s after SIGINT, ${(run.wallMs / 1000).toFixed(1)} s in all\n`,
    );
  }, 300_000);
});
