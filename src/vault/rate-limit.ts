/**
 * Per-agent rate limits on distinct entries (issue 6 item 3): by default at most 3 distinct entries
 * in any 60 s and 10 in any 3600 s. Re-reading an entry already read inside a window does not count
 * again. A request that would exceed a window is a **breach** (answered 429); a second breach
 * within 2 hours of the first is a **lockdown** (the caller writes an `agent.lock` revision).
 *
 * State lives in memory, per process: each POP counts the reads it serves itself, and a restart
 * forgets the windows (never a lock: locks are revisions, see agent-gate.ts). Time is injected in
 * milliseconds so that tests need no sleeping.
 */
import type { RateLimits } from './principal.js';

/** Length of the short window, in milliseconds. */
export const MINUTE_MS = 60_000;
/** Length of the long window, in milliseconds. */
export const HOUR_MS = 3_600_000;
/** A second breach within this many milliseconds of a previous one locks the agent (2 hours). */
export const LOCKDOWN_WINDOW_MS = 2 * HOUR_MS;

/**
 * Result of one check: `ok` (read recorded), `breach` (refuse with 429, `retryAfterSeconds` until
 * the read would fit), or `lockdown` (second breach within LOCKDOWN_WINDOW_MS).
 */
export type RateVerdict =
  | { readonly kind: 'ok' }
  | { readonly kind: 'breach'; readonly retryAfterSeconds: number }
  | { readonly kind: 'lockdown' };

interface AgentWindow {
  /** Entry id → time of its most recent counted read, ms. */
  readonly lastRead: Map<string, number>;
  /** Times of breaches within LOCKDOWN_WINDOW_MS, ms, oldest first. */
  breaches: number[];
}

/** The limiter; see `createRateLimiter`. */
export type RateLimiter = ReturnType<typeof createRateLimiter>;

/** Creates an empty in-memory limiter. */
export function createRateLimiter() {
  const agents = new Map<string, AgentWindow>();
  let checks = 0;

  const prune = (w: AgentWindow, nowMs: number): void => {
    for (const [entry, at] of w.lastRead) if (at <= nowMs - HOUR_MS) w.lastRead.delete(entry);
    w.breaches = w.breaches.filter((at) => at > nowMs - LOCKDOWN_WINDOW_MS);
  };

  /** Milliseconds until the oldest read inside `windowMs` leaves it. */
  const waitFor = (w: AgentWindow, nowMs: number, windowMs: number): number => {
    let oldest = nowMs;
    for (const at of w.lastRead.values()) if (at > nowMs - windowMs && at < oldest) oldest = at;
    return oldest + windowMs - nowMs;
  };

  /** Drops agents whose windows are empty, so memory follows recent activity. */
  const sweep = (nowMs: number): void => {
    for (const [id, w] of agents) {
      prune(w, nowMs);
      if (w.lastRead.size === 0 && w.breaches.length === 0) agents.delete(id);
    }
  };

  return {
    /**
     * Checks (and on `ok` records) a read of `entryId` by `agentId` at `nowMs` against `limits`.
     * A refused read is not recorded as a read; a breach is recorded as a breach.
     */
    check(agentId: string, entryId: string, limits: RateLimits, nowMs: number): RateVerdict {
      if (++checks % 1000 === 0) sweep(nowMs);
      let w = agents.get(agentId);
      if (!w) {
        w = { lastRead: new Map(), breaches: [] };
        agents.set(agentId, w);
      }
      prune(w, nowMs);
      const last = w.lastRead.get(entryId);
      let inMinute = 0;
      for (const at of w.lastRead.values()) if (at > nowMs - MINUTE_MS) inMinute++;
      const minuteOk = (last !== undefined && last > nowMs - MINUTE_MS) || inMinute < limits.perMinute;
      const hourOk = last !== undefined || w.lastRead.size < limits.perHour;
      if (minuteOk && hourOk) {
        w.lastRead.set(entryId, nowMs);
        return { kind: 'ok' };
      }
      const second = w.breaches.length > 0;
      w.breaches.push(nowMs);
      if (second) return { kind: 'lockdown' };
      const waitMs = Math.max(minuteOk ? 0 : waitFor(w, nowMs, MINUTE_MS), hourOk ? 0 : waitFor(w, nowMs, HOUR_MS));
      return { kind: 'breach', retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) };
    },

    /** Forgets everything about `agentId` (after the owner unlocks it). */
    reset(agentId: string): void {
      agents.delete(agentId);
    },

    /** Number of agents with state held (for tests and metrics). */
    size(): number {
      return agents.size;
    },
  };
}
