/**
 * Applying a push on a backup (DESIGN.md §4.4 items 4–6).
 *
 * - **Epoch**: a push from a lower epoch than ours is refused (STALE_EPOCH, with our epoch); a
 *   higher one is adopted and persisted before anything is applied.
 * - **Idempotent**: a revision this POP already holds, byte-identical, is skipped, so a repeated
 *   batch changes nothing. A *different* revision at a held position is refused
 *   (REPLICATION_DIVERGED) — never overwritten.
 * - **Gaps**: every vault's revisions must continue at `max_seq + 1`; otherwise the whole push is
 *   refused before anything is written, naming every position expected.
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

/** True when two revisions at the same position are byte-identical (kind, subject, body, epoch, origin, time). */
export const sameRevision = (a: Revision, b: Revision): boolean =>
  a.kind === b.kind && a.subject === b.subject && a.body === b.body && a.epoch === b.epoch && a.originPop === b.originPop && a.createdAt === b.createdAt;

/**
 * Validates and applies one push. Throws STALE_EPOCH, EPOCH_REFUSED (above MAX_EPOCH, or more than
 * MAX_EPOCH_JUMP above ours: lib/epoch-bounds.ts), REPLICATION_GAP (details.expected: list of
 * positions), REPLICATION_DIVERGED (details.diverged) or PUSH_INVALID; on any throw nothing of the
 * push has been written.
 */
export function applyPush(deps: ReceiverDeps, push: PushBody): PushAck {
  const epoch = deps.getEpoch();
  if (push.epoch < epoch) throw cvError('STALE_EPOCH', undefined, { epoch });
  // Issue 13 §1: an epoch above the bound, or an implausible jump, is never adopted.
  const problem = epochClaimProblem(push.epoch, epoch);
  if (problem) throw cvError('EPOCH_REFUSED', `${Errors.EPOCH_REFUSED.message}: ${problem}`, { epoch });
  checkNotReplayed(deps.node, push);

  const groups = new Map<string, Revision[]>();
  for (const w of push.items) {
    const list = groups.get(w.vault_id) ?? [];
    list.push(fromWire(w));
    groups.set(w.vault_id, list);
  }

  const expected: ExpectedPosition[] = [];
  const diverged: ExpectedPosition[] = [];
  const plan: { vaultId: VaultId; fresh: Revision[] }[] = [];
  let skipped = 0;
  for (const [vaultId, revs] of groups) {
    const store = deps.files.find(vaultId as VaultId);
    let next = (store?.maxSeq() ?? 0) + 1;
    const fresh: Revision[] = [];
    const newTokens = new Set<string>();
    const newAgents = new Set<string>();
    for (const r of revs) {
      if (r.seq < next && fresh.length === 0) {
        const held = store?.getRevision(r.seq);
        if (held && sameRevision(held, r)) skipped++;
        else diverged.push({ vault_id: vaultId, seq: r.seq });
        continue;
      }
      if (r.seq !== next) {
        expected.push({ vault_id: vaultId, seq: next });
        break;
      }
      checkRevision(r);
      checkNewIds(store, r, newTokens, newAgents);
      fresh.push(r);
      next++;
    }
    if (fresh.length > 0) plan.push({ vaultId: vaultId as VaultId, fresh });
  }
  if (diverged.length > 0) throw cvError('REPLICATION_DIVERGED', undefined, { diverged, epoch });
  if (expected.length > 0) throw cvError('REPLICATION_GAP', undefined, { expected, epoch });

  let applied = 0;
  deps.node.tx(() => {
    if (push.epoch > epoch) deps.adoptEpoch(push.epoch);
    deps.node.setMeta(lastPushKey(push.sender), `${push.epoch}:${push.push_seq}`);
    for (const { vaultId, fresh } of plan) {
      const store = deps.files.openOrCreate(vaultId);
      for (const r of fresh) applyCheckedRevision(store, r); // every one passed checkRevision above
      applied += fresh.length;
    }
  });
  return { applied, skipped, epoch: Math.max(epoch, push.epoch) };
}
