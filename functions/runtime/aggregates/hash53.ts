// Math functions bound once: hot-path calls skip the global lookup (slow under Jest's sandbox).
const { imul } = Math;

/**
 * 53-bit non-cryptographic hash of a string (cyrb53: two multiply-xor lanes over UTF-16 code
 * units with a murmur-style finalizer). Deterministic across processes; a safe integer in
 * `[0, 2^53)`, so it is stored in JSON as a plain number.
 *
 * @example
 * ```ts
 * hash53('user-42'); // e.g. 2916345710348207
 * ```
 */
export const hash53 = (text: string, seed = 0): number => {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = imul(h1 ^ ch, 2654435761);
    h2 = imul(h2 ^ ch, 1597334677);
  }
  h1 = imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
};
