/**
 * Applying a push on a backup (DESIGN.md §4.4 items 4–6).
 *
 * - **Epoch**: a push from a lower epoch than ours is refused (STALE_EPOCH, with our epoch); a
 *   higher one is adopted and persisted before anything is applied.
 * - **Idempotent**: a revision this POP already holds, byte-identical, is skipped, so a repeated
 *   batch changes nothing. A *different* revision at a held position is refused
 *   (REPLICATION_DIVERGED) — never overwritten.
 * - **Log positions** (issue 12 item 3): revisions are stored at the primary's LSNs; a push must
 *   continue this POP's log (gap answer: the last LSN held); each vault's revisions must also
 *   continue at `max_seq + 1` (second guard). Refused before anything is written.
 * - **Rejoin**: a push whose epoch history differs from this POP's first quarantines what this POP
 *   holds past the divergence point (log-match.ts) and adopts the history.
 * - **Replays**: a push whose (epoch, push_seq) is not above the last accepted from its sender is
 *   refused (REPLAYED_PUSH) before anything is read or written.
 * - **Atomic**: the whole push — every vault's revisions (a vault's max seq *is* its cursor),
 *   the adopted epoch and the sender's push counter — commits in ONE transaction of the POP
 *   database, with one fsync (issue 12 item 1): a crash mid-push leaves all of it applied or none,
 *   and the retry skips what is already there.
 */
import type { NodeStore } from '../store/node-store.js';
import type { VaultFiles } from '../store/vault-files.js';
import type { VaultStore } from '../store/vault-store.js';
import { applyCheckedRevision, checkRevision } from '../vault/apply.js';
import { fromWire, type Revision } from '../vault/revision.js';
import { cvError, Errors } from '../lib/errors.js';
import { epochClaimProblem } from '../lib/epoch-bounds.js';
import type { VaultId } from '../lib/ids.js';
import type { ExpectedPosition, PushAck, PushBody } from './wire.js';
import type { EpochStart } from '../store/node-store.js';
import { divergencePoint, epochAt, sameHistory, sameRevision } from './log-match.js';
import { quarantineLogFrom } from './demote.js';

/** Dependencies of `applyPush`. */
export interface ReceiverDeps {
  readonly node: NodeStore;
  readonly files: VaultFiles;
  /** This POP's current epoch. */
  getEpoch(): number;
  /** Persists a higher epoch learnt from the sender. */
  adoptEpoch(epoch: number): void;
}

/** Node-meta key of the last accepted (epoch, push_seq) of a sender. */
const lastPushKey = (sender: string): string => `last_push:${sender}`;

/**
 * Replay protection (issue 4 item 3): a push is accepted only when its (epoch, push_seq) is above
 * the last accepted from the same sender. Throws REPLAYED_PUSH (CV-5013) otherwise.
 */
function checkNotReplayed(node: NodeStore, push: PushBody): void {
  const last = node.getMeta(lastPushKey(push.sender));
  if (!last) return;
  const [e, s] = last.split(':').map(Number) as [number, number];
  if (push.epoch > e || (push.epoch === e && push.push_seq > s)) return;
  throw cvError('REPLAYED_PUSH', undefined, { last_push_seq: s });
}

/**
 * Refuses (PUSH_INVALID) a `vault.create` or `agent.create` whose token id, or an `agent.create`
 * whose agent id, the vault already holds or an earlier revision of the push creates: applying it
 * would fail on the tokens table's keys half-way through the push, after other writes (found by
 * test/fuzz/push.fuzz.test.ts). `tokens` and `agents` collect the ids the push creates in the vault.
 */
function checkNewIds(store: VaultStore | undefined, r: Revision, tokens: Set<string>, agents: Set<string>): void {
  if (r.kind !== 'vault.create' && r.kind !== 'agent.create') return;
  const body = JSON.parse(r.body) as { owner_token_id?: string; token_id?: string };
  const tokenId = String(r.kind === 'vault.create' ? body.owner_token_id : body.token_id);
  const agentId = r.kind === 'agent.create' ? r.subject : null;
  if (tokens.has(tokenId) || store?.getToken(tokenId) || (agentId !== null && (agents.has(agentId) || store?.getAgent(agentId)))) {
    throw cvError('PUSH_INVALID', `revision ${r.seq} of ${r.vaultId}: its token or agent id already exists in the vault`);
  }
  tokens.add(tokenId);
  if (agentId !== null) agents.add(agentId);
}

