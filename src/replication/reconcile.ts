/**
 * Full resync planning (DESIGN.md §4.4.8; issue 12 item 3). The backup reports one position — its
 * epoch history and last LSN — and the primary moves its cursor (the acknowledged position) to where
 * the backup's log stops matching its own (log-match.ts `resumePoint`): 0 for a new or wiped backup
 * (the whole log is shipped: case F7), the backup's last LSN for one that fell behind. The log *is*
 * the snapshot: shipping it gives the backup identical state and history, and new writes simply
 * follow it, so constant writes cannot cause a resync loop (case F3). The cost is a handful of
 * indexed reads, whatever the number of vaults.
 */
import type { NodeStore } from '../store/node-store.js';
import { resumePoint } from './log-match.js';
import type { PositionsAnswer } from './wire.js';

/** What a reconciliation queued. */
export interface ReconcileResult {
  /** Vaults with revisions queued again. */
  vaults: number;
  /** Revisions queued again (the backlog grew by this many). */
  revisions: number;
  /** Vaults where the backup is *ahead* of this primary (holds revisions it lacks; operator alert). */
  ahead: string[];
}

/**
 * Moves the acknowledged position to what the backup reports holding (`answer`, GET positions with
 * `?after=` this POP's last LSN). Backward: the revisions past it are queued again (counted);
 * forward: the backup holds revisions whose acknowledgement was lost. A backup ahead (same history,
 * more positions) is reported, the cursor untouched.
 */
export function reconcile(node: NodeStore, answer: PositionsAnswer): ReconcileResult {
  const history = answer.history.map((e) => ({ epoch: e.epoch, startLsn: e.start_lsn, popId: e.pop_id }));
  const mine = { history: node.epochHistory(), lsn: node.lastLsn() };
  const r = resumePoint(mine, { history, lsn: answer.lsn });
  if (r.kind === 'ahead') {
    const ahead = answer.vaults_after.length > 0 ? answer.vaults_after : [`(log past lsn ${mine.lsn})`];
    return { vaults: 0, revisions: 0, ahead };
  }
  const acked = node.ackedLsn();
  const target = Math.min(r.acked, mine.lsn);
  if (target === acked) return { vaults: 0, revisions: 0, ahead: [] };
  const requeued = target < acked ? node.countAfter(target).count - node.countAfter(acked).count : 0;
  const vaults = target < acked ? node.vaultsAfter(target, 0).count : 0;
  node.setAckedLsn(target);
  return { vaults, revisions: requeued, ahead: [] };
}
