/**
 * Agents (DESIGN.md §2–3, issue 6 items 1, 3 and 7): scoped tokens that unwrap only the agent-tier
 * key. Creation, revocation and unlocking are revisions, so they replicate; a revoked token stops
 * working on the next request, on either POP. Locks are written by the read gate (agent-gate.ts).
 */
import type { VaultFiles } from '../store/vault-files.js';
import type { TokenRow, VaultStore } from '../store/vault-store.js';
import type { RevisionWriter } from './writer.js';
import { newAgentId, type VaultId } from '../lib/ids.js';
import { cvError, Errors } from '../lib/errors.js';
import { mintToken, wrapKeys } from './tokens.js';
import { open, randomKey, seal } from './crypto.js';
import { agentLive, agentOwnKey, auditWithRekeys, coveredBy, grantsFor, readableBy, rekey, scopeOf, sealAgentKey } from './entry-keys.js';
import { agentNameAad } from './aad.js';
import { actorOf, DEFAULT_LIMITS, type OwnerPrincipal, type Principal, type RateLimits } from './principal.js';
import { appendAudit } from './audit.js';
import { MAX_TTL_SECONDS } from './revision.js';
import { entryBody } from './entry-codec.js';

/**
 * An agent as listed to its owner. `limits` in distinct entries per minute and per hour;
 * `scopes` entry ids, `folders` folder entry ids, `tags` tags (issue 14 item 2); `expires_at` the
 * ISO-8601 UTC date its token stops working, null when it never expires; `expired` whether it has.
 */
export interface AgentView {
  agent_id: string;
  name: string;
  scopes: string[];
  folders: string[];
  tags: string[];
  expires_at: string | null;
  expired: boolean;
  revoked: boolean;
  locked: boolean;
  limits: { per_minute: number; per_hour: number };
}

/**
 * An agent's scope and expiry as the owner gives them (issue 14 item 2). `expires_at`: an
 * ISO-8601 date in the future; `ttl_seconds`: seconds from the write; at most one of the two,
 * within `MAX_TTL_SECONDS` (10 years). On update, an absent part keeps its value and
 * `expires_at: null` removes the expiry.
 */
export interface AgentScopeInput {
  readonly scopes?: readonly string[];
  readonly folders?: readonly string[];
  readonly tags?: readonly string[];
  readonly expires_at?: string | null;
  readonly ttl_seconds?: number;
}

/**
 * The stored expiry of `input` at wall-clock time `now`: `{expires_at, ttl_seconds}` (either
 * absent), `null` to clear, or undefined when `input` names none. Throws AGENT_SCOPE_INVALID
 * (CV-3030) for both at once, an unparsable or past date, or one more than 10 years ahead.
 */
export function expiryOf(input: AgentScopeInput, now: Date): { expires_at?: string; ttl_seconds?: number } | null | undefined {
  if (input.expires_at !== undefined && input.ttl_seconds !== undefined) throw cvError('AGENT_SCOPE_INVALID', 'give expires_at or ttl_seconds, not both');
  if (input.ttl_seconds !== undefined) {
    if (!Number.isInteger(input.ttl_seconds) || input.ttl_seconds < 1 || input.ttl_seconds > MAX_TTL_SECONDS) throw cvError('AGENT_SCOPE_INVALID', `ttl_seconds must be an integer from 1 to ${MAX_TTL_SECONDS}`);
    return { expires_at: new Date(now.getTime() + input.ttl_seconds * 1000).toISOString(), ttl_seconds: input.ttl_seconds };
  }
  if (input.expires_at === null) return null;
  if (input.expires_at === undefined) return undefined;
  const at = Date.parse(input.expires_at);
  if (!Number.isFinite(at)) throw cvError('AGENT_SCOPE_INVALID', 'expires_at must be an ISO-8601 date, e.g. 2026-12-31T23:59:59Z');
  if (at <= now.getTime()) throw cvError('AGENT_SCOPE_INVALID', 'expires_at is not in the future');
  if (at - now.getTime() > MAX_TTL_SECONDS * 1000) throw cvError('AGENT_SCOPE_INVALID', 'expires_at is more than 10 years ahead');
  return { expires_at: new Date(at).toISOString() };
}

const uniq = (xs: readonly string[] | undefined): string[] => [...new Set(xs ?? [])];

/**
 * Checks that every id in `folders` is a folder: a live entry of type `folder` (DESIGN.md §2
 * entry types; docs/agents.md, docs/api.md `POST /api/agents`). Throws AGENT_FOLDER_INVALID
 * (CV-4023, 400) naming the first id that is not, with its type, before anything is written.
 * Found by a newcomer's try-out: `agent add --folder <a credential>` was accepted.
 */
