/** No local runtime is verified to run in a project directory, so its endpoints are not used. */
export class NoLocalRuntimeError extends Error {
  /** The project directory that has no running runtime. */
  public readonly projectDir: string;
  /** Why a state file there was ignored (stale, invalid, not trusted …); undefined when there is none. */
  public readonly reason: string | undefined;

  public constructor(projectDir: string, reason?: string) {
    super(
      `no local runtime is running here; start one with \`shardflow local up\`${reason === undefined ? '' : ` (ignored ${reason})`}`,
    );
    this.name = 'NoLocalRuntimeError';
    this.projectDir = projectDir;
    this.reason = reason;
  }
}
