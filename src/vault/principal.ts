/**
 * Who is calling, once a bearer token has been verified (DESIGN.md §1–2). Holds the unwrapped key
 * material for the duration of one request only; never logged or serialised.
 */
import type { AgentId, TokenId, VaultId } from '../lib/ids.js';

/**
 * Keys a principal may use. The owner holds the owner key and the vault's shared agent-tier key;
 * an agent holds its own key `own` (K_a, issue 14 item 3) and, only if it was created before
 * key-enforced scopes, the shared agent-tier key.
 */
export interface TierKeys {
  /** Owner-tier key (vault key); undefined for agents. */
  readonly owner?: Buffer;
  /**
   * The vault's shared agent-tier key: opens titles and agent-tier values of revisions written
   * before issue 14 item 3, and agent names. The owner's, and a pre-upgrade agent's; undefined
   * for agents created since.
   */
  readonly agent?: Buffer;
  /** An agent's own key K_a: unwraps the entry keys granted to it (issue 14 item 3). Agents only. */
  readonly own?: Buffer;
}

/** The vault owner. */
export interface OwnerPrincipal {
  readonly kind: 'owner';
  readonly vaultId: VaultId;
  readonly tokenId: TokenId;
  readonly keys: TierKeys & { readonly owner: Buffer; readonly agent: Buffer };
}

/** A scoped agent. */
export interface AgentPrincipal {
  readonly kind: 'agent';
  readonly vaultId: VaultId;
  readonly tokenId: TokenId;
  readonly agentId: AgentId;
  /** Entry ids the agent may read. */
  readonly scopes: ReadonlySet<string>;
  /** Folder entry ids: the agent may read each and every entry whose parent chain holds one (issue 14 item 2). */
  readonly folders: ReadonlySet<string>;
  /** Tags: the agent may read every entry carrying one (issue 14 item 2). */
  readonly tags: ReadonlySet<string>;
  readonly keys: TierKeys & { readonly own: Buffer };
  /** Locked by a replicated `agent.lock` revision (issue 6 item 3): every read is refused. */
  readonly locked: boolean;
  /** Distinct entries the agent may read per minute and per hour (defaults 3 and 10). */
  readonly limits: RateLimits;
}

/** Per-agent rate limits in distinct entries per window (issue 6 item 3). */
export interface RateLimits {
  /** Distinct entries in any 60-second window. */
  readonly perMinute: number;
  /** Distinct entries in any 3600-second window. */
  readonly perHour: number;
}

/** Default limits (issue 6 item 3): 3 distinct entries per minute, 10 per hour. */
export const DEFAULT_LIMITS: RateLimits = Object.freeze({ perMinute: 3, perHour: 10 });

/** A verified caller of the vault API. */
export type Principal = OwnerPrincipal | AgentPrincipal;

/** Audit actor string of a principal: `owner` or `agent:<id>`. */
export function actorOf(p: Principal): string {
  return p.kind === 'owner' ? 'owner' : `agent:${p.agentId}`;
}