function checkFolders(store: VaultStore, folders: readonly string[]): void {
  for (const id of folders) {
    const e = store.getEntry(id);
    const type = e && !e.deleted ? entryBody(store.getRevision(e.headSeq)!).type : undefined;
    if (type === 'folder') continue;
    const what = type !== undefined ? `an entry of type ${type}` : e ? 'a deleted entry' : 'not an entry of this vault';
    throw cvError('AGENT_FOLDER_INVALID', `folders: ${id} is ${what}, not a folder; ${Errors.AGENT_FOLDER_INVALID.message}`, { folder: id, ...(type !== undefined ? { type } : {}) });
  }
}

/** Agents service; see `createAgentsService`. */
export type AgentsService = ReturnType<typeof createAgentsService>;

/**
 * Builds the agents service. All methods are owner-only: an agent's attempt is audited and
 * refused with FORBIDDEN (CV-2003). `now` (the audit clock) defaults to the system clock.
 */
export function createAgentsService(deps: { files: VaultFiles; writer: RevisionWriter; now?: () => Date }) {
  const now = deps.now ?? (() => new Date());
  const ownerStore = (p: Principal, action: string, ip: string | null): { store: VaultStore; p: OwnerPrincipal } => {
    const s = deps.files.find(p.vaultId as VaultId);
    if (!s) throw cvError('VAULT_NOT_FOUND');
    if (p.kind !== 'owner') {
      s.txRelaxed(() => appendAudit(s, { actor: actorOf(p), action, outcome: 'denied', code: Errors.FORBIDDEN.code, ip }, now().toISOString()));
      throw cvError('FORBIDDEN');
    }
    return { store: s, p };
  };
  const agentOf = (store: VaultStore, agentId: string) => {
    const a = store.getAgent(agentId);
    if (!a) throw cvError('NOT_FOUND', 'agent not found');
    return a;
  };

  const viewOf = (p: OwnerPrincipal, a: TokenRow): AgentView => ({
    agent_id: a.agentId!, name: open(p.keys.agent, a.name!, agentNameAad(p.vaultId, a.agentId!)).toString('utf8'), scopes: [...a.scopes],
    folders: [...a.folders], tags: [...a.tags], expires_at: a.expiresAt, expired: a.expiresAt !== null && !(now().getTime() < Date.parse(a.expiresAt)), revoked: a.revoked,
    locked: a.locked, limits: { per_minute: a.perMinute ?? DEFAULT_LIMITS.perMinute, per_hour: a.perHour ?? DEFAULT_LIMITS.perHour },
  });

  return {
    /**
     * Creates an agent with `scopes` (entry ids), optional `extra` folders, tags and expiry
     * (issue 14 item 2; AGENT_SCOPE_INVALID CV-3030 on a bad expiry) and optional `limits`
     * (defaults 3 distinct entries per minute, 10 per hour). Returns its id, token text (shown
     * once) and `expires_at` (null: never).
     */
    async create(principal: Principal, name: string, scopes: readonly string[], ip: string | null, limits?: RateLimits, extra: AgentScopeInput = {}): Promise<{ agent_id: string; token: string; expires_at: string | null }> {
      const { store, p } = ownerStore(principal, 'agent.create', ip);
      const agentId = newAgentId();
      const expiry = expiryOf(extra, now()) ?? {};
      const folders = uniq(extra.folders);
      checkFolders(store, folders);
      const tags = uniq(extra.tags);
      const tok = mintToken(p.vaultId);
      // Issue 14 item 3: the agent's own key K_a, for its token and (sealed) for the owner.
      const ka = randomKey();
      await deps.writer.appendAll(store, (emit) => {
        // In the write's savepoint: the grants are for the entries' revisions as they are now.
        const { grants, rekeyAfter } = grantsFor(p, store, agentId, ka, coveredBy(store, scopeOf({ scopes, folders, tags })));
        emit('agent.create', agentId, () => JSON.stringify({
          token_id: tok.tokenId,
          verifier: tok.verifier,
          wrapped: wrapKeys(tok.kek, p.vaultId, tok.tokenId, ka),
          key_owner: sealAgentKey(p, agentId, ka),
          name: seal(p.keys.agent, name, agentNameAad(p.vaultId, agentId)),
          scopes: [...scopes],
          ...(limits ? { limits: { per_minute: limits.perMinute, per_hour: limits.perHour } } : {}),
          ...(folders.length > 0 ? { folders } : {}),
          ...(tags.length > 0 ? { tags } : {}),
          ...expiry,
          ...(Object.keys(grants).length > 0 ? { grants } : {}),
        }));
        for (const entryId of rekeyAfter) rekey(p, store, emit, entryId, now());
      }, auditWithRekeys({ actor: 'owner', action: 'agent.create', entryId: agentId, outcome: 'ok', ip }));
      return { agent_id: agentId, token: tok.text, expires_at: expiry.expires_at ?? null };
    },

    /**
     * Changes an agent's scope and/or expiry (issue 14 item 2) with an `agent.update` revision,
     * which replicates and is audited (`agent.update`); the agent's next request, on either POP,
     * is judged by the new scope. Parts absent from `input` keep their value; `expires_at: null`
     * removes the expiry. NOT_FOUND when unknown; AGENT_REVOKED_UPDATE (CV-4031) for a revoked
     * agent; AGENT_SCOPE_INVALID (CV-3030) for a bad expiry. Returns the agent as listed.
     */
    async update(principal: Principal, agentId: string, input: AgentScopeInput, ip: string | null): Promise<AgentView> {
      const { store, p } = ownerStore(principal, 'agent.update', ip);
      agentOf(store, agentId);
      if (input.folders !== undefined) checkFolders(store, uniq(input.folders));
      const expiry = expiryOf(input, now());
      await deps.writer.appendAll(store, (emit) => {
        const a = agentOf(store, agentId);
        if (a.revoked) throw cvError('AGENT_REVOKED_UPDATE');
        const keep = a.expiresAt === null ? {} : { expires_at: a.expiresAt, ...(a.ttlSeconds === null ? {} : { ttl_seconds: a.ttlSeconds }) };
        const folders = input.folders === undefined ? a.folders : uniq(input.folders);
        const tags = input.tags === undefined ? a.tags : uniq(input.tags);
        const scopes = input.scopes === undefined ? [...a.scopes] : uniq(input.scopes);
        const expiryParts: { expires_at?: string; ttl_seconds?: number } = expiry === undefined ? keep : expiry ?? {};
        // Issue 14 item 3: what the agent may read after this revision (nothing once expired) gets
        // grants; what it could read before and may not any more is re-keyed after it.
        const after = { ...a, scopes, folders, tags, expiresAt: expiryParts.expires_at ?? null };
        const covered = agentLive(after, now()) ? coveredBy(store, scopeOf(after)) : [];
        const before = readableBy(store, a);
        const { grants, rekeyAfter } = grantsFor(p, store, agentId, agentOwnKey(p, a), covered);
        const keepSet = new Set(covered);
        emit('agent.update', agentId, () => JSON.stringify({
          scopes,
          ...(folders.length > 0 ? { folders } : {}),
          ...(tags.length > 0 ? { tags } : {}),
          ...expiryParts,
          ...(Object.keys(grants).length > 0 ? { grants } : {}),
        }));
        for (const entryId of new Set([...rekeyAfter, ...[...before].filter((e) => !keepSet.has(e))])) rekey(p, store, emit, entryId, now());
      }, auditWithRekeys({ actor: 'owner', action: 'agent.update', entryId: agentId, outcome: 'ok', ip }));
      return viewOf(p, agentOf(store, agentId));
    },

    /** Lists the vault's agents, oldest first. `expired` compares `expires_at` with the wall clock. */
    list(principal: Principal, ip: string | null = null): AgentView[] {
      const { store, p } = ownerStore(principal, 'agent.list', ip);
      return store.listAgents().map((a) => viewOf(p, a));
    },

    /**
     * Revokes an agent; NOT_FOUND when unknown. Revoking twice is a no-op. In the same commit, every
     * live entry the agent could read (its scope, its grants) gets a re-key revision (issue 14 item
     * 3): a fresh entry key for the owner and the remaining agents, so the revoked token opens
     * nothing written from then on, also offline. Resolves once committed.
     */
    async revoke(principal: Principal, agentId: string, ip: string | null): Promise<void> {
      const { store, p } = ownerStore(principal, 'agent.revoke', ip);
      if (agentOf(store, agentId).revoked) return;
      await deps.writer.appendAll(store, (emit) => {
        const a = agentOf(store, agentId);
        if (a.revoked) return;
        const before = readableBy(store, a);
        emit('agent.revoke', agentId, () => '{}');
        for (const entryId of before) rekey(p, store, emit, entryId, now());
      }, auditWithRekeys({ actor: 'owner', action: 'agent.revoke', entryId: agentId, outcome: 'ok', ip }));
    },

    /**
     * Unlocks a locked agent (issue 6 item 3) with an `agent.unlock` revision, which replicates.
     * NOT_FOUND when unknown; a no-op for an agent that is not locked. Returns whether it was locked.
     */
    async unlock(principal: Principal, agentId: string, ip: string | null): Promise<{ agent_id: string; was_locked: boolean }> {
      const { store } = ownerStore(principal, 'agent.unlock', ip);
      if (!agentOf(store, agentId).locked) return { agent_id: agentId, was_locked: false };
      await deps.writer.append(store, 'agent.unlock', agentId, () => '{}', { actor: 'owner', action: 'agent.unlock', entryId: agentId, outcome: 'ok', ip });
      return { agent_id: agentId, was_locked: true };
    },
  };
}
