/**
 * Vault lifecycle and token authentication (DESIGN.md §2–3): creating a vault with fresh vault
 * and agent keys wrapped under a new owner token, and turning a presented bearer token into a
 * Principal with its unwrapped keys.
 */
import { randomBytes } from 'node:crypto';
import type { NodeStore } from '../store/node-store.js';
import type { VaultFiles } from '../store/vault-files.js';
import type { RevisionWriter } from './writer.js';
import { kekFor as kekOf, mintToken, parseToken, unwrapKeys, verifierMatches, wrapKeys } from './tokens.js';
import { KEY_BYTES, randomKey } from './crypto.js';
import { newVaultId, type AgentId, type TokenId, type VaultId } from '../lib/ids.js';
import { cvError, Errors } from '../lib/errors.js';
import { DEFAULT_LIMITS, type Principal } from './principal.js';
import { RECOVERY_TOKEN_NAME } from './revision.js';
import { appendAudit } from './audit.js';
import { createTokenKeyCache, type TokenKeyCache } from './token-cache.js';
import { legacyAgentKey } from './entry-keys.js';
import { createTokenExpiry } from './token-expiry.js';
import type { Clock } from '../lib/clock.js';

/** Dependencies of the vault service. */
export interface VaultServiceDeps {
  readonly node: NodeStore;
  readonly files: VaultFiles;
  readonly writer: RevisionWriter;
  readonly now: () => Date;
  /** Cache of verified tokens' unwrapped keys (token-cache.ts); default a fresh bounded one. */
  readonly tokenCache?: TokenKeyCache;
  /**
   * Compares a presented secret with a stored verifier (default `verifierMatches`: one HKDF-SHA256
   * derivation and a constant-time compare). Injected by tests to count derivations.
   */
  readonly verify?: (secret: Buffer, tokenId: string, stored: string) => boolean;
  /** Clock of token expiry (token-expiry.ts): wall clock for `expires_at`, monotonic for TTL windows. Default `systemClock`. */
  readonly clock?: Pick<Clock, 'nowMs' | 'wallNow'>;
}

/**
 * Verifier compared against when the vault or the token id does not exist, so that a failed check
 * costs one derivation whatever was wrong (issue 13 §2). Random per process: it matches nothing.
 */
const DUMMY_VERIFIER = randomBytes(32).toString('base64url');

/** A new token wrapping `keys` (owner + agent key), with the body fields that store it. */
function mintWrapped(vaultId: VaultId, keys: Buffer) {
  const tok = mintToken(vaultId);
  return { text: tok.text, tokenId: tok.tokenId, body: { owner_token_id: tok.tokenId, owner_verifier: tok.verifier, owner_wrapped: wrapKeys(tok.kek, vaultId, tok.tokenId, keys) } };
}

/** The recovery-code fields of a `vault.create` or `owner.rotate` body. */
function recoveryBody(r: ReturnType<typeof mintWrapped>) {
  return { recovery_token_id: r.tokenId, recovery_verifier: r.body.owner_verifier, recovery_wrapped: r.body.owner_wrapped };
}

/** Vault service; see `createVaultService`. */
export type VaultService = ReturnType<typeof createVaultService>;

