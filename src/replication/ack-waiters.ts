/**
 * Waiting for the backup's acknowledgement of one revision (DESIGN.md §4.4.11, optional
 * synchronous write). The sender reports the highest acknowledged seq per vault after each push;
 * a waiter resolves true when its revision is covered, false when its time runs out.
 */

/** The waiter registry; see `createAckWaiters`. */
export type AckWaiters = ReturnType<typeof createAckWaiters>;

/** Largest wait a client may ask for, in milliseconds. */
export const MAX_SYNC_WAIT_MS = 30_000;

/** Builds an empty registry. */
export function createAckWaiters() {
  const acked = new Map<string, number>();
  const waiting = new Map<string, { seq: number; done: (ok: boolean) => void }[]>();
  return {
    /** Records acknowledgements (vault id → highest acknowledged seq) and releases waiters. */
    ack(positions: ReadonlyMap<string, number>): void {
      for (const [vaultId, seq] of positions) {
        if (seq > (acked.get(vaultId) ?? 0)) acked.set(vaultId, seq);
        const list = waiting.get(vaultId);
        if (!list) continue;
        const rest = list.filter((w) => (w.seq <= seq ? (w.done(true), false) : true));
        if (rest.length) waiting.set(vaultId, rest);
        else waiting.delete(vaultId);
      }
    },
    /** Resolves true once revision `seq` of `vaultId` is acknowledged, false after `timeoutMs` milliseconds. */
    wait(vaultId: string, seq: number, timeoutMs: number): Promise<boolean> {
      if ((acked.get(vaultId) ?? 0) >= seq) return Promise.resolve(true);
      return new Promise((resolve) => {
        const timer = setTimeout(() => finish(false), Math.min(timeoutMs, MAX_SYNC_WAIT_MS));
        const entry = { seq, done: (ok: boolean) => finish(ok) };
        let settled = false;
        function finish(ok: boolean): void {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          const list = waiting.get(vaultId);
          if (list) {
            const rest = list.filter((w) => w !== entry);
            if (rest.length) waiting.set(vaultId, rest);
            else waiting.delete(vaultId);
          }
          resolve(ok);
        }
        waiting.set(vaultId, [...(waiting.get(vaultId) ?? []), entry]);
      });
    },
    /** Releases every waiter with false (shutdown, demotion). */
    releaseAll(): void {
      for (const list of waiting.values()) for (const w of list) w.done(false);
      waiting.clear();
    },
  };
}