export { sameRevision } from './log-match.js';

/** What `applyPush` did to bring this POP's log onto the sender's history (DESIGN.md §4.4.7). */
export interface RejoinOutcome {
  /** Divergence point (first LSN where the histories disagree), or null for a log parked whole. */
  readonly point: number | null;
  /** Revisions quarantined past the divergence point. */
  readonly quarantined: number;
  /** Revisions parked to take the primary's positions (a log without epoch history). */
  readonly parked: number;
}

/**
 * Rejoin by log matching (issue 12 item 3; DESIGN.md §4.4.7): when the sender's epoch history
 * differs from this POP's, finds the divergence point and quarantines what this POP holds at or
 * past it (reason: log divergence, with the epochs and LSNs), then adopts the sender's history.
 * A log that has no history (positions assigned locally before item 3) is parked instead: each of
 * its revisions takes the primary's position when streamed again, identical (`moveLsn`). One
 * transaction. Returns undefined when the histories already agree.
 */
function matchHistory(deps: ReceiverDeps, push: PushBody): RejoinOutcome | undefined {
  const theirs: EpochStart[] = push.history.map((e) => ({ epoch: e.epoch, startLsn: e.start_lsn, popId: e.pop_id }));
  const mine = deps.node.epochHistory();
  if (sameHistory(mine, theirs)) return undefined;
  // A history that cannot be a primary's would set aside a sound log: refused before anything.
  const ordered = theirs.every((e, i) => i === 0 || (e.epoch > theirs[i - 1]!.epoch && e.startLsn >= theirs[i - 1]!.startLsn));
  if (theirs.length === 0 || !ordered || theirs.at(-1)!.epoch > push.epoch) {
    throw cvError('PUSH_INVALID', 'history: the sender\'s epoch history must be non-empty, in increasing epochs and positions, and end at or below its epoch');
  }
  return deps.node.tx(() => {
    const last = deps.node.lastLsn();
    let out: RejoinOutcome = { point: null, quarantined: 0, parked: 0 };
    if (mine.length === 0) {
      if (last > 0) out = { ...out, parked: deps.node.parkLog() };
    } else {
      const d = divergencePoint(mine, theirs);
      out = { ...out, point: Number.isFinite(d) ? d : null };
      if (d <= last) {
        const reason = `log divergence: this POP's log left ${push.sender}'s at lsn ${d} (${push.sender}'s history: epoch ${epochAt(theirs, d)} from there; this POP's: epoch ${epochAt(mine, d)})`;
        out = { ...out, quarantined: quarantineLogFrom(deps.node, deps.files, d, reason, new Date()).quarantined };
      }
    }
    deps.node.replaceEpochHistory(theirs);
    return out;
  });
}

/**
 * Validates and applies one push. Throws STALE_EPOCH, EPOCH_REFUSED (above MAX_EPOCH, or more than
 * MAX_EPOCH_JUMP above ours: lib/epoch-bounds.ts), REPLICATION_GAP (details.expected: list of
 * per-vault positions; details.lsn: the last LSN this POP holds, where the stream must continue),
 * REPLICATION_DIVERGED (details.diverged) or PUSH_INVALID; on any throw nothing has been written:
 * the rejoin (`matchHistory`), the checks and the apply run in one transaction, rolled back whole.
 *
 * Log positions (issue 12 item 3): revisions are stored at the sender's LSNs. One at or below this
 * POP's last LSN must be the very revision held there (a repeated batch: skipped), else it is
 * diverged; the first one past it must continue this POP's log (`prev_lsn`, or the push's previous
 * item, equals the last LSN), else the push is a gap. Per-vault seq continuity stays a second guard.
 */
