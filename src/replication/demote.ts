/**
 * Demotion of a primary (DESIGN.md §4.4.7 "Rejoin without loss"; issue 12 item 3).
 *
 * At demotion the revisions past the backup's acknowledged log position — written here, never
 * acknowledged by the successor — stay in the log (`recordDemotion` notes the range, the POP and
 * the epoch): the successor may hold some of them (a push applied whose acknowledgement was lost)
 * and may be unreachable, so which ones are its own cannot be known yet. The first push of the new
 * primary brings its epoch history, and the rejoin matches logs (receiver.ts, log-match.ts): the
 * entry at the same (epoch, LSN) is the same entry, so what lies before the divergence point is
 * kept as it is, and only what lies at or past it is quarantined — with the demotion's reason
 * ("unacknowledged by the backup when … was demoted") for the unacknowledged range, with a log
 * divergence reason for acknowledged revisions the successor lost. A vault whose creation is set
 * aside is set aside whole. Nothing is discarded silently: `clavitor-commercial quarantine
 * list|export` shows it all. A demoted POP promoted again before any rejoin keeps its log and
 * sends the unacknowledged range like any backlog.
 *
 * Quarantine rows written before this rule (set aside at demotion, then received back) are marked
 * held when the vault holds them byte-identically at the same position (`releaseHeldQuarantine`,
 * issue 11 item 8); listings leave them out.
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

/** Meta key of the pending demotion record (`Demotion` as JSON). */
const DEMOTION_KEY = 'demotion';

/** A demotion whose unacknowledged range waits for the successor's log (DESIGN.md §4.4.7). */
export interface Demotion {
  /** The POP demoted (this one) and the epoch it wrote in. */
  readonly popId: string;
  readonly epoch: number;
  /** The backup's acknowledged position at demotion: revisions past it were unacknowledged. */
  readonly ackedLsn: number;
  /** This POP's last LSN at demotion. */
  readonly lastLsn: number;
}

/**
 * Notes a demotion (persisted, meta `demotion`): the unacknowledged range (acknowledged LSN, last
 * LSN], kept in the log until the successor's first push takes it (receiver.ts). A record not yet
 * taken keeps the lower acknowledged position (nothing was acknowledged since). Returns it.
 */
export function recordDemotion(node: NodeStore, popId: string, epoch: number): Demotion {
  const prev = readDemotion(node);
  const d: Demotion = { popId, epoch, ackedLsn: Math.min(node.ackedLsn(), prev?.ackedLsn ?? Number.MAX_SAFE_INTEGER), lastLsn: node.lastLsn() };
  node.setMeta(DEMOTION_KEY, JSON.stringify(d));
  return d;
}

/** The pending demotion record, or undefined. */
export function readDemotion(node: NodeStore): Demotion | undefined {
  const raw = node.getMeta(DEMOTION_KEY);
  return raw ? (JSON.parse(raw) as Demotion) : undefined;
}

/** Forgets the pending demotion record (taken by a rejoin, or the POP was promoted again). */
export function clearDemotion(node: NodeStore): void {
  if (node.getMeta(DEMOTION_KEY)) node.setMeta(DEMOTION_KEY, '');
}

/** The quarantine reason of revisions left unacknowledged by a demotion. */
export const demotionReason = (d: Pick<Demotion, 'popId' | 'epoch'>): string => `unacknowledged by the backup when ${d.popId} was demoted in epoch ${d.epoch}`;

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
