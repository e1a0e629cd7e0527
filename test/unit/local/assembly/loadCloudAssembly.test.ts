import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AssemblyLoadError } from '#local/assembly/errors';
import { loadCloudAssembly } from '#local/assembly/loadCloudAssembly';

const FIXTURE = join(__dirname, '../../../fixtures/assembly');
const HASH = '3f1b2c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f809';

describe('loadCloudAssembly', () => {
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
});
