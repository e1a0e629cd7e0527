import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
} from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { currentUid } from '#local/io/privateDirectory';
import { type AccountDatabase, sharedWritingGroup } from '#local/io/privateGroup';
import {
  ASSET_MANIFEST_ARTIFACT_TYPE,
  MAX_SYMLINKS,
  NESTED_ASSEMBLY_ARTIFACT_TYPE,
  OTHERS_WRITE_BIT,
  ROOT_UID,
  STACK_ARTIFACT_TYPE,
} from './constants';
import {
  AssemblyLoadError,
  AssemblyPathError,
  AssetLinkError,
  UntrustedAssemblyFileError,
} from './errors';
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

/** Options of {@link loadCloudAssembly}. */
export interface LoadCloudAssemblyOptions {
  /**
   * The account and group databases that tell whether the group of a group-writable file is the
   * current user's private group.
   * @default - /etc/passwd and /etc/group, read once per process
   */
  readonly accounts?: AccountDatabase;
}

/**
 * The text of a file of the cloud assembly, read through a descriptor that is checked first: a regular
 * file owned by the current user or root that others may not write to (nor members of its group,
 * unless it is the user's private group) — what another user planted or could still change (a template
 * setting `NODE_OPTIONS`, say) is refused.
 */
function readTrusted(file: string, accounts: AccountDatabase | undefined): string {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (error) {
    throw new AssemblyLoadError('cannot read file of the cloud assembly', file, { cause: error });
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw new AssemblyLoadError('not a regular file', file);
    const uid = currentUid();
    if (uid !== undefined && stats.uid !== uid && stats.uid !== ROOT_UID) {
      throw new UntrustedAssemblyFileError(
        `it is owned by uid ${stats.uid}, neither by you (uid ${uid}) nor by root`,
        file,
        stats.uid,
      );
    }
    if (uid !== undefined && (stats.mode & OTHERS_WRITE_BIT) !== 0) {
      throw new UntrustedAssemblyFileError(
        `anyone may write to it (mode 0${(stats.mode & 0o777).toString(8)})`,
        file,
        stats.uid,
      );
    }
    const group = sharedWritingGroup(stats, accounts);
    if (group !== undefined) {
      throw new UntrustedAssemblyFileError(
        `it may be written by members of group ${group} (mode 0${(stats.mode & 0o777).toString(8)})`,
        file,
        stats.uid,
        `run \`chmod g-w ${file}\`, or synthesize again with umask 022`,
      );
    }
    return readFileSync(fd, 'utf8');
  } catch (error) {
    if (error instanceof AssemblyLoadError) throw error;
    throw new AssemblyLoadError('cannot read file of the cloud assembly', file, { cause: error });
  } finally {
    closeSync(fd);
  }
}

function readJson<T>(file: string, accounts: AccountDatabase | undefined): T {
  const text = readTrusted(file, accounts);
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
    // The kernel's answer: Node's own realpathSync collapses `link/..` as if `link` were no link.
    return realpathSync.native(file);
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
  // Not normalized: `up/..` must go up from where `up` leads, not cancel out.
  return realPathOf(isAbsolute(target) ? target : `${realParent}${sep}${target}`, links + 1);
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

/**
 * Refuses a symbolic link anywhere in a directory asset that leads out of it — by its target as written
 * or once every link on the way is followed — since the function would run what it points to. Links
 * that stay inside the asset are left alone (the local runtime copies what they point to).
 */
function refuseLinksOutOf(asset: FileAsset, assetManifestFile: string): void {
  let realRoot: string;
  try {
    realRoot = realpathSync.native(asset.path);
    if (!lstatSync(realRoot).isDirectory()) return; // a file asset: nothing inside to check
  } catch {
    return; // missing: planning a function from it fails with its name
  }
  const visit = (directory: string, realDirectory: string): void => {
    for (const name of readdirSync(realDirectory)) {
      const entry = join(directory, name);
      const realEntry = join(realDirectory, name);
      const stats = lstatSync(realEntry);
      if (stats.isDirectory()) {
        visit(entry, realEntry);
      } else if (stats.isSymbolicLink()) {
        const target = readlinkSync(realEntry);
        const written = resolve(realDirectory, target);
        const real = realPathOf(realEntry);
        for (const leadsTo of [written, real]) {
          if (leadsOut(relative(realRoot, leadsTo))) {
            throw new AssetLinkError(
              {
                what: `file asset ${asset.id}`,
                link: entry,
                target,
                resolvedPath: leadsTo,
                assetDirectory: asset.path,
              },
              assetManifestFile,
            );
          }
        }
      }
    }
  };
  visit(asset.path, realRoot);
}

function collect(
  root: AssemblyRoot,
  directory: string,
  stacks: StackArtifact[],
  assets: Map<string, FileAsset>,
  accounts: AccountDatabase | undefined,
): void {
  const manifestFile = join(directory, 'manifest.json');
  const manifest = readJson<{ artifacts?: Record<string, ManifestArtifact> }>(
    manifestFile,
    accounts,
  );
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
        template: readJson<CfnTemplate>(templateFile, accounts),
      });
    } else if (artifact.type === ASSET_MANIFEST_ARTIFACT_TYPE && properties.file !== undefined) {
      const assetManifestFile = insideAssembly(
        root,
        directory,
        properties.file,
        `file of asset manifest artifact ${artifactId}`,
        manifestFile,
      );
      const assetManifest = readJson<AssetManifest>(assetManifestFile, accounts);
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
        if (asset.packaging === 'zip') refuseLinksOutOf(asset, assetManifestFile);
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
      collect(root, nested, stacks, assets, accounts);
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
 * So is a symbolic link inside a directory asset that leads out of that asset, and a manifest or
 * template that another user may have written (owned by neither the current user nor root, writable
 * by anyone, or writable by a group other than the user's private group: with umask 002 and a shared
 * primary group such as `users`, or in a team group, its other members may edit it).
 *
 * @example
 * ```ts
 * const assembly = loadCloudAssembly('cdk.out');
 * console.log(assembly.stacks.map((stack) => stack.stackName));
 * ```
 * @throws AssemblyLoadError if the manifest, a template or an asset manifest cannot be read
 * @throws AssemblyPathError if a path of the manifests leads out of `directory`
 * @throws AssetLinkError if a symbolic link in a directory asset leads out of the asset
 * @throws UntrustedAssemblyFileError if a manifest or template may have been written by another user
 */
export function loadCloudAssembly(
  directory: string,
  options: LoadCloudAssemblyOptions = {},
): CloudAssembly {
  const absolute = resolve(directory);
  const root = { path: absolute, realPath: realPathOf(absolute) };
  const stacks: StackArtifact[] = [];
  const assetsByObjectKey = new Map<string, FileAsset>();
  collect(root, absolute, stacks, assetsByObjectKey, options.accounts);
  return { directory: absolute, stacks, assetsByObjectKey };
}