/** Builds the vault service. */
export function createVaultService(deps: VaultServiceDeps) {
  const cache = deps.tokenCache ?? createTokenKeyCache();
  const verify = deps.verify ?? verifierMatches;
  const expiry = createTokenExpiry(deps.clock);

  /** One `owner.rotate`: revokes the owner tokens (and the recovery code when `newRecovery`), stores the new ones. */
  async function rotate(vaultId: VaultId, keys: Buffer, newRecovery: boolean, actor: string, action: string, ip: string | null): Promise<{ ownerToken: string; recoveryCode?: string }> {
    const store = deps.files.find(vaultId);
    if (!store) throw cvError('VAULT_NOT_FOUND');
    const owner = mintWrapped(vaultId, keys);
    const recovery = newRecovery ? mintWrapped(vaultId, keys) : undefined;
    await deps.writer.append(store, 'owner.rotate', owner.tokenId, () => JSON.stringify({
      ...owner.body,
      // Read in the write's savepoint: a token stored by an earlier write of the same batch is revoked too.
      revoked: store.listOwnerTokens().filter((t) => newRecovery || t.name !== RECOVERY_TOKEN_NAME).map((t) => t.tokenId),
      ...(recovery ? recoveryBody(recovery) : {}),
    }), { actor, action, outcome: 'ok', ip });
    return { ownerToken: owner.text, ...(recovery ? { recoveryCode: recovery.text } : {}) };
  }

  return {
    /**
     * Creates a vault: random 256-bit vault (owner-tier) and agent-tier keys, both wrapped under
     * a new owner token; revision 1 (`vault.create`) carries the wrap. Returns the owner token
     * text, which is shown once and never stored.
     */
    async createVault(opts: { recoveryCode?: boolean } = {}): Promise<{ vaultId: VaultId; ownerToken: string; recoveryCode?: string }> {
      const vaultId = newVaultId();
      const keys = Buffer.concat([randomKey(), randomKey()]);
      const owner = mintWrapped(vaultId, keys);
      const recovery = opts.recoveryCode ? mintWrapped(vaultId, keys) : undefined;
      const store = deps.files.openOrCreate(vaultId);
      // The vault comes to exist with revision 1, in its savepoint: a write refused at commit (e.g.
      // the POP was demoted while the request was in flight) leaves no empty vault behind.
      await deps.writer.append(store, 'vault.create', null, () => JSON.stringify({ ...owner.body, ...(recovery ? recoveryBody(recovery) : {}) }),
        { actor: 'admin', action: 'vault.create', outcome: 'ok' });
      return { vaultId, ownerToken: owner.text, ...(recovery ? { recoveryCode: recovery.text } : {}) };
    },

    /**
     * Rotates the owner token (issue 15 item 5): a new owner token wrapping the same vault and
     * agent keys, every other owner token revoked, in one `owner.rotate` revision that replicates
     * like every write. With `recoveryCode`, the recovery code is replaced by a new one too.
     * Owner only (FORBIDDEN, CV-2003). Returns the new texts, shown once and never stored.
     */
    async rotateOwner(p: Principal, opts: { recoveryCode?: boolean }, ip: string | null): Promise<{ ownerToken: string; recoveryCode?: string }> {
      if (p.kind !== 'owner') throw cvError('FORBIDDEN', 'only the owner token can rotate the owner token');
      return rotate(p.vaultId, Buffer.concat([p.keys.owner, p.keys.agent]), opts.recoveryCode === true, 'owner', 'owner.rotate', ip);
    },

    /**
     * Mints a new owner token with the vault's recovery code (issue 15 item 5): the code is
     * verified like any token (a wrong or used one is AUTH_INVALID, CV-2002), its wrap opened to
     * the vault keys, and one `owner.rotate` revision revokes every owner token and the used code
     * and stores the new owner token and a new recovery code. Returns both new texts.
     */
    async recoverOwner(code: string, ip: string | null): Promise<{ ownerToken: string; recoveryCode: string }> {
      const parsed = parseToken(code);
      if (!parsed) throw cvError('AUTH_INVALID');
      const store = deps.files.find(parsed.vaultId);
      const row = store?.getToken(parsed.tokenId);
      const matches = verify(parsed.secret, parsed.tokenId, row?.verifier ?? DUMMY_VERIFIER);
      if (!matches || !store || !row || row.revoked || row.kind !== 'owner' || row.name !== RECOVERY_TOKEN_NAME) throw cvError('AUTH_INVALID');
      const keys = unwrapKeys(kekOf(parsed.secret, parsed.tokenId), parsed.vaultId, parsed.tokenId, row.wrapped);
      const out = await rotate(parsed.vaultId, keys, true, 'recovery', 'owner.recover', ip);
      return { ownerToken: out.ownerToken, recoveryCode: out.recoveryCode! };
    },

    /**
     * Verifies a bearer token and unwraps its keys. Every failure — malformed, unknown vault,
     * unknown token, wrong secret, revoked agent — throws the same AUTH_INVALID (CV-2002) so that
     * a caller learns nothing about which part was wrong (issue 4, "errors reveal no internals").
     * `ip` is the caller's address, recorded when a revoked agent's genuine token is presented.
     * A locked agent authenticates (its `locked` flag is set); the read gate refuses it.
     * An expired agent token (token-expiry.ts, issue 14 item 2) is refused with TOKEN_EXPIRED
     * (CV-4030, 401), audited as `auth` denied CV-4030: only after its secret verified, so the
     * code tells nothing to someone who does not hold the token.
     *
     * The token row is read on every call, so its `revoked` and `locked` flags are always the
     * committed (or replicated) ones; only the HKDFs and the key unwrap are skipped when the same
     * token text was verified against the same row before (token-cache.ts, issue 12 item 5).
     *
     * Every well-formed token costs exactly one verifier derivation, against the stored verifier or
     * a dummy one when the vault or token id is unknown: a real token id with a wrong secret takes
     * as long to refuse as an unknown vault (issue 13 §2; figures in docs/security.md).
     */
    authenticate(text: string, ip: string | null = null): Principal {
      const parsed = parseToken(text);
      if (!parsed) throw cvError('AUTH_INVALID');
      const store = deps.files.find(parsed.vaultId);
      const row = store?.getToken(parsed.tokenId);
      let keys = row ? cache.get(text, row) : undefined;
      if (!keys) {
        const matches = verify(parsed.secret, parsed.tokenId, row?.verifier ?? DUMMY_VERIFIER);
        if (!matches) throw cvError('AUTH_INVALID');
      }
      // A recovery code opens only POST /api/owner/recover (recoverOwner), never the client API.
      if (!store || !row || row.name === RECOVERY_TOKEN_NAME) throw cvError('AUTH_INVALID');
      if (row.revoked) {
        cache.dropToken(parsed.vaultId, parsed.tokenId);
        // The genuine secret of a revoked agent: the vault is known, so the attempt is audited
        // (issue 6 item 4) under AGENT_REVOKED, while the caller sees the same AUTH_INVALID.
        store.txRelaxed(() => appendAudit(store, { actor: row.kind === 'owner' ? 'owner' : `agent:${row.agentId}`, action: 'auth', outcome: 'denied', code: Errors.AGENT_REVOKED.code, ip }, deps.now().toISOString()));
        throw cvError('AUTH_INVALID');
      }
      if (row.kind === 'agent' && expiry.expired(parsed.vaultId, parsed.tokenId, row)) {
        store.txRelaxed(() => appendAudit(store, { actor: `agent:${row.agentId}`, action: 'auth', outcome: 'denied', code: Errors.TOKEN_EXPIRED.code, ip }, deps.now().toISOString()));
        throw cvError('TOKEN_EXPIRED', undefined, { expired_at: row.expiresAt });
      }
      if (!keys) {
        const raw = unwrapKeys(kekOf(parsed.secret, parsed.tokenId), parsed.vaultId, parsed.tokenId, row.wrapped);
        // An agent's wrap holds its own key K_a (issue 14 item 3), or, for an agent created before,
        // the shared agent-tier key, from which its K_a is derived (entry-keys.ts legacyAgentKey).
        keys = row.kind === 'owner' ? { owner: raw.subarray(0, KEY_BYTES), agent: raw.subarray(KEY_BYTES) }
          : row.keyOwner !== null ? { own: raw } : { agent: raw, own: legacyAgentKey(raw, parsed.vaultId, row.agentId!) };
        cache.set(text, parsed.vaultId, parsed.tokenId, row, keys);
      }
      if (row.kind === 'owner') {
        return { kind: 'owner', vaultId: parsed.vaultId, tokenId: parsed.tokenId as TokenId, keys: { owner: keys.owner!, agent: keys.agent! } };
      }
      return {
        kind: 'agent', vaultId: parsed.vaultId, tokenId: parsed.tokenId as TokenId, agentId: row.agentId as AgentId, scopes: new Set(row.scopes), folders: new Set(row.folders), tags: new Set(row.tags),
        keys: { own: keys.own!, ...(keys.agent ? { agent: keys.agent } : {}) },
        locked: row.locked, limits: { perMinute: row.perMinute ?? DEFAULT_LIMITS.perMinute, perHour: row.perHour ?? DEFAULT_LIMITS.perHour },
      };
    },
  };
}
