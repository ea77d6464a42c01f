/**
 * Owner and agent tokens (DESIGN.md §2): every token is `id + 256-bit secret`. The server keeps a
 * verifier (HKDF of the secret) for look-up and the key material the token may use, wrapped under
 * a key-encryption key also derived from the secret. Without the secret, neither the verifier nor
 * the stored wrap yields a key.
 *
 * Token text: `cvt1.<vault_id>.<token_id>.<secret: 43 base64url chars>`.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { hkdf, open, seal } from './crypto.js';
import { wrapAad } from './aad.js';
import { isTokenId, isVaultId, newTokenId, type TokenId, type VaultId } from '../lib/ids.js';

/** A parsed client token. `secret` is 32 bytes. */
export interface ParsedToken {
  readonly vaultId: VaultId;
  readonly tokenId: TokenId;
  readonly secret: Buffer;
}

/** A freshly minted token: the text to hand to its holder once, and what the server stores. */
export interface MintedToken {
  readonly text: string;
  readonly tokenId: TokenId;
  /** base64url verifier stored for look-up (32 bytes). */
  readonly verifier: string;
  /** Key-encryption key derived from the secret (never stored). */
  readonly kek: Buffer;
}

const SECRET_RE = /^[A-Za-z0-9_-]{43}$/;

/** Mints a new token for `vaultId` with a fresh token id and 256-bit secret. */
export function mintToken(vaultId: VaultId): MintedToken {
  const tokenId = newTokenId();
  const secret = randomBytes(32);
  return {
    text: `cvt1.${vaultId}.${tokenId}.${secret.toString('base64url')}`,
    tokenId,
    verifier: verifierFor(secret, tokenId),
    kek: kekFor(secret, tokenId),
  };
}

/** Parses token text; returns undefined when it does not have the token shape. */
export function parseToken(text: string): ParsedToken | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || parts[0] !== 'cvt1') return undefined;
  const [, vaultId, tokenId, secret] = parts;
  if (!isVaultId(vaultId) || !isTokenId(tokenId) || secret === undefined || !SECRET_RE.test(secret)) return undefined;
  return { vaultId, tokenId, secret: Buffer.from(secret, 'base64url') };
}

/** Verifier stored for look-up: HKDF-SHA256(secret, salt=tokenId, info="clavitor/v1/verifier"), base64url. */
export function verifierFor(secret: Buffer, tokenId: string): string {
  return hkdf(secret, tokenId, 'clavitor/v1/verifier').toString('base64url');
}

/** Key-encryption key: HKDF-SHA256(secret, salt=tokenId, info="clavitor/v1/kek"). */
export function kekFor(secret: Buffer, tokenId: string): Buffer {
  return hkdf(secret, tokenId, 'clavitor/v1/kek');
}

/** Constant-time comparison of a presented secret's verifier with the stored one. */
export function verifierMatches(secret: Buffer, tokenId: string, stored: string): boolean {
  const a = Buffer.from(verifierFor(secret, tokenId), 'base64url');
  const b = Buffer.from(stored, 'base64url');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Wraps key material (concatenated keys) for a token. */
export function wrapKeys(kek: Buffer, vaultId: string, tokenId: string, keys: Buffer): string {
  return seal(kek, keys, wrapAad(vaultId, tokenId));
}

/** Unwraps key material for a token. Throws DECRYPT_FAILED (CV-4004) on a wrong key. */
export function unwrapKeys(kek: Buffer, vaultId: string, tokenId: string, wrapped: string): Buffer {
  return open(kek, wrapped, wrapAad(vaultId, tokenId));
}
