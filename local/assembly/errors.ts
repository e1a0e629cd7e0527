/** Base error of the assembly module: loading a cloud assembly or deploying it on the engines. */
export class AssemblyError extends Error {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'AssemblyError';
  }
}

/** The cloud assembly directory cannot be read: missing or malformed manifest, template or asset manifest. */
export class AssemblyLoadError extends AssemblyError {
  /** The file that could not be read or parsed. */
  public readonly file: string;

  public constructor(message: string, file: string, options?: ErrorOptions) {
    super(`${message} (${file})`, options);
    this.name = 'AssemblyLoadError';
    this.file = file;
  }
}

/**
 * A path in the cloud assembly's manifests (a template, a nested assembly, an asset manifest, an asset)
 * leads out of the assembly directory — through `..`, as an absolute path or through a symlink — so the
 * assembly is refused rather than read or run from there.
 */
export class AssemblyPathError extends AssemblyLoadError {
  /** The path as written in the manifest. */
  public readonly path: string;
  /** Where it leads, symlinks resolved. */
  public readonly resolvedPath: string;
  /** The cloud assembly directory it must stay in. */
  public readonly assemblyDirectory: string;

  public constructor(
    details: {
      /** What the path is (`templateFile of stack artifact App`). */
      readonly what: string;
      readonly path: string;
      readonly resolvedPath: string;
      readonly assemblyDirectory: string;
      /** Whether it leads out only once symlinks are followed. */
      readonly throughSymlink: boolean;
    },
    file: string,
  ) {
    super(
      `${details.what} is ${JSON.stringify(details.path)}, which leads${details.throughSymlink ? ' through a symlink' : ''} to ${details.resolvedPath}, outside the cloud assembly ${details.assemblyDirectory}: refusing to load it`,
      file,
    );
    this.name = 'AssemblyPathError';
    this.path = details.path;
    this.resolvedPath = details.resolvedPath;
    this.assemblyDirectory = details.assemblyDirectory;
  }
}

/**
 * A symbolic link inside a Lambda code asset leads out of the asset's directory (`asset.abc/index.js ->
 * ../../elsewhere.js`): the function would run code from outside what was synthesized, so the assembly
 * is refused.
 */
export class AssetLinkError extends AssemblyLoadError {
  /** The symbolic link. */
  public readonly link: string;
  /** Where it leads, symlinks resolved. */
  public readonly resolvedPath: string;
  /** The asset directory it must stay in. */
  public readonly assetDirectory: string;

  public constructor(
    details: {
      /** The asset (`file asset <id>`). */
      readonly what: string;
      readonly link: string;
      /** The link's target, as written. */
      readonly target: string;
      readonly resolvedPath: string;
      readonly assetDirectory: string;
    },
    file: string,
  ) {
    super(
      `${details.link} in ${details.what} is a symbolic link to ${JSON.stringify(details.target)}, which leads to ${details.resolvedPath}, outside the asset directory ${details.assetDirectory}: refusing to load it`,
      file,
    );
    this.name = 'AssetLinkError';
    this.link = details.link;
    this.resolvedPath = details.resolvedPath;
    this.assetDirectory = details.assetDirectory;
  }
}

/**
 * A file of the cloud assembly (manifest, template, asset manifest) may have been written by another
 * user: it is owned by someone who is neither the current user nor root, anyone may write to it, or
 * members of a group that is not the user's private group may. A template decides what runs
 * (environment variables such as `NODE_OPTIONS`, handlers, code assets), so the assembly is refused.
 */
export class UntrustedAssemblyFileError extends AssemblyLoadError {
  /** Owner of the file (uid). */
  public readonly owner: number;

  /**
   * @param reason - why another user may have written it (`anyone may write to it (mode 0666)`)
   * @param fix - what makes the file trusted, appended after the refusal
   */
  public constructor(reason: string, file: string, owner: number, fix?: string) {
    super(
      `${reason}, so another user may have written it: refusing to read it${fix === undefined ? '' : `; ${fix}`}`,
      file,
    );
    this.name = 'UntrustedAssemblyFileError';
    this.owner = owner;
  }
}

/** A CloudFormation intrinsic function or reference cannot be resolved locally. */
export class IntrinsicResolutionError extends AssemblyError {
  /** Stack whose template holds the expression. */
  public readonly stack: string;
  /** The expression, as written in the template. */
  public readonly expression: unknown;

  public constructor(message: string, stack: string, expression: unknown, options?: ErrorOptions) {
    super(`${message} in stack ${stack}: ${JSON.stringify(expression)}`, options);
    this.name = 'IntrinsicResolutionError';
    this.stack = stack;
    this.expression = expression;
  }
}

/** A resource cannot be created on the engines, or its definition cannot be run locally. */
export class DeploymentError extends AssemblyError {
  /** Stack of the resource. */
  public readonly stack: string;
  /** Logical id of the resource in the template. */
  public readonly logicalId: string;

  public constructor(message: string, stack: string, logicalId: string, options?: ErrorOptions) {
    super(`${stack}/${logicalId}: ${message}`, options);
    this.name = 'DeploymentError';
    this.stack = stack;
    this.logicalId = logicalId;
  }
}

/**
 * An event source mapping would invoke a shardflow windowed handler (a function with
 * `SHARDFLOW_WINDOW_KIND`) with concurrent batches per shard: its window state is fenced per
 * shard, so records would be lost.
 */
export class WindowedParallelizationError extends DeploymentError {
  /** Physical name of the windowed handler. */
  public readonly functionName: string;
  /** The pipeline the handler runs (`SHARDFLOW_PIPELINE`), if the function names it. */
  public readonly pipeline: string | undefined;
  /** The mapping's `ParallelizationFactor`, as resolved from the template. */
  public readonly parallelizationFactor: unknown;

  public constructor(
    stack: string,
    logicalId: string,
    details: {
      readonly functionName: string;
      readonly pipeline: string | undefined;
      readonly windowKind: string;
      readonly parallelizationFactor: unknown;
    },
  ) {
    const handler = `${details.functionName}, the handler of ${details.windowKind} windowed pipeline ${details.pipeline ?? '(unnamed)'}`;
    super(
      `ParallelizationFactor must be absent or 1 for a mapping to ${handler}, got ${JSON.stringify(details.parallelizationFactor)}: ` +
        'window state is fenced per shard, and concurrent batches of one shard would lose records; ' +
        'give the stream more shards instead',
      stack,
      logicalId,
    );
    this.name = 'WindowedParallelizationError';
    this.functionName = details.functionName;
    this.pipeline = details.pipeline;
    this.parallelizationFactor = details.parallelizationFactor;
  }
}
