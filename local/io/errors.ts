/** A path the local runtime would write private data to is not private to the current user. */
export class UnsafePathError extends Error {
  /** The offending path. */
  public readonly path: string;

  public constructor(path: string, message: string) {
    super(message);
    this.name = 'UnsafePathError';
    this.path = path;
  }
}
