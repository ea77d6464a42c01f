/**
 * Persisted epochs (DESIGN.md §4.4.6). `epoch` is the epoch this POP writes in (as primary) or has
 * accepted (as backup); `seen_epoch` is the highest epoch it has heard of from anyone. A POP
 * configured as primary whose `seen_epoch` exceeds its `epoch` is fenced, across restarts too.
 */
import type { NodeStore } from '../store/node-store.js';

/** Epoch facts of this POP; see `createEpochStore`. */
export type EpochStore = ReturnType<typeof createEpochStore>;

/** Builds the epoch store over the POP database's meta table. */
export function createEpochStore(node: NodeStore) {
  const read = (k: string): number => Number(node.getMeta(k) ?? '0');
  return {
    /** Current epoch (0 on a fresh POP). */
    epoch: (): number => read('epoch'),
    /** Highest epoch heard of (≥ epoch). */
    seen: (): number => Math.max(read('seen_epoch'), read('epoch')),
    /** Sets the current epoch (and raises seen_epoch with it), durably. */
    setEpoch(e: number): void {
      node.tx(() => {
        node.setMeta('epoch', String(e));
        if (e > read('seen_epoch')) node.setMeta('seen_epoch', String(e));
      });
    },
    /** Records a higher epoch heard of; returns true when it was higher than any seen before. */
    observe(e: number): boolean {
      if (e <= Math.max(read('seen_epoch'), read('epoch'))) return false;
      node.setMeta('seen_epoch', String(e));
      return true;
    },
  };
}
