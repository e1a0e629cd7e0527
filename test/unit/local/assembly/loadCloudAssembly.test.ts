import {
  chmodSync,
  chownSync,
  mkdirSync,
  mkdtempSync,
  realpathSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack, Stage } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import {
  AssemblyLoadError,
  AssemblyPathError,
  AssetLinkError,
  UntrustedAssemblyFileError,
} from '#local/assembly/errors';
import { loadCloudAssembly } from '#local/assembly/loadCloudAssembly';
import { sharedGroupAccounts, userPrivateGroupAccounts } from '#test/helpers/accountDatabases';

const FIXTURE = join(__dirname, '../../../fixtures/assembly');
const HASH = '3f1b2c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f809';

/**
 * A directory holding `outside.json` and a cloud assembly `cdk.out` with one stack `S` (template
 * `templateFile`) and, when `assetPath` is given, one zip asset published as `code.zip` from there.
 */
function craftedAssembly(options: { templateFile?: string; assetPath?: string } = {}) {
  const parent = realpathSync(mkdtempSync(join(tmpdir(), 'assembly-')));
  const dir = join(parent, 'cdk.out');
  mkdirSync(dir);
  writeFileSync(join(parent, 'outside.json'), '{"Resources":{}}');
  writeFileSync(join(dir, 'S.template.json'), '{"Resources":{}}');
  const artifacts: Record<string, unknown> = {
    S: {
      type: 'aws:cloudformation:stack',
      properties: { templateFile: options.templateFile ?? 'S.template.json' },
    },
  };
  if (options.assetPath !== undefined) {
    artifacts['S.assets'] = { type: 'cdk:asset-manifest', properties: { file: 'S.assets.json' } };
    writeFileSync(
      join(dir, 'S.assets.json'),
      JSON.stringify({
        files: {
          code: {
            source: { path: options.assetPath, packaging: 'zip' },
            destinations: { d: { objectKey: 'code.zip' } },
          },
        },
      }),
    );
  }
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ artifacts }));
  return { parent, dir };
}

/** The uid nobody has on Linux: what a file another user planted is owned by. */
const ANOTHER_UID = 65534;

/**
 * Makes `file` look planted by another user: given to uid 65534 when the tests run as root, else owned
 * by the current user while the current uid is made to look different.
 * @returns the owner the refusal must name
 */
function plantedByAnotherUser(file: string): number {
  if (process.getuid?.() === 0) {
    chownSync(file, ANOTHER_UID, ANOTHER_UID);
    return ANOTHER_UID;
  }
  const owner = statSync(file).uid;
  jest.spyOn(process, 'getuid').mockReturnValue(owner + 1);
  return owner;
}

