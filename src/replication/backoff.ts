/**
 * Retry schedule (DESIGN.md §4.4.3): 1 s, 5 s, 25 s, … (×5 each time), capped at 5 minutes.
 */

/** Cap of a single retry delay, in milliseconds (5 minutes). */
export const BACKOFF_CAP_MS = 5 * 60 * 1000;

/** Delay in milliseconds before retry number `attempt` (1-based). */
export function backoffMs(attempt: number): number {
  if (attempt < 1) return 0;
  return Math.min(BACKOFF_CAP_MS, 1000 * 5 ** (attempt - 1));
}

/**
 * Delay in milliseconds before retry number `attempt` after a failure: the backoff schedule, or
 * the backup's `Retry-After` (`retryAfterMs`, from a 429 or 503 answer; issue 13 §2) when that is
 * longer, never above BACKOFF_CAP_MS.
 */
export function retryDelayMs(attempt: number, retryAfterMs?: number): number {
  const b = backoffMs(attempt);
  if (retryAfterMs === undefined || !(retryAfterMs > b)) return b;
  return Math.min(BACKOFF_CAP_MS, retryAfterMs);
}
