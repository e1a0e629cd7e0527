import * as fs from 'node:fs';
import * as path from 'node:path';

/** Modes of a planted state file and of its `.shardflow` folder (when the folder is created). */
export interface PlantedModes {
  /** @default 0o700, as `local up` creates it */
  readonly folder?: number;
  /** @default 0o600, as `local up` writes it */
  readonly file?: number;
}

/**
 * Writes `<projectDir>/.shardflow/local.json` (the local runtime's state file) with `fields` over a
 * minimal valid state, as `local up` writes it, or as a runtime that died (or someone) left it;
 * returns its path. `fields` is not type-checked, so tests can plant invalid files.
 *
 * @example
 * ```ts
 * const file = plantLocalState(projectDir, { pid: 4242 }, { folder: 0o755, file: 0o644 });
 * ```
 */
export function plantLocalState(
  projectDir: string,
  fields: Record<string, unknown>,
  modes: PlantedModes = {},
): string {
  const file = path.join(projectDir, '.shardflow', 'local.json');
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: modes.folder ?? 0o700 });
  fs.writeFileSync(
    file,
    JSON.stringify({
      version: 1,
      enginePids: [],
      startedAt: new Date(0).toISOString(),
      cdkOut: 'cdk.out',
      endpoints: { credentials: { accessKeyId: 'SFLOCALTEST', secretAccessKey: 'secret' } },
      names: {},
      ...fields,
    }),
    { mode: modes.file ?? 0o600 },
  );
  return file;
}
