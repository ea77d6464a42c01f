/**
 * Agents (DESIGN.md §2–3, issue 6 items 1, 3 and 7): scoped tokens that unwrap only the agent-tier
 * key. Creation, revocation and unlocking are revisions, so they replicate; a revoked token stops
 * working on the next request, on either POP. Locks are written by the read gate (agent-gate.ts).
 */
import type { VaultFiles } from '../store/vault-files.js';
import type { VaultStore } from '../store/vault-store.js';
import type { RevisionWriter } from './writer.js';
import { newAgentId, type VaultId } from '../lib/ids.js';
import { cvError, Errors } from '../lib/errors.js';
import { mintToken, wrapKeys } from './tokens.js';
import { open, seal } from './crypto.js';
import { agentNameAad } from './aad.js';
import { actorOf, DEFAULT_LIMITS, type OwnerPrincipal, type Principal, type RateLimits } from './principal.js';
import { appendAudit } from './audit.js';

/** An agent as listed to its owner. `limits` in distinct entries per minute and per hour. */
export interface AgentView {
  agent_id: string;
  name: string;
  scopes: string[];
  revoked: boolean;
  locked: boolean;
  limits: { per_minute: number; per_hour: number };
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

  return {
    /**
     * Creates an agent with `scopes` (entry ids) and optional `limits` (defaults 3 distinct entries
     * per minute, 10 per hour). Returns its id and token text (shown once).
     */
    async create(principal: Principal, name: string, scopes: readonly string[], ip: string | null, limits?: RateLimits): Promise<{ agent_id: string; token: string }> {
      const { store, p } = ownerStore(principal, 'agent.create', ip);
      const agentId = newAgentId();
      const tok = mintToken(p.vaultId);
      const body = JSON.stringify({
        token_id: tok.tokenId,
        verifier: tok.verifier,
        wrapped: wrapKeys(tok.kek, p.vaultId, tok.tokenId, p.keys.agent),
        name: seal(p.keys.agent, name, agentNameAad(p.vaultId, agentId)),
        scopes: [...scopes],
        ...(limits ? { limits: { per_minute: limits.perMinute, per_hour: limits.perHour } } : {}),
      });
      await deps.writer.append(store, 'agent.create', agentId, () => body, { actor: 'owner', action: 'agent.create', entryId: agentId, outcome: 'ok', ip });
      return { agent_id: agentId, token: tok.text };
    },

    /** Lists the vault's agents, oldest first. */
    list(principal: Principal, ip: string | null = null): AgentView[] {
      const { store, p } = ownerStore(principal, 'agent.list', ip);
      return store.listAgents().map((a) => ({
        agent_id: a.agentId!, name: open(p.keys.agent, a.name!, agentNameAad(p.vaultId, a.agentId!)).toString('utf8'), scopes: [...a.scopes], revoked: a.revoked,
        locked: a.locked, limits: { per_minute: a.perMinute ?? DEFAULT_LIMITS.perMinute, per_hour: a.perHour ?? DEFAULT_LIMITS.perHour },
      }));
    },

    /** Revokes an agent; NOT_FOUND when unknown. Revoking twice is a no-op. Resolves once committed. */
    async revoke(principal: Principal, agentId: string, ip: string | null): Promise<void> {
      const { store } = ownerStore(principal, 'agent.revoke', ip);
      if (agentOf(store, agentId).revoked) return;
      await deps.writer.append(store, 'agent.revoke', agentId, () => '{}', { actor: 'owner', action: 'agent.revoke', entryId: agentId, outcome: 'ok', ip });
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
