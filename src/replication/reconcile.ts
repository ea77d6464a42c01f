/**
 * Full resync planning (DESIGN.md §4.4.8). The primary compares its vaults' heads with the
 * positions its backup reports and re-queues, per vault, every revision the backup lacks — the
 * whole log for a vault the backup has never seen (a new or wiped backup), the tail for one that
 * fell behind. The vault's revision log *is* its snapshot: shipping it gives the backup identical
 * state and identical history (case F7), and new writes simply queue behind it, so constant
 * writes cannot cause a resync loop (case F3).
 */
import type { NodeStore } from '../store/node-store.js';
import type { VaultFiles } from '../store/vault-files.js';
import type { VaultId } from '../lib/ids.js';

/** What a reconciliation queued. */
export interface ReconcileResult {
  /** Vaults the backup lacked entirely or in part. */
  vaults: number;
  /** Revisions queued. */
  revisions: number;
  /** Vaults where the backup is *ahead* of this primary (divergence; operator alert). */
  ahead: string[];
}

/**
 * Re-queues what the backup lacks, given its positions (vault id → head seq). A vault the backup
 * holds but this POP does not is not "ahead" here (a vault set aside whole at demotion is
 * found by the backup's push answers instead), as before.
 */
export function reconcile(node: NodeStore, files: VaultFiles, positions: Readonly<Record<string, number>>, nowMs: number): ReconcileResult {
  const out: ReconcileResult = { vaults: 0, revisions: 0, ahead: [] };
  // One query for every vault's head (issue 12 item 1), not one vault file opened per vault.
  for (const [vaultId, head] of files.heads()) {
    const theirs = positions[vaultId] ?? 0;
    if (theirs > head) out.ahead.push(vaultId);
    if (theirs >= head) continue;
    const queued = node.backlogMinSeq(vaultId);
    if (queued !== undefined && queued <= theirs + 1) continue; // already queued from there
    node.requeueVault(vaultId as VaultId, theirs + 1, head, nowMs);
    out.vaults++;
    out.revisions += head - theirs;
  }
  return out;
}
