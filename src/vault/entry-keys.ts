/**
 * Scopes and revocation enforced by keys (issue 14 item 3; docs/security.md "What an agent token
 * can decrypt"). Every `entry.put` has its own entry key K_e (entry-codec.ts), sealed for the owner
 * and for each agent whose scope covers the entry when the revision is written; each agent has its
 * own key K_a (sealed under its token's KEK for the agent, and under the owner key in the
 * `agent.create` body for the owner). The rules kept here, all run by the owner's request on the
 * primary, inside the write's savepoint (the owner key is in hand only then):
 *
 * - **Write**: a new revision's K_e goes to the owner and to every live (not revoked, not expired)
 *   agent whose scope covers the entry (`recipientsFor`).
 * - **Widen** (`agent.create`, `agent.update`): the agent gets, in the same revision's `grants`, a
 *   wrap of the current K_e of each entry it newly covers (`grantsFor`); an entry whose newest
 *   revision predates entry keys is re-keyed instead.
 * - **Narrow, revoke**: every entry the agent could read and no longer may gets a re-key revision
 *   (`rekey`): a fresh K_e, for the owner and the agents that still cover it. The old revisions
 *   stay as they were (the log is immutable); the agent's token opens none written since.
 * - **Folders**: when an entry's parent changes or it is deleted or restored, entries below it may
 *   enter or leave an agent's folder scope; those whose grants no longer match are re-keyed
 *   (`reconcileBelow`).
 *
 * Agents created before entry keys existed (no `key_owner` in their `agent.create`) hold the shared
 * agent-tier key; their K_a is derived from it (`legacyAgentKey`), so any holder of the shared key
 * (the owner, every such agent) can derive it. Their scopes are enforced by keys only once they are
 * re-issued (docs/agents.md).
 */
import type { TokenRow, VaultStore } from '../store/vault-store.js';
import { hkdf, open, seal } from './crypto.js';
import { agentKeyAad, entryKeyAad } from './aad.js';
import { decryptView, encryptEntry, entryBody, type EntryInput, type KeyRecipient } from './entry-codec.js';
import type { OwnerPrincipal } from './principal.js';
import type { EntryPutBody, Revision } from './revision.js';
import type { Emit } from './writer.js';
import type { AuditInput } from './audit.js';
import { entryInScope, type AgentScope } from './scope.js';

/**
 * Own key K_a of an agent created before issue 14 item 3, derived from the vault's shared
 * agent-tier key: HKDF-SHA256(shared, salt = agent id, info = "clavitor/v1/legacy-agent-key|<vault>").
 */
export function legacyAgentKey(shared: Buffer, vaultId: string, agentId: string): Buffer {
  return hkdf(shared, agentId, `clavitor/v1/legacy-agent-key|${vaultId}`);
}

/** True when agent row `a` can be given keys at wall-clock time `now`: not revoked, not expired. */
export function agentLive(a: TokenRow, now: Date): boolean {
  return !a.revoked && (a.expiresAt === null || now.getTime() < Date.parse(a.expiresAt));
}

/** The scope of agent row `a` as scope.ts takes it. */
export function scopeOf(a: Pick<TokenRow, 'scopes' | 'folders' | 'tags'>): AgentScope {
  return { scopes: new Set(a.scopes), folders: new Set(a.folders), tags: new Set(a.tags) };
}

/** The own key K_a of agent row `a`, as the owner unwraps it. Throws DECRYPT_FAILED (CV-4004) on a damaged wrap. */
export function agentOwnKey(p: OwnerPrincipal, a: TokenRow): Buffer {
  return a.keyOwner === null ? legacyAgentKey(p.keys.agent, p.vaultId, a.agentId!) : open(p.keys.owner, a.keyOwner, agentKeyAad(p.vaultId, a.agentId!));
}

/** Seals a fresh agent key `ka` of `agentId` under the owner key, for the `agent.create` body. */
export function sealAgentKey(p: OwnerPrincipal, agentId: string, ka: Buffer): string {
  return seal(p.keys.owner, ka, agentKeyAad(p.vaultId, agentId));
}

/**
 * The agents that must receive the entry key of a new revision of `entryId` whose `parent` and
 * `tags` are given: every live agent of the vault whose scope covers it (scope.ts), with its K_a.
 */
export function recipientsFor(p: OwnerPrincipal, store: VaultStore, entryId: string, parts: Pick<EntryPutBody, 'parent' | 'tags'>, now: Date): KeyRecipient[] {
  const probe = { type: 'any', parent: parts.parent, title: 'c1.x', fields: [], ...(parts.tags ? { tags: parts.tags } : {}) } as EntryPutBody;
  return store.listAgents()
    .filter((a) => agentLive(a, now) && entryInScope(store, scopeOf(a), entryId, probe))
    .map((a) => ({ agentId: a.agentId!, key: agentOwnKey(p, a) }));
}

/** Emits an `entry.put` of `entryId` with `input`, its entry key sealed for the owner and the agents covering it. */
export function emitPut(p: OwnerPrincipal, store: VaultStore, emit: Emit, entryId: string, input: EntryInput, now: Date): Revision {
  return emit('entry.put', entryId, (seq) => encryptEntry(p, entryId, input, seq, recipientsFor(p, store, entryId, { parent: input.parent, tags: input.tags ? [...input.tags] : undefined }, now)));
}

