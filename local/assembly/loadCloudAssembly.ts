import { readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import {
  ASSET_MANIFEST_ARTIFACT_TYPE,
  MAX_SYMLINKS,
  NESTED_ASSEMBLY_ARTIFACT_TYPE,
  STACK_ARTIFACT_TYPE,
} from './constants';
import { AssemblyLoadError, AssemblyPathError } from './errors';
import type { CfnTemplate, CloudAssembly, FileAsset, StackArtifact } from './types';

interface ManifestArtifact {
  readonly type?: string;
  readonly properties?: {
    readonly templateFile?: unknown;
    readonly stackName?: string;
    readonly file?: unknown;
    readonly directoryName?: unknown;
  };
}

interface AssetManifest {
  readonly files?: Record<
    string,
    {
      readonly source?: { readonly path?: unknown; readonly packaging?: string };
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

/** The top directory of a cloud assembly: every path its manifests name must stay inside it. */
interface AssemblyRoot {
  /** Absolute path, as given. */
  readonly path: string;
  /** Absolute path, symlinks resolved. */
  readonly realPath: string;
}

/** Whether a path relative to a directory leads out of it. */
function leadsOut(pathFromRoot: string): boolean {
  return pathFromRoot === '..' || pathFromRoot.startsWith(`..${sep}`) || isAbsolute(pathFromRoot);
}

/**
 * The real path of `file` with every symlink resolved, also when `file` (or a symlink on the way)
 * does not exist yet: a dangling symlink is followed to where it points.
 */
function realPathOf(file: string, links = 0): string {
  try {
    return realpathSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') {
      throw new AssemblyLoadError('cannot resolve path in the cloud assembly', file, {
        cause: error,
      });
    }
  }
  const parent = dirname(file);
  const realParent = parent === file ? parent : realPathOf(parent, links);
  const here = join(realParent, basename(file));
  let target: string;
  try {
    target = readlinkSync(here);
  } catch {
    return here; // missing, not a symlink: reading it fails later with its name
  }
  if (links >= MAX_SYMLINKS) {
    throw new AssemblyLoadError('too many levels of symbolic links', file);
  }
  return realPathOf(resolve(realParent, target), links + 1);
}

/**
 * `written`, a path named by `file` (a manifest), resolved against `directory`; refused with an
 * {@link AssemblyPathError} when it leads out of the assembly root, by `..`, as an absolute path or
 * through a symlink.
 */
function insideAssembly(
  root: AssemblyRoot,
  directory: string,
  written: unknown,
  what: string,
  file: string,
): string {
  if (typeof written !== 'string' || written === '') {
    throw new AssemblyLoadError(`${what} is not a path: ${JSON.stringify(written)}`, file);
  }
  const resolved = resolve(directory, written);
  const details = { what, path: written, assemblyDirectory: root.path };
  if (leadsOut(relative(root.path, resolved))) {
    throw new AssemblyPathError(
      { ...details, resolvedPath: resolved, throughSymlink: false },
      file,
    );
  }
  const real = realPathOf(resolved);
  if (leadsOut(relative(root.realPath, real))) {
    throw new AssemblyPathError({ ...details, resolvedPath: real, throughSymlink: true }, file);
  }
  return resolved;
}

function collect(
  root: AssemblyRoot,
  directory: string,
  stacks: StackArtifact[],
  assets: Map<string, FileAsset>,
): void {
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
      const templateFile = insideAssembly(
        root,
        directory,
        properties.templateFile,
        `templateFile of stack artifact ${artifactId}`,
        manifestFile,
      );
      stacks.push({
        artifactId,
        stackName: properties.stackName ?? artifactId,
        templateFile,
        template: readJson<CfnTemplate>(templateFile),
      });
    } else if (artifact.type === ASSET_MANIFEST_ARTIFACT_TYPE && properties.file !== undefined) {
      const assetManifestFile = insideAssembly(
        root,
        directory,
        properties.file,
        `file of asset manifest artifact ${artifactId}`,
        manifestFile,
      );
      const assetManifest = readJson<AssetManifest>(assetManifestFile);
      for (const [id, file] of Object.entries(assetManifest.files ?? {})) {
        if (file.source?.path === undefined) continue; // built by an executable: nothing on disk
        const asset: FileAsset = {
          id,
          // Relative to the asset manifest's directory: `../asset.<hash>` in a nested assembly.
          path: insideAssembly(
            root,
            dirname(assetManifestFile),
            file.source.path,
            `source.path of file asset ${id}`,
            assetManifestFile,
          ),
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
      const nested = insideAssembly(
        root,
        directory,
        properties.directoryName,
        `directoryName of nested assembly artifact ${artifactId}`,
        manifestFile,
      );
      collect(root, nested, stacks, assets);
    }
  }
}

/**
 * Reads a synthesized cloud assembly (cdk.out): its stacks' templates and the file assets their
 * resources point at, so a Lambda's `Code: { S3Bucket, S3Key: '<hash>.zip' }` maps to
 * `cdk.out/asset.<hash>/`. Nested assemblies (CDK stages) are included.
 *
 * Every path the manifests name — templates, asset manifests, nested assemblies, assets — must stay
 * inside `directory`, with `..` and symlinks followed: an assembly whose manifest points elsewhere (a
 * template outside it, a Lambda asset at `/etc`) is refused, since its functions would run from there.
 *
 * @example
 * ```ts
 * const assembly = loadCloudAssembly('cdk.out');
 * console.log(assembly.stacks.map((stack) => stack.stackName));
 * ```
 * @throws AssemblyLoadError if the manifest, a template or an asset manifest cannot be read
 * @throws AssemblyPathError if a path of the manifests leads out of `directory`
 */
export function loadCloudAssembly(directory: string): CloudAssembly {
  const absolute = resolve(directory);
  const root = { path: absolute, realPath: realPathOf(absolute) };
  const stacks: StackArtifact[] = [];
  const assetsByObjectKey = new Map<string, FileAsset>();
  collect(root, absolute, stacks, assetsByObjectKey);
  return { directory: absolute, stacks, assetsByObjectKey };
}
