/** Runs the shardflow CLI and resolves to the process exit code. */
export async function main(_argv: string[]): Promise<number> {
  return 0;
}
