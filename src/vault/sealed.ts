/**
 * The `sealed` tier (DESIGN.md §2, issue 6 item 2): values encrypted by the client before upload,
 * so the server only ever holds ciphertext (which it then wraps once more under the owner-tier key).
 * `clavitor-cli` seals and opens; the server only checks the shape (`isSealedCiphertext`), so that
 * a client that forgot to encrypt is refused instead of storing plaintext in the sealed tier.
 *
 * Keys: one scrypt per vault and passphrase — scrypt(passphrase, salt = "clavitor/v1/seal|<vault_id>",
 * N = 2^15, r = 8, p = 1) — then, per value, HKDF-SHA256(master, salt = 16 random bytes) as the
 * AES-256-GCM key. AAD `clavitor/v1|sealed|<vault_id>|<label>` binds the value to its vault and field
 * label (the entry id is not known to the client before the server creates it; the server's outer
 * layer binds entry, field and revision, see aad.ts).
 *
 * Wire form: `cs1.` + base64url(salt[16] ‖ iv[12] ‖ ciphertext ‖ tag[16]).
 */
import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto';
import { hkdf, KEY_BYTES } from './crypto.js';

/** Prefix of a client-sealed value. */
export const SEALED_PREFIX = 'cs1.';
const SALT = 16;
const IV = 12;
const TAG = 16;
const SHAPE = new RegExp(`^cs1\\.[A-Za-z0-9_-]{${Math.ceil(((SALT + IV + TAG) * 4) / 3)},}$`);

/** Shortest passphrase accepted, in characters. */
export const MIN_PASSPHRASE_CHARS = 16;

/** True when `value` has the shape of a client-sealed value (it says nothing about the key). */
export function isSealedCiphertext(value: string): boolean {
  return SHAPE.test(value);
}

/** AAD of a sealed value. */
export function sealedAad(vaultId: string, label: string): string {
  return `clavitor/v1|sealed|${vaultId}|${label}`;
}

/**
 * Derives the 32-byte master seal key of `vaultId` from `passphrase` (scrypt, about 100 ms and
 * 32 MiB). Throws RangeError when the passphrase is shorter than MIN_PASSPHRASE_CHARS.
 */
export function deriveSealKey(passphrase: string, vaultId: string): Buffer {
  if (passphrase.length < MIN_PASSPHRASE_CHARS) throw new RangeError(`seal passphrase must have at least ${MIN_PASSPHRASE_CHARS} characters`);
  return scryptSync(passphrase, `clavitor/v1/seal|${vaultId}`, KEY_BYTES, { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 });
}

/** Seals `plaintext` for field `label` of vault `vaultId` under the master key; returns the `cs1.` form. */
export function sealValue(master: Buffer, vaultId: string, label: string, plaintext: string): string {
  const salt = randomBytes(SALT);
  const iv = randomBytes(IV);
  const c = createCipheriv('aes-256-gcm', hkdf(master, salt.toString('base64url'), 'clavitor/v1/sealed-value'), iv);
  c.setAAD(Buffer.from(sealedAad(vaultId, label), 'utf8'));
  const body = Buffer.concat([c.update(plaintext, 'utf8'), c.final()]);
  return SEALED_PREFIX + Buffer.concat([salt, iv, body, c.getAuthTag()]).toString('base64url');
}

/**
 * Opens a `cs1.` value sealed for `label` of `vaultId`. Throws Error('sealed value cannot be
 * opened') on a wrong key, a moved value (other vault or label), or a malformed blob.
 */
export function openValue(master: Buffer, vaultId: string, label: string, sealed: string): string {
  try {
    if (!isSealedCiphertext(sealed)) throw new Error('shape');
    const raw = Buffer.from(sealed.slice(SEALED_PREFIX.length), 'base64url');
    const salt = raw.subarray(0, SALT);
    const iv = raw.subarray(SALT, SALT + IV);
    const d = createDecipheriv('aes-256-gcm', hkdf(master, salt.toString('base64url'), 'clavitor/v1/sealed-value'), iv);
    d.setAAD(Buffer.from(sealedAad(vaultId, label), 'utf8'));
    d.setAuthTag(raw.subarray(raw.length - TAG));
    return Buffer.concat([d.update(raw.subarray(SALT + IV, raw.length - TAG)), d.final()]).toString('utf8');
  } catch {
    throw new Error('sealed value cannot be opened');
  }
}
