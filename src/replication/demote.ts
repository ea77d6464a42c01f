/**
 * Demotion of a primary (DESIGN.md §4.4.7 "Rejoin without loss"): every revision past the backup's
 * acknowledged log position — written here, never acknowledged by the successor — is copied into
 * quarantine with its reason, then removed from its vault so that the successor's stream can
 * continue at the last acknowledged position. The rejoin then matches logs (receiver.ts,
 * log-match.ts): what still lies past the point where this POP's log left the successor's is
 * quarantined too. A vault whose creation itself was never acknowledged is set aside
 * whole. Nothing is discarded silently: `clavitor-commercial quarantine list|export` shows it all.
 *
 * At demotion the successor may already hold some of that backlog (it received a push whose
 * acknowledgement was lost, or received it just before the cut) and the peer may be unreachable,
 * so the check cannot happen then. It happens when the revisions come back: each push this POP
 * applies as a backup, and every start, mark the quarantined revisions the vault now holds
 * byte-identically at the same position as held by the successor (`releaseHeldQuarantine`);
 * listings leave them out (issue 11 item 8).
 */
import type { NodeStore } from '../store/node-store.js';
import type { VaultFiles } from '../store/vault-files.js';
import { truncateVault } from '../vault/apply.js';
import type { VaultId } from '../lib/ids.js';
import type { Revision } from '../vault/revision.js';
import { sameRevision } from './log-match.js';

/** Outcome of a demotion. */
export interface DemotionResult {
  /** Revisions moved to quarantine. */
  quarantined: number;
  /** Vaults touched. */
  vaults: number;
}

/**
 * Quarantines and removes every unacknowledged revision — the log past the backup's acknowledged
 * position (issue 12 item 3) — and moves that position to the end of what remains. One transaction.
 */
export function quarantineBacklog(node: NodeStore, files: VaultFiles, reason: string, now: Date): DemotionResult {
  return node.tx(() => {
    const res = quarantineLogFrom(node, files, node.ackedLsn() + 1, reason, now);
    node.setAckedLsn(node.lastLsn());
    return res;
  });
}

/**
 * Quarantines and removes every revision at or past log position `fromLsn` (demotion: the
 * unacknowledged tail; rejoin: what lies past the divergence point, receiver.ts). Per vault these
 * are the revisions from its first one there on (a vault's positions grow with its seq); the vault's
 * derived state is rebuilt from the rest, and a vault whose creation is among them is set aside
 * whole. Each quarantine row's reason is `reason` with the range of log positions set aside (one
 * reason per call, so that listings group them). Call inside a transaction.
 */
export function quarantineLogFrom(node: NodeStore, files: VaultFiles, fromLsn: number, reason: string, now: Date): DemotionResult {
  const firstSeq = new Map<VaultId, number>();
  const tail = node.tailFrom(fromLsn);
  for (const row of tail) {
    const cur = firstSeq.get(row.vaultId);
    if (cur === undefined || row.seq < cur) firstSeq.set(row.vaultId, row.seq);
  }
  const range = tail.length === 0 ? '' : tail.length === 1 ? `; lsn ${tail[0]!.lsn}` : `; lsn ${tail[0]!.lsn}–${tail.at(-1)!.lsn}`;
  let quarantined = 0;
  for (const [vaultId, fromSeq] of firstSeq) {
    const store = files.find(vaultId);
    if (!store) continue;
    const removed = truncateVault(store, fromSeq);
    for (const r of removed) {
      node.addQuarantine({ vaultId, seq: r.seq, kind: r.kind, subject: r.subject, epoch: r.epoch, revision: JSON.stringify(r), reason: `${reason}${range}`, quarantinedAt: now.toISOString() });
      quarantined++;
    }
    if (store.maxSeq() === 0) files.erase(vaultId); // its creation was never acknowledged: set aside whole
  }
  return { quarantined, vaults: firstSeq.size };
}

/**
 * Marks every open quarantined revision of `vaultIds` (default: every vault with one) that the
 * vault now holds byte-identically at the same seq — received back from the successor — as held
 * (`held_at` = `now`). Returns how many were marked. Never deletes a quarantined revision; a
 * different revision at that position (the successor wrote its own) leaves it open.
 */
export function releaseHeldQuarantine(node: NodeStore, files: VaultFiles, now: Date, vaultIds?: Iterable<string>): number {
  const open = vaultIds ? [...new Set(vaultIds)].flatMap((v) => node.openQuarantineOf(v)) : node.listQuarantine();
  let marked = 0;
  for (const row of open) {
    const store = files.find(row.vaultId as VaultId);
    const held = store?.getRevision(row.seq);
    if (held && sameRevision(held, JSON.parse(row.revision) as Revision) && node.markQuarantineHeld(row.id, now.toISOString())) marked++;
  }
  return marked;
}