describe('loadCloudAssembly', () => {
  afterEach(() => {
    jest.restoreAllMocks();
  });

  it('reads the stack artifacts with their stack names and templates', () => {
    // WHEN
    const assembly = loadCloudAssembly(FIXTURE);

    // THEN
    expect(assembly.directory).toBe(FIXTURE);
    expect(assembly.stacks).toHaveLength(1);
    expect(assembly.stacks[0]).toMatchObject({
      artifactId: 'FixtureStack',
      stackName: 'Fixture',
      templateFile: join(FIXTURE, 'FixtureStack.template.json'),
    });
    expect(Object.keys(assembly.stacks[0]?.template.Resources ?? {})).toContain('Numbers');
  });

  it('maps each file asset object key to its directory in cdk.out', () => {
    // WHEN
    const assembly = loadCloudAssembly(FIXTURE);

    // THEN
    expect(assembly.assetsByObjectKey.get(`${HASH}.zip`)).toEqual({
      id: HASH,
      path: join(FIXTURE, `asset.${HASH}`),
      packaging: 'zip',
      objectKeys: [`${HASH}.zip`],
    });
  });

  it('fails with the file named when the manifest is missing', () => {
    // GIVEN
    const empty = mkdtempSync(join(tmpdir(), 'assembly-'));

    // WHEN / THEN
    expect(() => loadCloudAssembly(empty)).toThrow(AssemblyLoadError);
    expect(() => loadCloudAssembly(empty)).toThrow(join(empty, 'manifest.json'));
  });

  it('fails when a template is not valid JSON', () => {
    // GIVEN
    const broken = mkdtempSync(join(tmpdir(), 'assembly-'));
    writeFileSync(
      join(broken, 'manifest.json'),
      JSON.stringify({
        artifacts: {
          S: { type: 'aws:cloudformation:stack', properties: { templateFile: 'S.json' } },
        },
      }),
    );
    writeFileSync(join(broken, 'S.json'), '{ not json');

    // WHEN / THEN
    expect(() => loadCloudAssembly(broken)).toThrow(/not valid JSON \(.*S\.json\)/);
  });

  it('includes stacks of nested assemblies (CDK stages)', () => {
    // GIVEN
    const outer = mkdtempSync(join(tmpdir(), 'assembly-'));
    writeFileSync(
      join(outer, 'manifest.json'),
      JSON.stringify({
        artifacts: {
          Stage: { type: 'cdk:cloud-assembly', properties: { directoryName: 'nested' } },
        },
      }),
    );
    const nested = join(outer, 'nested');
    require('node:fs').mkdirSync(nested);
    writeFileSync(
      join(nested, 'manifest.json'),
      JSON.stringify({
        artifacts: {
          Inner: { type: 'aws:cloudformation:stack', properties: { templateFile: 'Inner.json' } },
        },
      }),
    );
    writeFileSync(join(nested, 'Inner.json'), '{"Resources":{}}');

    // WHEN
    const assembly = loadCloudAssembly(outer);

    // THEN
    expect(assembly.stacks.map((stack) => stack.stackName)).toEqual(['Inner']);
  });

  it('fails, naming the path, on a template path that leads out of the assembly by ..', () => {
    // GIVEN
    const { parent, dir } = craftedAssembly({ templateFile: '../outside.json' });

    // WHEN / THEN
    expect(() => loadCloudAssembly(dir)).toThrow(AssemblyPathError);
    expect(() => loadCloudAssembly(dir)).toThrow(
      `templateFile of stack artifact S is "../outside.json", which leads to ${join(parent, 'outside.json')}, outside the cloud assembly ${dir}: refusing to load it (${join(dir, 'manifest.json')})`,
    );
  });

  it('fails on a Lambda asset whose path is /etc', () => {
    // GIVEN
    const { dir } = craftedAssembly({ assetPath: '/etc' });

    // WHEN / THEN
    expect(() => loadCloudAssembly(dir)).toThrow(
      `source.path of file asset code is "/etc", which leads to /etc, outside the cloud assembly ${dir}: refusing to load it (${join(dir, 'S.assets.json')})`,
    );
  });

  it('fails on an asset directory and a template that are symlinks to outside the assembly', () => {
    // GIVEN asset.code → the directory around the assembly; S.template.json → ../outside.json
    const asset = craftedAssembly({ assetPath: 'asset.code' });
    symlinkSync(asset.parent, join(asset.dir, 'asset.code'));
    const template = craftedAssembly({ templateFile: 'linked.json' });
    symlinkSync(join(template.parent, 'outside.json'), join(template.dir, 'linked.json'));

    // WHEN / THEN
    expect(() => loadCloudAssembly(asset.dir)).toThrow(
      `source.path of file asset code is "asset.code", which leads through a symlink to ${asset.parent}, outside the cloud assembly ${asset.dir}`,
    );
    expect(() => loadCloudAssembly(template.dir)).toThrow(
      `templateFile of stack artifact S is "linked.json", which leads through a symlink to ${join(template.parent, 'outside.json')}`,
    );
  });

  it('fails on a dangling symlink to outside and on a path through a symlinked directory', () => {
    // GIVEN asset.code → a directory outside that does not exist (yet); templates/ → the parent
    const dangling = craftedAssembly({ assetPath: 'asset.code' });
    symlinkSync(join(dangling.parent, 'later'), join(dangling.dir, 'asset.code'));
    const throughDirectory = craftedAssembly({ templateFile: 'templates/outside.json' });
    symlinkSync(throughDirectory.parent, join(throughDirectory.dir, 'templates'));

    // WHEN / THEN
    expect(() => loadCloudAssembly(dangling.dir)).toThrow(
      `leads through a symlink to ${join(dangling.parent, 'later')}`,
    );
    expect(() => loadCloudAssembly(throughDirectory.dir)).toThrow(
      `leads through a symlink to ${join(throughDirectory.parent, 'outside.json')}`,
    );
  });

  it('fails on a nested assembly or an asset manifest outside the assembly', () => {
    // GIVEN
    const { parent, dir } = craftedAssembly();
    const manifest = (artifact: unknown) =>
      writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ artifacts: { X: artifact } }));

    // WHEN / THEN
    manifest({ type: 'cdk:cloud-assembly', properties: { directoryName: '..' } });
    expect(() => loadCloudAssembly(dir)).toThrow(
      `directoryName of nested assembly artifact X is "..", which leads to ${parent}`,
    );
    manifest({ type: 'cdk:asset-manifest', properties: { file: '../outside.json' } });
    expect(() => loadCloudAssembly(dir)).toThrow(
      `file of asset manifest artifact X is "../outside.json", which leads to ${join(parent, 'outside.json')}`,
    );
  });

  it('loads symlinks that stay inside the assembly, and an assembly reached through a symlink', () => {
    // GIVEN asset.code → asset.real inside the assembly, and a link to the whole assembly
    const { parent, dir } = craftedAssembly({ assetPath: 'asset.code' });
    mkdirSync(join(dir, 'asset.real'));
    symlinkSync(join(dir, 'asset.real'), join(dir, 'asset.code'));
    symlinkSync(dir, join(parent, 'link'));

    // WHEN
    const assembly = loadCloudAssembly(join(parent, 'link'));

    // THEN
    expect(assembly.assetsByObjectKey.get('code.zip')?.path).toBe(
      join(parent, 'link', 'asset.code'),
    );
  });

  it('loads a CDK stage, whose asset manifest names its assets ../asset.<hash>', () => {
    // GIVEN a real synthesized stage with a Lambda asset
    const outdir = mkdtempSync(join(tmpdir(), 'cdk-out-'));
    const code = mkdtempSync(join(tmpdir(), 'code-'));
    writeFileSync(join(code, 'index.js'), 'exports.handler = async () => 1;');
    const app = new App({ outdir });
    new lambda.Function(new Stack(new Stage(app, 'Dev'), 'S'), 'F', {
      runtime: lambda.Runtime.NODEJS_24_X,
      handler: 'index.handler',
      code: lambda.Code.fromAsset(code),
    });
    app.synth();

    // WHEN
    const assembly = loadCloudAssembly(outdir);

    // THEN the nested stack is loaded, and its asset is in the top directory
    expect(assembly.stacks.map((stack) => stack.stackName)).toEqual(['Dev-S']);
    const [asset] = [...assembly.assetsByObjectKey.values()].filter((a) => a.packaging === 'zip');
    expect(asset?.id).toMatch(/^[0-9a-f]{64}$/);
    expect(asset?.path).toBe(join(outdir, `asset.${asset?.id}`));
  });

  it('fails on an asset directory holding a symlink out of the asset (asset.abc/index.js -> elsewhere)', () => {
    // GIVEN the handler file of a Lambda asset is a link to a file beside the assembly
    const { parent, dir } = craftedAssembly({ assetPath: 'asset.abc' });
    const asset = join(dir, 'asset.abc');
    mkdirSync(asset);
    writeFileSync(join(parent, 'elsewhere.js'), 'exports.handler = async () => "outside";');
    symlinkSync('../../elsewhere.js', join(asset, 'index.js'));

    // WHEN / THEN
    expect(() => loadCloudAssembly(dir)).toThrow(AssetLinkError);
    expect(() => loadCloudAssembly(dir)).toThrow(
      `${join(asset, 'index.js')} in file asset code is a symbolic link to "../../elsewhere.js", which leads to ${join(parent, 'elsewhere.js')}, outside the asset directory ${asset}: refusing to load it (${join(dir, 'S.assets.json')})`,
    );
  });

  it('fails on a symlink deep in an asset that leads to another asset, or through a linked folder', () => {
    // GIVEN lib/util.js -> ../../asset.other/util.js; and lib2 -> lib, lib2/x.js -> ../../.. (the assembly)
    const other = craftedAssembly({ assetPath: 'asset.abc' });
    mkdirSync(join(other.dir, 'asset.abc', 'lib'), { recursive: true });
    mkdirSync(join(other.dir, 'asset.other'));
    writeFileSync(join(other.dir, 'asset.other', 'util.js'), '');
    symlinkSync('../../asset.other/util.js', join(other.dir, 'asset.abc', 'lib', 'util.js'));
    const through = craftedAssembly({ assetPath: 'asset.abc' });
    mkdirSync(join(through.dir, 'asset.abc', 'lib'), { recursive: true });
    symlinkSync('lib', join(through.dir, 'asset.abc', 'lib2'));
    symlinkSync('..', join(through.dir, 'asset.abc', 'lib', 'up'));
    symlinkSync('lib/up/..', join(through.dir, 'asset.abc', 'escape'));

    // WHEN / THEN
    expect(() => loadCloudAssembly(other.dir)).toThrow(
      `leads to ${join(other.dir, 'asset.other', 'util.js')}, outside the asset directory`,
    );
    expect(() => loadCloudAssembly(through.dir)).toThrow(
      `${join(through.dir, 'asset.abc', 'escape')} in file asset code is a symbolic link to "lib/up/..", which leads to ${through.dir}, outside the asset directory`,
    );
  });

  it('loads an asset whose symlinks stay inside it', () => {
    // GIVEN node_modules/.bin/tool -> ../tool/cli.js, as npm leaves them
    const { dir } = craftedAssembly({ assetPath: 'asset.abc' });
    const asset = join(dir, 'asset.abc');
    mkdirSync(join(asset, 'node_modules', '.bin'), { recursive: true });
    mkdirSync(join(asset, 'node_modules', 'tool'));
    writeFileSync(join(asset, 'node_modules', 'tool', 'cli.js'), '');
    symlinkSync('../tool/cli.js', join(asset, 'node_modules', '.bin', 'tool'));

    // WHEN / THEN
    expect(loadCloudAssembly(dir).assetsByObjectKey.get('code.zip')?.path).toBe(asset);
  });

  it('fails on a template that another user may have written: owned by them, or writable by anyone', () => {
    // GIVEN one template planted by another user, one that anyone may write to
    const planted = craftedAssembly();
    const template = join(planted.dir, 'S.template.json');
    const writable = craftedAssembly();
    chmodSync(join(writable.dir, 'S.template.json'), 0o666);

    // WHEN / THEN
    expect(() => loadCloudAssembly(writable.dir)).toThrow(
      `refusing to read it (${join(writable.dir, 'S.template.json')})`,
    );
    expect(() => loadCloudAssembly(writable.dir)).toThrow('anyone may write to it (mode 0666)');
    const owner = plantedByAnotherUser(template);
    expect(() => loadCloudAssembly(planted.dir)).toThrow(UntrustedAssemblyFileError);
    expect(() => loadCloudAssembly(planted.dir)).toThrow(
      `it is owned by uid ${owner}, neither by you (uid ${process.getuid?.()}) nor by root, so another user may have written it: refusing to read it (${template})`,
    );
  });

  it('fails on a template that members of a shared group may write (umask 002, group `users`)', () => {
    // GIVEN a group-writable template of the user's primary group, which another account has too
    const { dir } = craftedAssembly();
    const template = join(dir, 'S.template.json');
    chownSync(template, process.getuid?.() ?? 0, process.getgid?.() ?? 0);
    chmodSync(template, 0o664);

    // WHEN / THEN
    const loading = () => loadCloudAssembly(dir, { accounts: sharedGroupAccounts() });
    expect(loading).toThrow(UntrustedAssemblyFileError);
    expect(loading).toThrow(
      `it may be written by members of group users (mode 0664), so another user may have written it: refusing to read it; run \`chmod g-w ${template}\`, or synthesize again with umask 022 (${template})`,
    );
  });

  it('reads a group-writable template of the user-private group (umask 002, group of one)', () => {
    // GIVEN every file of the assembly group-writable, as umask 002 leaves them
    const { dir } = craftedAssembly();
    for (const file of ['manifest.json', 'S.template.json']) {
      chownSync(join(dir, file), process.getuid?.() ?? 0, process.getgid?.() ?? 0);
      chmodSync(join(dir, file), 0o664);
    }

    // WHEN
    const assembly = loadCloudAssembly(dir, { accounts: userPrivateGroupAccounts() });

    // THEN
    expect(assembly.stacks.map((stack) => stack.stackName)).toEqual(['S']);
  });
});
