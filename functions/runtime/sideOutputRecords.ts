import { createHash } from 'node:crypto';
import { RESULT_ID_LENGTH, SIDE_OUTPUT_RESERVED_FIELDS } from './constants';
import type { SideOutputDefinition, SideOutputRecord, Window, WindowResult } from './types';

/**
 * The stable id of a side-output record: sha256 hex (first 32 characters) of
 * `pipeline|output|key|windowStartMs|windowEndMs`. Every copy of the record (closer retry,
 * sweeper repair) has the same id, since it derives from the sealed final result.
 */
export const sideOutputId = (
  pipeline: string,
  output: string,
  key: string,
  window: Window,
): string =>
  createHash('sha256')
    .update(`${pipeline}|${output}|${key}|${window.start}|${window.end}`)
    .digest('hex')
    .slice(0, RESULT_ID_LENGTH);

/**
 * The side-output records (alerts) of a **final** result, by stream: for each side output whose
 * `when` holds, `{ id, pipeline, output, key, window, ...map(result), emittedAt }`. Update results
 * (`final: false`) never produce side-output records.
 *
 * @param definition - the pipeline (its name and side outputs)
 * @param result - a final window result
 * @example
 * ```ts
 * for (const { stream, record } of sideOutputRecords(errorRate, result)) sinks[stream].send(…);
 * ```
 */
export const sideOutputRecords = (
  definition: {
    readonly name: string;
    // biome-ignore lint/suspicious/noExplicitAny: side outputs of any pipeline's values
    readonly sideOutputs?: readonly SideOutputDefinition<any>[] | undefined;
  },
  result: WindowResult,
): Array<{ readonly stream: string; readonly record: SideOutputRecord }> => {
  if (!result.final || definition.sideOutputs === undefined) return [];
  const window = { start: Date.parse(result.window.start), end: Date.parse(result.window.end) };
  const records: Array<{ stream: string; record: SideOutputRecord }> = [];
  for (const output of definition.sideOutputs) {
    if (!output.when(result)) continue;
    const fields: Record<string, unknown> = { ...output.map(result) };
    for (const reserved of SIDE_OUTPUT_RESERVED_FIELDS) delete fields[reserved];
    records.push({
      stream: output.stream,
      record: {
        id: sideOutputId(definition.name, output.stream, result.key, window),
        pipeline: definition.name,
        output: output.stream,
        key: result.key,
        window: result.window,
        ...fields,
        emittedAt: result.emittedAt,
      },
    });
  }
  return records;
};
