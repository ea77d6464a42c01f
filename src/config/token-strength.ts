/**
 * Token strength rule (DESIGN.md §4.2: "each token carries at least 256 bits (keygen writes
 * `clavitor-pop-v1-` followed by 43 base64url characters) … a token with too little entropy is
 * refused at start").
 *
 * Accepted shapes, each carrying at least {@link MIN_TOKEN_BYTES} bytes of material:
 * - `clavitor-pop-v1-` + at least 43 base64url characters (what `keygen` writes);
 * - hex of at least 32 bytes (64 hex digits);
 * - base64 or base64url (optionally `=`-padded) of at least 32 bytes (43 characters).
 *
 * Entropy cannot be measured from one sample, so on top of the length rule we refuse material
 * that is obviously not random: too few distinct characters or bytes, a single character class
 * where random base64 would mix letters and digits, a repeating pattern, or a counting sequence.
 * A random token trips none of these except with negligible probability (below 1e-12).
 */

/** Prefix of tokens written by `clavitor-commercial keygen`. */
export const TOKEN_PREFIX = 'clavitor-pop-v1-';
/** Minimum token material in bytes (256 bits). */
export const MIN_TOKEN_BYTES = 32;

const KEYGEN_HINT = 'generate one with: clavitor-commercial keygen --out FILE';

function distinctCount(items: Iterable<unknown>): number {
  return new Set(items).size;
}

/** Smallest period of `b` (b[i] === b[i + p] for all i), or b.length when there is none. */
function smallestPeriod(b: Uint8Array): number {
  for (let p = 1; p < b.length; p++) {
    let periodic = true;
    for (let i = 0; i + p < b.length; i++) {
      if (b[i] !== b[i + p]) {
        periodic = false;
        break;
      }
    }
    if (periodic) return p;
  }
  return b.length;
}

function isCountingSequence(b: Uint8Array): boolean {
  if (b.length < 3) return false;
  const step = ((b[1] ?? 0) - (b[0] ?? 0) + 256) % 256;
  for (let i = 2; i < b.length; i++) {
    if (((b[i] ?? 0) - (b[i - 1] ?? 0) + 256) % 256 !== step) return false;
  }
  return true;
}

function characterClasses(s: string): number {
  return [/[A-Z]/, /[a-z]/, /[0-9]/].filter((re) => re.test(s)).length;
}

/** Reason the decoded material looks non-random, or null. `text` is the encoded form. */
function nonRandomReason(text: string, bytes: Uint8Array, alphabet: 'hex' | 'base64'): string | null {
  const minChars = alphabet === 'hex' ? 10 : 16;
  if (distinctCount(text) < minChars) return `uses too few distinct characters to be random; ${KEYGEN_HINT}`;
  if (alphabet === 'base64' && characterClasses(text) < 2) {
    return `does not look random (random base64 mixes letters and digits); ${KEYGEN_HINT}`;
  }
  if (distinctCount(bytes) < 16) return `uses too few distinct byte values to be random; ${KEYGEN_HINT}`;
  if (smallestPeriod(bytes) <= bytes.length / 2) return `is a repeating pattern, not random; ${KEYGEN_HINT}`;
  if (isCountingSequence(bytes)) return `is a counting sequence, not random; ${KEYGEN_HINT}`;
  return null;
}

function tooShort(bits: number): string {
  return `is too short: ${bits} bits of material, at least ${MIN_TOKEN_BYTES * 8} required; ${KEYGEN_HINT}`;
}

/**
 * Why `token` is not strong enough to be a replication or control-plane token, or `null` when it
 * is acceptable. The reason never contains the token or any part of it.
 */
export function tokenWeakness(token: string): string | null {
  if (token === '') return 'is empty';
  if (/\s/.test(token)) return 'contains whitespace; a token is a single word';
  if (token.startsWith('#')) return `looks like a comment; a token file holds tokens only, one per line`;

  if (token.startsWith(TOKEN_PREFIX)) {
    const body = token.slice(TOKEN_PREFIX.length);
    if (!/^[A-Za-z0-9_-]*$/.test(body)) {
      return `must continue after "${TOKEN_PREFIX}" with base64url characters only (A-Z a-z 0-9 - _)`;
    }
    const bytes = Buffer.from(body, 'base64url');
    if (body.length < 43) return tooShort(bytes.length * 8);
    return nonRandomReason(body, bytes, 'base64');
  }
  if (token.startsWith('clavitor-')) return `has an unknown clavitor- prefix; expected "${TOKEN_PREFIX}"`;

  if (/^[0-9a-fA-F]+$/.test(token)) {
    if (token.length % 2 !== 0) return 'is hex with an odd number of digits';
    const bytes = Buffer.from(token, 'hex');
    if (bytes.length < MIN_TOKEN_BYTES) return tooShort(bytes.length * 8);
    return nonRandomReason(token.toLowerCase(), bytes, 'hex');
  }

  const m = /^([A-Za-z0-9+/]+|[A-Za-z0-9_-]+)(={0,2})$/.exec(token);
  if (m !== null) {
    const body = m[1] ?? '';
    const padding = m[2] ?? '';
    if (padding !== '' && token.length % 4 !== 0) return 'is base64 with malformed "=" padding';
    const bytes = Buffer.from(body.replace(/\+/g, '-').replace(/\//g, '_'), 'base64url');
    if (bytes.length < MIN_TOKEN_BYTES) return tooShort(bytes.length * 8);
    return nonRandomReason(body, bytes, 'base64');
  }
  return `is not a recognised token: expected ${TOKEN_PREFIX}…, or hex or base64 of at least ${MIN_TOKEN_BYTES} random bytes; ${KEYGEN_HINT}`;
}
