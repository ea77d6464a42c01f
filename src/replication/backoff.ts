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
