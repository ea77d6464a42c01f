/**
 * "Count from when I saw it" guard for the deciding instance (docs/control-plane.md, "Clocks").
 *
 * A POP's last heartbeat time was stamped by whichever control-plane instance received it, on that
 * instance's clock, possibly before this instance started or became leader. Before deciding that a
 * primary's lease has expired, the leader uses `max(stamped time, when it first saw that stamp)`:
 * - after a restart or a leadership change, every primary gets a full lease + margin + missed
 *   heartbeats from the moment the new leader looks, so a control-plane outage never causes a
 *   failover by itself (during the outage POPs could not heartbeat);
 * - a receiving instance whose clock lags the leader's cannot make a lease look older than it is.
 * Later sight only ever delays a promotion: the guard can cost seconds, never safety.
 */

/** Remembers, per key, a stamped time and when this process first saw that value. */
export interface Observer {
  /**
   * Effective time of `stampedMs` for `key`, in milliseconds: `max(stampedMs, first sight)`, where
   * first sight is `nowMs` the first time this value is seen for this key.
   */
  effectiveMs(key: string, stampedMs: number, nowMs: number): number;
}

/** A fresh observer (create one per leadership term). */
export function createObserver(): Observer {
  const seen = new Map<string, { stampedMs: number; firstSeenMs: number }>();
  return {
    effectiveMs(key, stampedMs, nowMs) {
      let s = seen.get(key);
      if (s === undefined || s.stampedMs !== stampedMs) {
        s = { stampedMs, firstSeenMs: nowMs };
        seen.set(key, s);
      }
      return Math.max(stampedMs, s.firstSeenMs);
    },
  };
}
