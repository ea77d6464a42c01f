/**
 * Rate limiting of authentication failures per source address (issue 4 item 4): more than
 * `maxFailures` 401 answers to one address within `windowMs` milliseconds blocks that address for
 * `blockMs` milliseconds (every request gets 429 CV-2006 with Retry-After). Applies to the client
 * API and the replication routes alike. In memory, per process, bounded to `maxTracked` addresses.
 * Windows and blocks run on the monotonic clock (DESIGN.md §2 "Time", issue 11 item 1): a wall-clock
 * step neither lifts a block early nor extends it.
 */
import { monotonicMs } from '../lib/clock.js';

/** Settings; all durations in milliseconds. */
export interface AuthThrottleOptions {
  maxFailures?: number;
  windowMs?: number;
  blockMs?: number;
  maxTracked?: number;
  /** Clock in milliseconds; monotonic (default `monotonicMs`), never `Date.now`. */
  now?: () => number;
}

/** The throttle; see `createAuthThrottle`. */
export type AuthThrottle = ReturnType<typeof createAuthThrottle>;

/**
 * Builds a throttle (defaults: 30 failures per 60 s block for 60 s; 10,000 addresses tracked, the
 * address whose window started longest ago forgotten first). Times come from `now`, in milliseconds.
 */
export function createAuthThrottle(o: AuthThrottleOptions = {}) {
  const maxFailures = o.maxFailures ?? 30;
  const windowMs = o.windowMs ?? 60_000;
  const blockMs = o.blockMs ?? 60_000;
  const maxTracked = o.maxTracked ?? 10_000;
  const now = o.now ?? monotonicMs;
  const state = new Map<string, { windowStart: number; failures: number; blockedUntil: number }>();
  return {
    /** How many addresses are tracked now (never more than `maxTracked`). */
    tracked(): number {
      return state.size;
    },
    /** Seconds to wait when `ip` is blocked, else undefined. */
    blockedFor(ip: string): number | undefined {
      const s = state.get(ip);
      const t = now();
      if (!s || s.blockedUntil <= t) return undefined;
      return Math.ceil((s.blockedUntil - t) / 1000);
    },
    /** Records one authentication failure from `ip`; returns true when it just got blocked. */
    failure(ip: string): boolean {
      const t = now();
      let s = state.get(ip);
      if (!s || t - s.windowStart > windowMs) {
        s = { windowStart: t, failures: 0, blockedUntil: s?.blockedUntil ?? 0 };
        state.delete(ip);
        state.set(ip, s);
        if (state.size > maxTracked) state.delete(state.keys().next().value as string);
      }
      s.failures++;
      if (s.failures > maxFailures && s.blockedUntil <= t) {
        s.blockedUntil = t + blockMs;
        return true;
      }
      return false;
    },
  };
}
