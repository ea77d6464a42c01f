/**
 * Demotion of a primary (DESIGN.md §4.4.7 "Rejoin without loss"): every revision still in the
 * backlog — written here, never acknowledged by the successor — is copied into quarantine with
 * its reason, then removed from its vault so that the successor's stream can continue at the
 * last acknowledged position. A vault whose creation itself was never acknowledged is set aside
 * whole. Nothing is discarded silently: `clavitor-commercial quarantine list|export` shows it all.
 */
import { rmSync } from 'node:fs';
import type { NodeStore } from '../store/node-store.js';
import type { VaultFiles } from '../store/vault-files.js';
import { truncateVault } from '../vault/apply.js';
import type { VaultId } from '../lib/ids.js';

/** Outcome of a demotion. */
export interface DemotionResult {
  /** Revisions moved to quarantine. */
  quarantined: number;
  /** Vaults touched. */
  vaults: number;
}

/** Quarantines and removes every unacknowledged revision; empties the backlog. */
export function quarantineBacklog(node: NodeStore, files: VaultFiles, reason: string, now: Date): DemotionResult {
  const firstUnacked = new Map<VaultId, number>();
  for (const row of node.allBacklog()) {
    const cur = firstUnacked.get(row.vaultId);
    if (cur === undefined || row.seq < cur) firstUnacked.set(row.vaultId, row.seq);
  }
  let quarantined = 0;
  for (const [vaultId, fromSeq] of firstUnacked) {
    const store = node.hasVault(vaultId) ? files.find(vaultId) : undefined;
    if (!store) continue;
    const removed = truncateVault(store, fromSeq);
    for (const r of removed) {
      node.addQuarantine({ vaultId, seq: r.seq, kind: r.kind, subject: r.subject, epoch: r.epoch, revision: JSON.stringify(r), reason, quarantinedAt: now.toISOString() });
      quarantined++;
    }
    if (store.maxSeq() === 0) {
      const path = files.pathOf(vaultId);
      files.close(vaultId);
      node.removeVault(vaultId);
      for (const suffix of ['', '-wal', '-shm']) rmSync(`${path}${suffix}`, { force: true });
    }
  }
  node.db.exec('DELETE FROM backlog');
  return { quarantined, vaults: firstUnacked.size };
}