/** The owner's plaintext of entry revision `rev`, as an input for writing it again (tags kept). */
export function inputOf(p: OwnerPrincipal, rev: Revision): EntryInput {
  const v = decryptView(p, rev, rev.createdAt);
  return {
    type: v.type as EntryInput['type'], parent: v.parent, title: v.title, tags: v.tags,
    fields: v.fields.map((f) => ({ label: f.label, kind: f.kind, tier: f.tier, value: 'value' in f ? f.value : '' })),
  };
}

/**
 * Re-keys live entry `entryId`: a new `entry.put` with the same content and a fresh entry key,
 * sealed for the owner and the agents covering the entry now. Returns the revision, or undefined
 * when the entry is not live (a tombstone already holds no key).
 */
export function rekey(p: OwnerPrincipal, store: VaultStore, emit: Emit, entryId: string, now: Date): Revision | undefined {
  const e = store.getEntry(entryId);
  if (!e || e.deleted) return undefined;
  return emitPut(p, store, emit, entryId, inputOf(p, store.getRevision(e.headSeq)!), now);
}

/** Live entries (ids) that scope `scope` covers. */
export function coveredBy(store: VaultStore, scope: AgentScope): string[] {
  return store.listEntries().filter((en) => entryInScope(store, scope, en.entryId)).map((en) => en.entryId);
}

/**
 * For agent `agentId` with own key `ka`, about to cover `entryIds`: the `grants` of its
 * `agent.create`/`agent.update` body (a wrap of the current entry key of each entry it has no
 * grant on yet), and the entries to re-key after that revision because their newest revision has
 * no entry key (written before issue 14 item 3).
 */
export function grantsFor(p: OwnerPrincipal, store: VaultStore, agentId: string, ka: Buffer, entryIds: readonly string[]): { grants: Record<string, { seq: number; wrap: string }>; rekeyAfter: string[] } {
  const grants: Record<string, { seq: number; wrap: string }> = {};
  const rekeyAfter: string[] = [];
  for (const entryId of entryIds) {
    const head = store.getRevision(store.getEntry(entryId)!.headSeq)!;
    if (store.getGrant(entryId, agentId)?.seq === head.seq) continue;
    const body = entryBody(head);
    if (body.key_owner === undefined) {
      rekeyAfter.push(entryId);
      continue;
    }
    const ke = open(p.keys.owner, body.key_owner, entryKeyAad(p.vaultId, entryId, head.seq, 'owner'));
    grants[entryId] = { seq: head.seq, wrap: seal(ka, ke, entryKeyAad(p.vaultId, entryId, head.seq, agentId)) };
  }
  return { grants, rekeyAfter };
}

/**
 * Entries agent `a` could read before a narrowing or revocation: those its scope covers and those
 * it holds a grant on (whatever the scope says now).
 */
export function readableBy(store: VaultStore, a: TokenRow): Set<string> {
  return new Set([...coveredBy(store, scopeOf(a)), ...store.grantsOfAgent(a.agentId!).map((g) => g.entryId)]);
}

/**
 * After a write that may move entries in or out of folder scopes (entry `entryId`'s parent changed,
 * or it was deleted or restored): re-keys every live entry below it whose grants on its newest
 * revision no longer match the live agents covering it. Cheap when no live agent has a folder scope.
 */
export function reconcileBelow(p: OwnerPrincipal, store: VaultStore, emit: Emit, entryId: string, now: Date): void {
  const agents = store.listAgents().filter((a) => agentLive(a, now));
  if (!agents.some((a) => a.folders.length > 0)) return;
  const parentOf = new Map<string, string | null>();
  for (const en of store.listEntries()) parentOf.set(en.entryId, entryBody(store.getRevision(en.headSeq)!).parent);
  const below = [...parentOf.keys()].filter((id) => {
    const seen = new Set<string>([id]);
    for (let cur = parentOf.get(id) ?? null; cur !== null && !seen.has(cur); cur = parentOf.get(cur) ?? null) {
      if (cur === entryId) return true;
      seen.add(cur);
    }
    return false;
  });
  for (const id of below) {
    const head = store.getEntry(id)!.headSeq;
    const granted = new Set(store.grantsOfEntry(id).filter((g) => g.seq === head).map((g) => g.agentId));
    const covering = new Set(agents.filter((a) => entryInScope(store, scopeOf(a), id)).map((a) => a.agentId!));
    const legacyHead = entryBody(store.getRevision(head)!).key_owner === undefined;
    const same = granted.size === covering.size && [...covering].every((x) => granted.has(x));
    if (legacyHead ? covering.size > 0 : !same) rekey(p, store, emit, id, now);
  }
}

/**
 * Audit records of a write made of a main revision (the first emitted) and re-key revisions:
 * `main`, then one `entry.rekey` record per re-keyed entry, so the owner's audit trail shows them.
 */
export function auditWithRekeys(main: AuditInput): (revisions: readonly Revision[]) => AuditInput[] {
  return (revisions) => [main, ...revisions.slice(1).filter((r) => r.kind === 'entry.put').map((r): AuditInput => ({ actor: 'owner', action: 'entry.rekey', entryId: r.subject, outcome: 'ok', ip: main.ip ?? null }))];
}
