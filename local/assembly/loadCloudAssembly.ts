import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  ASSET_MANIFEST_ARTIFACT_TYPE,
  NESTED_ASSEMBLY_ARTIFACT_TYPE,
  STACK_ARTIFACT_TYPE,
} from './constants';
import { AssemblyLoadError } from './errors';
import type { CfnTemplate, CloudAssembly, FileAsset, StackArtifact } from './types';

interface ManifestArtifact {
  readonly type?: string;
  readonly properties?: {
    readonly templateFile?: string;
    readonly stackName?: string;
    readonly file?: string;
    readonly directoryName?: string;
  };
}

interface AssetManifest {
  readonly files?: Record<
    string,
    {
      readonly source?: { readonly path?: string; readonly packaging?: string };
      readonly destinations?: Record<string, { readonly objectKey?: string }>;
    }
  >;
}

function readJson<T>(file: string): T {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new AssemblyLoadError('cannot read file of the cloud assembly', file, { cause: error });
  }
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new AssemblyLoadError('not valid JSON', file, { cause: error });
  }
}

function collect(directory: string, stacks: StackArtifact[], assets: Map<string, FileAsset>): void {
  const manifestFile = join(directory, 'manifest.json');
  const manifest = readJson<{ artifacts?: Record<string, ManifestArtifact> }>(manifestFile);
  for (const [artifactId, artifact] of Object.entries(manifest.artifacts ?? {})) {
    const properties = artifact.properties ?? {};
    if (artifact.type === STACK_ARTIFACT_TYPE) {
      if (properties.templateFile === undefined) {
        throw new AssemblyLoadError(
          `stack artifact ${artifactId} has no templateFile`,
          manifestFile,
        );
      }
      const templateFile = join(directory, properties.templateFile);
      stacks.push({
        artifactId,
        stackName: properties.stackName ?? artifactId,
        templateFile,
        template: readJson<CfnTemplate>(templateFile),
      });
    } else if (artifact.type === ASSET_MANIFEST_ARTIFACT_TYPE && properties.file !== undefined) {
      const assetManifest = readJson<AssetManifest>(join(directory, properties.file));
      for (const [id, file] of Object.entries(assetManifest.files ?? {})) {
        if (file.source?.path === undefined) continue; // built by an executable: nothing on disk
        const asset: FileAsset = {
          id,
          path: join(directory, file.source.path),
          packaging: file.source.packaging === 'zip' ? 'zip' : 'file',
          objectKeys: Object.values(file.destinations ?? {}).flatMap((destination) =>
            destination.objectKey === undefined ? [] : [destination.objectKey],
          ),
        };
        for (const key of asset.objectKeys) assets.set(key, asset);
      }
    } else if (
      artifact.type === NESTED_ASSEMBLY_ARTIFACT_TYPE &&
      properties.directoryName !== undefined
    ) {
      collect(join(directory, properties.directoryName), stacks, assets);
    }
  }
}

/**
 * Reads a synthesized cloud assembly (cdk.out): its stacks' templates and the file assets their
 * resources point at, so a Lambda's `Code: { S3Bucket, S3Key: '<hash>.zip' }` maps to
 * `cdk.out/asset.<hash>/`. Nested assemblies (CDK stages) are included.
 *
 * @example
 * ```ts
 * const assembly = loadCloudAssembly('cdk.out');
 * console.log(assembly.stacks.map((stack) => stack.stackName));
 * ```
 * @throws AssemblyLoadError if the manifest, a template or an asset manifest cannot be read
 */
export function loadCloudAssembly(directory: string): CloudAssembly {
  const absolute = resolve(directory);
  const stacks: StackArtifact[] = [];
  const assetsByObjectKey = new Map<string, FileAsset>();
  collect(absolute, stacks, assetsByObjectKey);
  return { directory: absolute, stacks, assetsByObjectKey };
}
