/**
 * Symmetric primitives for the vault (DESIGN.md §2 "Keys"): AES-256-GCM for every ciphertext,
 * HKDF-SHA256 to derive per-purpose keys from 256-bit token secrets. `node:crypto` only.
 *
 * Ciphertext wire form: `c1.` + base64url(iv[12] ‖ ciphertext ‖ tag[16]). The AAD is never stored:
 * callers rebuild it from the context (vault, entry, field, revision), so a ciphertext moved to
 * another context fails authentication.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { cvError } from '../lib/errors.js';

/** Length in bytes of every symmetric key (AES-256). */
export const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const PREFIX = 'c1.';

/** Fresh random 256-bit key. */
export function randomKey(): Buffer {
  return randomBytes(KEY_BYTES);
}

/**
 * Encrypts `plaintext` under `key` (32 bytes) with AES-256-GCM and the given AAD string.
 * Returns the `c1.` wire form. Throws RangeError on a key of the wrong length.
 */
export function seal(key: Buffer, plaintext: Buffer | string, aad: string): string {
  if (key.length !== KEY_BYTES) throw new RangeError('key must be 32 bytes');
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const body = Buffer.concat([cipher.update(typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext), cipher.final()]);
  return PREFIX + Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url');
}

/**
 * Decrypts a `c1.` ciphertext produced by `seal` with the same key and AAD.
 * Throws ClavitorError DECRYPT_FAILED (CV-4004) when the blob is malformed, the key is wrong or
 * the AAD differs (the ciphertext was moved or altered).
 */
export function open(key: Buffer, blob: string, aad: string): Buffer {
  try {
    if (!blob.startsWith(PREFIX)) throw new Error('format');
    const raw = Buffer.from(blob.slice(PREFIX.length), 'base64url');
    if (raw.length < IV_BYTES + TAG_BYTES) throw new Error('short');
    const iv = raw.subarray(0, IV_BYTES);
    const tag = raw.subarray(raw.length - TAG_BYTES);
    const body = raw.subarray(IV_BYTES, raw.length - TAG_BYTES);
    const decipher = createDecipheriv('aes-256-gcm', key, iv);
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(body), decipher.final()]);
  } catch {
    throw cvError('DECRYPT_FAILED');
  }
}

/**
 * HKDF-SHA256 (RFC 5869) of `secret` with `salt` and `info`, returning `length` bytes (default 32).
 */
export function hkdf(secret: Buffer, salt: string, info: string, length = KEY_BYTES): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, Buffer.from(salt, 'utf8'), Buffer.from(info, 'utf8'), length));
}