export function applyPush(deps: ReceiverDeps, push: PushBody): PushAck & { rejoin?: RejoinOutcome } {
  const epoch = deps.getEpoch();
  if (push.epoch < epoch) throw cvError('STALE_EPOCH', undefined, { epoch });
  // Issue 13 §1: an epoch above the bound, or an implausible jump, is never adopted.
  const problem = epochClaimProblem(push.epoch, epoch);
  if (problem) throw cvError('EPOCH_REFUSED', `${Errors.EPOCH_REFUSED.message}: ${problem}`, { epoch });
  checkNotReplayed(deps.node, push);
  let prevLsn = push.prev_lsn;
  for (const w of push.items) {
    if (w.lsn <= prevLsn) throw cvError('PUSH_INVALID', `revision ${w.seq} of ${w.vault_id}: log positions must increase (lsn ${w.lsn} after ${prevLsn})`);
    prevLsn = w.lsn;
  }
  return deps.node.tx(() => applyInTx(deps, push, epoch));
}

function applyInTx(deps: ReceiverDeps, push: PushBody, epoch: number): PushAck & { rejoin?: RejoinOutcome } {
  const rejoin = matchHistory(deps, push);
  const lastHeld = deps.node.lastLsn();
  let last = lastHeld;
  let prev = push.prev_lsn;
  const expected: ExpectedPosition[] = [];
  const diverged: (ExpectedPosition & { lsn: number })[] = [];
  const fresh: { r: Revision; lsn: number }[] = [];
  const realign: { vaultId: string; seq: number; lsn: number }[] = [];
  const nextSeq = new Map<string, number>();
  const newIds = new Map<string, { tokens: Set<string>; agents: Set<string> }>();
  let skipped = 0;
  let gap = false;
  for (const w of push.items) {
    const r = fromWire(w);
    if (w.lsn <= last) {
      // At or below our last position: the very revision we hold there (a repeated batch), or divergence.
      const key = deps.node.keyAt(w.lsn);
      const held = key && key.vaultId === r.vaultId && key.seq === r.seq ? deps.files.find(key.vaultId)?.getRevision(r.seq) : undefined;
      if (held && sameRevision(held, r)) skipped++;
      else diverged.push({ vault_id: r.vaultId, seq: r.seq, lsn: w.lsn });
      prev = w.lsn;
      continue;
    }
    if (prev !== last) {
      gap = true; // the push does not continue our log: the primary resumes after `lastHeld`
      break;
    }
    const store = deps.files.find(r.vaultId as VaultId);
    const next = nextSeq.get(r.vaultId) ?? (store?.maxSeq() ?? 0) + 1;
    if (r.seq < next) {
      // Held at another position: a parked revision (positions assigned locally) takes this one if identical.
      const at = deps.node.lsnOf(r.vaultId, r.seq);
      const held = store?.getRevision(r.seq);
      if (at !== undefined && at < 0 && held && sameRevision(held, r)) {
        realign.push({ vaultId: r.vaultId, seq: r.seq, lsn: w.lsn });
        skipped++;
      } else {
        diverged.push({ vault_id: r.vaultId, seq: r.seq, lsn: w.lsn });
      }
    } else if (r.seq !== next) {
      expected.push({ vault_id: r.vaultId, seq: next });
      gap = true;
      break;
    } else {
      checkRevision(r);
      const ids = newIds.get(r.vaultId) ?? { tokens: new Set<string>(), agents: new Set<string>() };
      newIds.set(r.vaultId, ids);
      checkNewIds(store, r, ids.tokens, ids.agents);
      fresh.push({ r, lsn: w.lsn });
      nextSeq.set(r.vaultId, next + 1);
    }
    last = w.lsn;
    prev = w.lsn;
  }
  if (diverged.length > 0) throw cvError('REPLICATION_DIVERGED', undefined, { diverged, epoch });
  if (gap) throw cvError('REPLICATION_GAP', undefined, { expected, lsn: lastHeld, epoch });

  if (push.epoch > epoch) deps.adoptEpoch(push.epoch);
  deps.node.setMeta(lastPushKey(push.sender), `${push.epoch}:${push.push_seq}`);
  for (const m of realign) deps.node.moveLsn(m.vaultId, m.seq, m.lsn);
  for (const { r, lsn } of fresh) applyCheckedRevision(deps.files.openOrCreate(r.vaultId as VaultId), r, lsn); // every one passed checkRevision above
  // A backup's acknowledged position is all it holds: promoted, it starts with an empty backlog.
  deps.node.setAckedLsn(deps.node.lastLsn());
  return { applied: fresh.length, skipped, epoch: Math.max(epoch, push.epoch), ...(rejoin ? { rejoin } : {}) };
}
