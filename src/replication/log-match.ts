/**
 * Log matching between two POPs (issue 12 item 3; DESIGN.md §4.4.2 and §4.4.7): pure functions,
 * no I/O. Every revision has a POP-wide log position (LSN); a backup stores its primary's revisions
 * at the primary's positions, so two POPs' logs are comparable position by position. Each epoch
 * records where its log began (`EpochStart`: the primary's last LSN + 1 when it took the epoch).
 *
 * The epoch that wrote position L, according to a history, is the one whose start is the largest
 * at or below L (several epochs starting at the same position: the highest, the earlier ones wrote
 * nothing). Two logs whose histories name the same epoch for every position up to L hold the same
 * revisions up to L: one primary writes an epoch, and a backup only stores what its primary sent
 * (the log-matching rule of Raft; the timeline rule of PostgreSQL). The **divergence point** is the
 * first position at which the two histories name different epochs; what a rejoining POP holds at or
 * past it was never its new primary's, and is quarantined.
 */
import type { EpochStart } from '../store/node-store.js';
import type { Revision } from '../store/revision-row.js';

/** True when two revisions at the same position are byte-identical (kind, subject, body, epoch, origin, time). */
export const sameRevision = (a: Revision, b: Revision): boolean =>
  a.kind === b.kind && a.subject === b.subject && a.body === b.body && a.epoch === b.epoch && a.originPop === b.originPop && a.createdAt === b.createdAt;

/** The epoch that wrote log position `lsn` according to `history`; 0 when no epoch covers it. */
export function epochAt(history: readonly EpochStart[], lsn: number): number {
  let best: EpochStart | undefined;
  for (const e of history) {
    if (e.startLsn > lsn) continue;
    if (!best || e.startLsn > best.startLsn || (e.startLsn === best.startLsn && e.epoch > best.epoch)) best = e;
  }
  return best?.epoch ?? 0;
}

/**
 * First log position (≥ 1) at which `mine` and `theirs` name different writing epochs, or
 * `Infinity` when they agree at every position. Only epoch starts can change the answer, so only
 * they are compared: O(h²) in the number of epochs h (a handful), never in the size of the log.
 */
export function divergencePoint(mine: readonly EpochStart[], theirs: readonly EpochStart[]): number {
  const points = [...new Set([...mine, ...theirs].map((e) => e.startLsn))].sort((a, b) => a - b);
  for (const p of points) if (epochAt(mine, p) !== epochAt(theirs, p)) return Math.max(1, p);
  return Number.POSITIVE_INFINITY;
}

/** True when two histories are the same list (same epochs, starts and POPs). */
export function sameHistory(a: readonly EpochStart[], b: readonly EpochStart[]): boolean {
  return a.length === b.length && a.every((e, i) => e.epoch === b[i]!.epoch && e.startLsn === b[i]!.startLsn && e.popId === b[i]!.popId);
}

/** A POP's replication position: its epoch history and its last LSN. */
export interface LogPosition {
  readonly history: readonly EpochStart[];
  readonly lsn: number;
}

/**
 * Where a primary resumes its stream to a backup, from both positions (full resync planning,
 * DESIGN.md §4.4.8):
 * - `resume` after `acked`: the backup holds the primary's log up to `acked` and nothing else the
 *   primary lacks. `diverged`: the backup holds revisions at or past the divergence point (it will
 *   quarantine them when the next push brings the primary's history), so `acked` = point − 1.
 * - `ahead`: the backup holds positions past the primary's last one on the same history: revisions
 *   this primary lacks (restored from an older snapshot: DESIGN.md §4.5, CV-5018).
 * A backup without history (positions assigned locally before issue 12 item 3) reports LSN 0 and
 * gets everything (its revisions take the primary's positions as they arrive).
 */
export function resumePoint(primary: LogPosition, backup: LogPosition): { kind: 'resume'; acked: number; diverged: boolean } | { kind: 'ahead' } {
  const d = divergencePoint(primary.history, backup.history);
  if (backup.lsn >= d) return { kind: 'resume', acked: d - 1, diverged: true };
  if (backup.lsn > primary.lsn) return { kind: 'ahead' };
  return { kind: 'resume', acked: backup.lsn, diverged: false };
}
