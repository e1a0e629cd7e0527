import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { LocalState } from '#local/cli/localState';
import { alive, shardflow } from '#test/helpers/cliProcess';

const PROJECT_ROOT = path.resolve(__dirname, '../..');

describe('shardflow CLI', () => {
  let workDir: string;
  let state: LocalState | undefined;

  beforeAll(() => {
    workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'shardflow-cli-'));
  });

  afterAll(() => {
    // Whatever a failed test left running goes, so no engine outlives the suite.
    for (const pid of [state?.pid, ...(state?.enginePids ?? [])]) {
      if (pid !== undefined && alive(pid)) {
        process.kill(pid, 'SIGKILL');
      }
    }
    fs.rmSync(workDir, { recursive: true, force: true });
  });

  it('fails with usage and exit code 2 on bad arguments', async () => {
    // WHEN
    const missing = await shardflow(workDir, ['send']);
    const badNumber = await shardflow(workDir, ['tail', 'numbers', '--max', 'lots']);
    const unknown = await shardflow(workDir, ['deploy-everything']);

    // THEN
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("missing required argument 'stream'");
    expect(badNumber.code).toBe(2);
    expect(badNumber.stderr).toContain("expected a whole number ≥ 1, got 'lots'");
    expect(unknown.code).toBe(2);
  });

  it('fails to send when no local runtime or AWS target is there', async () => {
    // WHEN
    const result = await shardflow(workDir, ['send', 'numbers', '-'], '{"id":"a","value":1}\n');

    // THEN
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('no local runtime is running here');
  });

  it('runs up --detach, send, tail and down from separate processes, leaving nothing behind', async () => {
    // GIVEN the on-failure records a previous ephemeral run left behind
    const stale = `${JSON.stringify({ stale: 'a batch of the previous run' })}\n`;
    fs.mkdirSync(path.join(workDir, '.shardflow'), { recursive: true, mode: 0o700 });
    fs.writeFileSync(path.join(workDir, '.shardflow/failures.jsonl'), stale, { mode: 0o600 });

    // AND a detached local runtime, ephemeral (no --state-dir)
    const up = await shardflow(workDir, ['local', 'up', '--detach', '--app', PROJECT_ROOT]);
    expect(up.stderr).not.toContain('exited');
    expect(up.code).toBe(0);
    // THEN it starts with no failures, the previous ones kept aside where it says
    expect(up.stderr).toContain(
      "the previous run's on-failure records were moved to .shardflow/failures.previous.jsonl",
    );
    expect(fs.readFileSync(path.join(workDir, '.shardflow/failures.previous.jsonl'), 'utf8')).toBe(
      stale,
    );
    const failures = await shardflow(workDir, ['failures']);
    expect(failures.stdout).toContain('no on-failure destination records');
    expect(up.stdout).toContain('shardflow local runtime ready');
    state = JSON.parse(
      fs.readFileSync(path.join(workDir, '.shardflow/local.json'), 'utf8'),
    ) as LocalState;
    expect(state.names.numbers?.type).toBe('AWS::Kinesis::Stream');

    // WHEN events are sent by logical name and the output is tailed
    const events = [1, 2, 3, 4, 5].map((n) => JSON.stringify({ id: `e${n}`, value: n })).join('\n');
    const send = await shardflow(
      workDir,
      ['send', 'numbers', '-', '--partition-key', 'id'],
      `${events}\n`,
    );
    const tail = await shardflow(workDir, [
      'tail',
      'numbers-doubled',
      '--from-start',
      '--max',
      '5',
      '--idle-timeout',
      '90',
    ]);

    // THEN (and no AWS SDK notice about the Node version in the middle of the output)
    expect(send.code).toBe(0);
    expect(send.stdout.trim()).toBe('5');
    for (const run of [up, send, tail])
      expect(run.stderr).not.toContain('NodeVersionSupportWarning');
    expect(tail.code).toBe(0);
    const doubled = tail.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { id: string; value: number });
    expect(doubled.map((event) => [event.id, event.value]).sort()).toEqual([
      ['e1', 2],
      ['e2', 4],
      ['e3', 6],
      ['e4', 8],
      ['e5', 10],
    ]);

    // WHEN it is stopped
    const down = await shardflow(workDir, ['local', 'down']);

    // THEN the runtime and every engine process are gone
    expect(down.code).toBe(0);
    for (const pid of [state.pid, ...state.enginePids]) {
      expect(alive(pid)).toBe(false);
    }
    expect(fs.existsSync(path.join(workDir, '.shardflow/local.json'))).toBe(false);
  }, 300_000);
});
