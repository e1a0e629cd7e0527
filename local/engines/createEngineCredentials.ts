import { randomBytes } from 'node:crypto';
import {
  LOCAL_ACCESS_KEY_ID_PREFIX,
  LOCAL_ACCESS_KEY_ID_RANDOM_BYTES,
  LOCAL_SECRET_ACCESS_KEY_RANDOM_BYTES,
} from './constants';
import type { EngineCredentials } from './types';

/** RFC 4648 base32: upper-case letters and 2–7, all within what DynamoDB Local accepts in a key id. */
const BASE32_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/**
 * New random credentials for one run of the engines: an access key id of the prefix `SFLOCAL` and
 * 32 random base32 characters (160 bits), which every engine requires of every request, and a
 * random secret access key for the SDK to sign with (the engines check no signature).
 *
 * @example
 * ```ts
 * const { accessKeyId } = createEngineCredentials(); // 'SFLOCAL' + e.g. 'K7Q2…'
 * ```
 */
export function createEngineCredentials(): EngineCredentials {
  return {
    accessKeyId: `${LOCAL_ACCESS_KEY_ID_PREFIX}${base32(randomBytes(LOCAL_ACCESS_KEY_ID_RANDOM_BYTES))}`,
    secretAccessKey: randomBytes(LOCAL_SECRET_ACCESS_KEY_RANDOM_BYTES).toString('base64url'),
  };
}

/** Base32 (RFC 4648, no padding) of `bytes`. */
function base32(bytes: Uint8Array): string {
  let output = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      output += BASE32_ALPHABET[(buffer >>> bits) & 31];
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) output += BASE32_ALPHABET[(buffer << (5 - bits)) & 31];
  return output;
}
