/**
 * Token expiry (issue 14 item 2), decided the same way on a primary and on a backup from the
 * replicated token row (`expires_at`, `ttl_seconds`, written by `agent.create` / `agent.update`):
 *
 * - **The date**: a token is expired once the wall clock reaches its stored `expires_at`. A date is
 *   a stored record, so it is compared with the wall clock (DESIGN.md §2 "Time"); this is also what
 *   holds across restarts and on the other POP.
 * - **The window** of a token given a TTL: the first time this process checks the token it
 *   computes the time left (`expires_at` minus the wall clock, at most `ttl_seconds`) and from then
 *   on counts it down on the monotonic clock. A wall-clock step backwards (NTP, `date -s`, a VM
 *   resume) therefore cannot stretch a TTL within a process; a step forwards ends it early
 *   through the date check. Whichever ends first wins: expiry never comes later than either.
 *
 * A new `expires_at` (an `agent.update`) starts a new window.
 */
import { systemClock, type Clock } from '../lib/clock.js';

/** Most windows remembered at once; beyond, the oldest is forgotten (and re-anchored from the date if seen again). */
export const EXPIRY_WINDOWS_MAX = 100_000;

/** A token row's expiry as stored. */
export interface ExpiryRow {
  /** ISO-8601 UTC date, or null: never expires. */
  readonly expiresAt: string | null;
  /** TTL in seconds the expiry was given as, or null (given as a date). */
  readonly ttlSeconds: number | null;
}

/** Expiry checks of one process; see `createTokenExpiry`. */
export interface TokenExpiry {
  /** True when token `tokenId` of vault `vaultId`, whose row says `row`, has expired now. */
  expired(vaultId: string, tokenId: string, row: ExpiryRow): boolean;
}

/** Builds the expiry checker. `clock` (default `systemClock`): wall clock for dates, monotonic for windows. */
export function createTokenExpiry(clock: Pick<Clock, 'nowMs' | 'wallNow'> = systemClock): TokenExpiry {
  /** `<vault>/<token>/<expires_at>` → monotonic deadline in milliseconds. */
  const deadlines = new Map<string, number>();
  return {
    expired(vaultId, tokenId, row) {
      if (row.expiresAt === null) return false;
      const at = Date.parse(row.expiresAt);
      const wall = clock.wallNow().getTime();
      if (!(wall < at)) return true;
      if (row.ttlSeconds === null) return false;
      const key = `${vaultId}/${tokenId}/${row.expiresAt}`;
      let deadline = deadlines.get(key);
      if (deadline === undefined) {
        deadline = clock.nowMs() + Math.min(at - wall, row.ttlSeconds * 1000);
        deadlines.set(key, deadline);
        if (deadlines.size > EXPIRY_WINDOWS_MAX) deadlines.delete(deadlines.keys().next().value!);
      }
      return clock.nowMs() >= deadline;
    },
  };
}
