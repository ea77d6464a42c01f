/**
 * Bounded in-memory cache of verified tokens' unwrapped keys (issue 12 item 5, "fast reads").
 *
 * Authenticating a bearer token costs two HKDFs (verifier and key-encryption key) and an
 * AES-256-GCM key unwrap (tokens.ts). Once a presented token has been verified against its row,
 * its unwrapped keys are kept here, so the next request with the exact same token text skips
 * those three operations. What the cache does NOT replace:
 *
 * - The token row is still read on every request (one indexed read): a token whose row is gone
 *   (vault erased, creation quarantined) fails as before, and the row's `revoked` and `locked`
 *   flags are taken from that read, never from the cache — a committed or replicated
 *   `agent.revoke` / `agent.lock` takes effect on the very next request, on a primary and on a
 *   backup alike (DESIGN.md §2; issue 6 items 3–4). A row found revoked drops its entries.
 * - An entry hits only for the exact token text it was verified with (looked up by SHA-256 of
 *   that text, never by token id alone) AND only while the row still carries the same verifier
 *   and the same wrapped keys: a re-wrapped or re-issued row misses and is verified afresh.
 *
 * The cache holds at most `TOKEN_KEY_CACHE_ENTRIES` entries and evicts the least recently used
 * one beyond that. Neither the token text nor the secret is stored (only its SHA-256); the keys
 * live in process memory only and are never logged or serialised.
 */
import { createHash } from 'node:crypto';
import type { TierKeys } from './principal.js';

/**
 * Maximum number of cached tokens (1,024). Each entry is the 64 bytes of unwrapped keys plus the
 * row's verifier and wrapped text (about 250 bytes), so the cache stays well under 1 MiB.
 */
export const TOKEN_KEY_CACHE_ENTRIES = 1024;

/** One cached verification. */
interface Entry {
  readonly vaultId: string;
  readonly tokenId: string;
  /** The row's verifier and wrapped keys when the token was verified: a different row misses. */
  readonly verifier: string;
  readonly wrapped: string;
  readonly keys: TierKeys;
}

/** The part of a token row the cache compares. */
export interface TokenRowRef {
  readonly verifier: string;
  readonly wrapped: string;
}

/** LRU of verified tokens' keys; see the module comment. */
export interface TokenKeyCache {
  /** Keys cached for this exact token text, if its row still has the same verifier and wrap. */
  get(tokenText: string, row: TokenRowRef): TierKeys | undefined;
  /** Remembers the keys of a token just verified against `row`; evicts the least recently used beyond the bound. */
  set(tokenText: string, vaultId: string, tokenId: string, row: TokenRowRef, keys: TierKeys): void;
  /** Drops every entry of one token (found revoked). */
  dropToken(vaultId: string, tokenId: string): void;
  /** Number of entries (for tests). */
  readonly size: number;
}

function digest(tokenText: string): string {
  return createHash('sha256').update(tokenText).digest('base64url');
}

/** Creates an empty cache holding at most `max` entries (default `TOKEN_KEY_CACHE_ENTRIES`). */
export function createTokenKeyCache(max: number = TOKEN_KEY_CACHE_ENTRIES): TokenKeyCache {
  // A Map iterates in insertion order: re-inserting on a hit makes the first key the least recently used.
  const map = new Map<string, Entry>();
  const dropWhere = (pred: (e: Entry) => boolean) => {
    for (const [k, e] of map) if (pred(e)) map.delete(k);
  };
  return {
    get(tokenText, row) {
      const k = digest(tokenText);
      const e = map.get(k);
      if (!e) return undefined;
      if (e.verifier !== row.verifier || e.wrapped !== row.wrapped) {
        map.delete(k);
        return undefined;
      }
      map.delete(k);
      map.set(k, e);
      return e.keys;
    },
    set(tokenText, vaultId, tokenId, row, keys) {
      const k = digest(tokenText);
      map.delete(k);
      map.set(k, { vaultId, tokenId, verifier: row.verifier, wrapped: row.wrapped, keys });
      while (map.size > max) map.delete(map.keys().next().value!);
    },
    dropToken(vaultId, tokenId) {
      dropWhere((e) => e.vaultId === vaultId && e.tokenId === tokenId);
    },
    get size() {
      return map.size;
    },
  };
}
