import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { CloudAssembly, LocalFunctionDefinition } from '#local/assembly/types';
import { FunctionHost } from '#local/lambda/FunctionHost';
import { LocalRuntimeError, UnsafeFunctionCodeError } from '#local/runtime/errors';
import { FunctionCodeStore } from '#local/runtime/FunctionCodeStore';

/** The uid nobody has on Linux: what a file another user planted is owned by. */
const ANOTHER_UID = 65534;

const modeOf = (file: string): string => (fs.lstatSync(file).mode & 0o777).toString(8);

function definition(
  functionName: string,
  codeDirectory: string,
  overrides: Partial<LocalFunctionDefinition> = {},
): LocalFunctionDefinition {
  return {
    stack: 'S',
    logicalId: `${functionName}Fn`,
    functionName,
    functionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
    handler: 'index.handler',
    runtime: 'nodejs22.x',
    timeoutSeconds: 5,
    memorySizeMb: 128,
    environment: {},
    codeDirectory,
    roleArn: `arn:aws:iam::000000000000:role/${functionName}-role`,
    properties: {},
    ...overrides,
  };
}

/** A process id that no process has any more. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid as number;
}

describe('FunctionCodeStore', () => {
  let workDir: string;
  let cdkOut: string;
  let assembly: CloudAssembly;
  let base: string;
  const stores: FunctionCodeStore[] = [];
  const hosts: FunctionHost[] = [];

  /** An asset folder as `cdk synth` leaves it (0777), with an index.js returning `value`. */
  const assetReturning = (name: string, value: string): string => {
    const asset = path.join(cdkOut, name);
    fs.mkdirSync(asset);
    fs.chmodSync(asset, 0o777);
    fs.writeFileSync(
      path.join(asset, 'index.js'),
      `exports.handler = async () => ${JSON.stringify(value)};`,
    );
    return asset;
  };

  const create = (): FunctionCodeStore => {
    const store = FunctionCodeStore.create(base);
    stores.push(store);
    return store;
  };

  beforeEach(() => {
    workDir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'shardflow-code-store-')));
    cdkOut = path.join(workDir, 'cdk.out');
    fs.mkdirSync(cdkOut);
    base = path.join(workDir, 'project', '.shardflow', 'code');
    assembly = {
      directory: cdkOut,
      stacks: [
        {
          artifactId: 'S',
          stackName: 'S',
          templateFile: path.join(cdkOut, 'S.template.json'),
          template: { Resources: {} },
        },
      ],
      assetsByObjectKey: new Map(),
    };
  });

  afterEach(async () => {
    jest.restoreAllMocks();
    await Promise.all(hosts.splice(0).map((host) => host.dispose()));
    for (const store of stores.splice(0)) store.remove();
    fs.rmSync(workDir, { recursive: true, force: true });
  });

  it('makes a private folder for the run in a private base, and removes it', () => {
    // WHEN
    const store = create();

    // THEN
    expect(path.dirname(store.directory)).toBe(base);
    expect(path.basename(store.directory)).toMatch(new RegExp(`^run-${process.pid}-`));
    expect([base, store.directory].map(modeOf)).toEqual(['700', '700']);
    expect(store.inlineDirectory).toBe(path.join(store.directory, 'inline'));

    // WHEN
    store.remove();

    // THEN
    expect(fs.existsSync(store.directory)).toBe(false);
  });

  it('removes the folders of runs whose process is gone, and keeps those of live runs', async () => {
    // GIVEN
    const gone = path.join(base, `run-${await deadPid()}-abc`);
    const live = path.join(base, `run-${process.pid}-def`);
    for (const folder of [gone, live]) fs.mkdirSync(path.join(folder, 'code'), { recursive: true });

    // WHEN
    create();

    // THEN
    expect(fs.existsSync(gone)).toBe(false);
    expect(fs.existsSync(live)).toBe(true);
  });

  it('copies each code directory once and points every function at its private copy', () => {
    // GIVEN two functions sharing one asset, a third with its own
    const shared = assetReturning('asset.shared', 'shared');
    const own = assetReturning('asset.own', 'own');
    const store = create();

    // WHEN
    const staged = store.stage(assembly, [
      definition('first', shared),
      definition('second', shared),
      definition('third', own),
    ]);

    // THEN
    const [first, second, third] = staged.functions;
    expect(first?.codeDirectory).toBe(path.join(store.directory, 'code', '0-asset.shared'));
    expect(second?.codeDirectory).toBe(first?.codeDirectory);
    expect(third?.codeDirectory).toBe(path.join(store.directory, 'code', '1-asset.own'));
    expect(staged).toMatchObject({ directories: 2, files: 2 });
    expect(modeOf(path.join(third?.codeDirectory ?? '', 'index.js'))).toBe('600');
    expect(first).toEqual({ ...definition('first', shared), codeDirectory: first?.codeDirectory });
  });

  it('runs the function from its copy: what is changed in cdk.out afterwards never runs', async () => {
    // GIVEN the staged function, then another index.js put in the asset folder
    const asset = assetReturning('asset.abc', 'the developer’s code');
    const [fn] = create().stage(assembly, [definition('fn', asset)]).functions;
    fs.renameSync(path.join(asset, 'index.js'), path.join(asset, 'index.orig.js'));
    fs.writeFileSync(path.join(asset, 'index.js'), 'exports.handler = async () => "planted";');

    // WHEN
    const host = new FunctionHost(fn as LocalFunctionDefinition);
    hosts.push(host);
    const result = await host.invoke({});

    // THEN
    expect(result).toMatchObject({ ok: true, payload: 'the developer’s code' });
  });

  it('fails naming the function, its template, the planted file and its owner', () => {
    // GIVEN another user's index.js in a 0777 asset folder (as root; else the folder looks theirs)
    const asset = assetReturning('asset.abc', 'mine');
    const planted = path.join(asset, 'index.js');
    const asRoot = process.getuid?.() === 0;
    if (asRoot) fs.chownSync(planted, ANOTHER_UID, ANOTHER_UID);
    else jest.spyOn(process, 'getuid').mockReturnValue(fs.statSync(asset).uid + 1);
    const store = create();

    // WHEN
    const staging = () => store.stage(assembly, [definition('numbers', asset)]);

    // THEN
    expect(staging).toThrow(UnsafeFunctionCodeError);
    expect(staging).toThrow(
      `refusing to run function numbers (S/numbersFn in ${path.join(cdkOut, 'S.template.json')}) from ${asset}: ${asRoot ? planted : asset} is owned by uid ${asRoot ? ANOTHER_UID : fs.statSync(asset).uid}`,
    );
  });

  it('fails naming the function when its code directory cannot be read', () => {
    // GIVEN
    const store = create();

    // WHEN / THEN
    expect(() =>
      store.stage(assembly, [definition('gone', path.join(cdkOut, 'asset.gone'))]),
    ).toThrow(LocalRuntimeError);
    expect(() =>
      store.stage(assembly, [definition('gone', path.join(cdkOut, 'asset.gone'))]),
    ).toThrow(
      `cannot copy the code of function gone (S/goneFn in ${path.join(cdkOut, 'S.template.json')}) from ${path.join(cdkOut, 'asset.gone')}: ENOENT`,
    );
  });
});
