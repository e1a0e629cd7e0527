import { InvalidWindowStoreInputError } from './errors';

/** Why a remembered element was refused: LATE (`L`), EXPIRED (`X`), STATE_TOO_LARGE (`F`). */
export type RefusalCode = 'L' | 'X' | 'F';

/** One element of a record: the record's sequence number and the element's index in it. */
export interface ElementId {
  /** Kinesis sequence number (decimal string, no leading zeros). */
  readonly sequenceNumber: string;
  /** Index of the element among its record's elements. */
  readonly ordinal: number;
  /**
   * Why it was refused.
   * @default 'L'
   */
  readonly code?: RefusalCode;
}

const DECIMAL = /^(0|[1-9]\d{0,127})$/;
const BASE36 = /^[0-9a-z]+$/;

/** `sequenceNumber.ordinal`, the id a set of element ids is compared by. */
export const elementKey = (id: ElementId): string => `${id.sequenceNumber}.${id.ordinal}`;

/**
 * Encodes a set of element ids compactly (sequence numbers of one shard share most digits): sorted,
 * the first sequence number in decimal and each next one as its distance from the previous in
 * base 36, each followed by `.ordinal` (base 36) when the ordinal is not 0 and by `~code` when the
 * code is not `L`; comma-separated. Duplicates are dropped. About 12 characters per element
 * instead of 56.
 *
 * @example
 * encodeElementIds([{ sequenceNumber: '100', ordinal: 0 }, { sequenceNumber: '136', ordinal: 1 }]); // '100,10.1'
 */
export function encodeElementIds(ids: readonly ElementId[]): string {
  const sorted = [...new Map(ids.map((id) => [elementKey(id), id])).values()]
    .map((id) => ({ seq: BigInt(id.sequenceNumber), ordinal: id.ordinal, code: id.code ?? 'L' }))
    .sort((a, b) => (a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : a.ordinal - b.ordinal));
  let previous: bigint | undefined;
  return sorted
    .map(({ seq, ordinal, code }) => {
      const head = previous === undefined ? seq.toString(10) : (seq - previous).toString(36);
      previous = seq;
      const withOrdinal = ordinal === 0 ? head : `${head}.${ordinal.toString(36)}`;
      return code === 'L' ? withOrdinal : `${withOrdinal}~${code}`;
    })
    .join(',');
}

/**
 * Decodes what {@link encodeElementIds} wrote.
 *
 * @throws {InvalidWindowStoreInputError} the text is not such an encoding
 * @example
 * decodeElementIds('100,10.1'); // [{ sequenceNumber: '100', ordinal: 0 }, { sequenceNumber: '136', ordinal: 1 }]
 */
export function decodeElementIds(text: string): ElementId[] {
  if (text === '') return [];
  let previous: bigint | undefined;
  return text.split(',').map((entry) => {
    const [part = '', code, ...more] = entry.split('~');
    const [head = '', ordinalText, ...rest] = part.split('.');
    const valid =
      rest.length === 0 &&
      more.length === 0 &&
      (code === undefined || code === 'X' || code === 'F') &&
      (previous === undefined ? DECIMAL.test(head) : BASE36.test(head)) &&
      (ordinalText === undefined || BASE36.test(ordinalText));
    if (!valid) {
      throw new InvalidWindowStoreInputError(
        `not an encoded set of element ids: ${text.slice(0, 200)}`,
        {},
      );
    }
    const seq = previous === undefined ? BigInt(head) : previous + parseBase36(head);
    previous = seq;
    return {
      sequenceNumber: seq.toString(10),
      ordinal: ordinalText === undefined ? 0 : Number.parseInt(ordinalText, 36),
      code: (code ?? 'L') as RefusalCode,
    };
  });
}

const parseBase36 = (digits: string): bigint => {
  let value = 0n;
  for (const digit of digits) value = value * 36n + BigInt(Number.parseInt(digit, 36));
  return value;
};
