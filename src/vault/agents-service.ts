/**
 * Agents (DESIGN.md §2–3): scoped tokens that unwrap only the agent-tier key. Creation and
 * revocation are revisions, so they replicate; a revoked token stops working on the next request.
 */
import type { VaultFiles } from '../store/vault-files.js';
import type { RevisionWriter } from './writer.js';
import { newAgentId, type VaultId } from '../lib/ids.js';
import { cvError } from '../lib/errors.js';
import { mintToken, wrapKeys } from './tokens.js';
import { open, seal } from './crypto.js';
import { agentNameAad } from './aad.js';
import type { Principal } from './principal.js';

/** An agent as listed to its owner. */
export interface AgentView {
  agent_id: string;
  name: string;
  scopes: string[];
  revoked: boolean;
}

/** Agents service; see `createAgentsService`. */
export type AgentsService = ReturnType<typeof createAgentsService>;

/** Builds the agents service. All methods are owner-only (FORBIDDEN, CV-2003, otherwise). */
export function createAgentsService(deps: { files: VaultFiles; writer: RevisionWriter }) {
  const ownerStore = (p: Principal) => {
    if (p.kind !== 'owner') throw cvError('FORBIDDEN');
    const s = deps.files.find(p.vaultId as VaultId);
    if (!s) throw cvError('VAULT_NOT_FOUND');
    return { store: s, p };
  };

  return {
    /** Creates an agent with `scopes` (entry ids). Returns its id and token text (shown once). */
    create(principal: Principal, name: string, scopes: readonly string[], ip: string | null): { agent_id: string; token: string } {
      const { store, p } = ownerStore(principal);
      const agentId = newAgentId();
      const tok = mintToken(p.vaultId);
      const body = JSON.stringify({
        token_id: tok.tokenId,
        verifier: tok.verifier,
        wrapped: wrapKeys(tok.kek, p.vaultId, tok.tokenId, p.keys.agent),
        name: seal(p.keys.agent, name, agentNameAad(p.vaultId, agentId)),
        scopes: [...scopes],
      });
      deps.writer.append(store, 'agent.create', agentId, () => body, { actor: 'owner', action: 'agent.create', outcome: 'ok', ip });
      return { agent_id: agentId, token: tok.text };
    },

    /** Lists the vault's agents. */
    list(principal: Principal): AgentView[] {
      const { store, p } = ownerStore(principal);
      return store.listAgents().map((a) => ({
        agent_id: a.agentId!, name: open(p.keys.agent, a.name!, agentNameAad(p.vaultId, a.agentId!)).toString('utf8'), scopes: [...a.scopes], revoked: a.revoked,
      }));
    },

    /** Revokes an agent; NOT_FOUND when unknown. Revoking twice is a no-op. */
    revoke(principal: Principal, agentId: string, ip: string | null): void {
      const { store } = ownerStore(principal);
      const a = store.getAgent(agentId);
      if (!a) throw cvError('NOT_FOUND', 'agent not found');
      if (a.revoked) return;
      deps.writer.append(store, 'agent.revoke', agentId, () => '{}', { actor: 'owner', action: 'agent.revoke', outcome: 'ok', ip });
    },
  };
}
