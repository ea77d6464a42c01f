/**
 * Derives current state from one revision (DESIGN.md §2: "every mutation appends an immutable
 * revision"). The same function runs on the primary when it writes and on the backup when it
 * applies a push, so both POPs derive identical state from identical logs.
 *
 * Caller holds a transaction on `store`; throws ClavitorError PUSH_INVALID (CV-5006) when a body
 * does not match its kind's schema.
 */
import type { VaultStore } from '../store/vault-store.js';
import { AgentCreateBody, AgentLockBody, AgentUpdateBody, EmptyBody, EntryPutBody, OwnerRotateBody, RECOVERY_TOKEN_NAME, VaultCreateBody, type Revision } from './revision.js';
import { cvError } from '../lib/errors.js';
import type { z } from 'zod';

function parseBody<T extends z.ZodType>(schema: T, rev: Revision): z.infer<T> {
  let json: unknown;
  try {
    json = JSON.parse(rev.body);
  } catch {
    throw cvError('PUSH_INVALID', `revision ${rev.seq} of ${rev.vaultId}: body is not JSON`);
  }
  const r = schema.safeParse(json);
  if (!r.success) throw cvError('PUSH_INVALID', `revision ${rev.seq} of ${rev.vaultId}: body does not match ${rev.kind}`);
  return r.data;
}

const BODY_SCHEMAS = {
  'vault.create': VaultCreateBody,
  'entry.put': EntryPutBody,
  'entry.delete': EmptyBody,
  'agent.create': AgentCreateBody,
  'agent.revoke': EmptyBody,
  'agent.lock': AgentLockBody,
  'agent.unlock': EmptyBody,
  'agent.update': AgentUpdateBody,
  'owner.rotate': OwnerRotateBody,
} as const;

/**
 * Checks a revision's shape without writing: the body matches its kind, subject present where
 * needed, `vault.create` only at seq 1. Throws PUSH_INVALID (CV-5006).
 */
export function checkRevision(rev: Revision): void {
  parseBody(BODY_SCHEMAS[rev.kind], rev);
  if (rev.kind === 'vault.create' ? rev.seq !== 1 : !rev.subject) throw cvError('PUSH_INVALID', `revision ${rev.seq} of ${rev.vaultId}: bad subject or position for ${rev.kind}`);
}

/** Appends `rev` to `store` and updates the derived tables. Must run inside `store.tx`. */
export function applyRevision(store: VaultStore, rev: Revision): void {
  checkRevision(rev);
  applyCheckedRevision(store, rev);
}

/**
 * `applyRevision` for a revision that already passed `checkRevision` (the receiver checks a whole
 * push before writing any of it; checking again per revision doubled the body parsing). `lsn`: the
 * primary's log position of a replicated revision (issue 12 item 3); omitted, the next local one.
 */
export function applyCheckedRevision(store: VaultStore, rev: Revision, lsn?: number): void {
  store.insertRevision(rev, lsn);
  deriveRevision(store, rev);
}

/**
 * Updates the derived tables (entries, tokens, grants) for one already-stored revision. Lock state is
 * derived here too, so a backup enforces exactly the locks the primary wrote (issue 6 item 7).
 */
function deriveRevision(store: VaultStore, rev: Revision): void {
  const body = JSON.parse(rev.body) as Record<string, unknown>;
  switch (rev.kind) {
    case 'vault.create': {
      const b = body as z.infer<typeof VaultCreateBody>;
      store.insertToken({
        tokenId: b.owner_token_id, kind: 'owner', agentId: null, verifier: b.owner_verifier, wrapped: b.owner_wrapped, scopes: [], name: null, createdSeq: rev.seq,
        perMinute: null, perHour: null, folders: [], tags: [], expiresAt: null, ttlSeconds: null, keyOwner: null,
      });
      insertRecovery(store, b, rev.seq);
      return;
    }
    case 'owner.rotate': {
      const b = body as z.infer<typeof OwnerRotateBody>;
      for (const t of b.revoked) store.revokeToken(t);
      store.insertToken({
        tokenId: b.owner_token_id, kind: 'owner', agentId: null, verifier: b.owner_verifier, wrapped: b.owner_wrapped, scopes: [], name: null, createdSeq: rev.seq,
        perMinute: null, perHour: null, folders: [], tags: [], expiresAt: null, ttlSeconds: null, keyOwner: null,
      });
      insertRecovery(store, b, rev.seq);
      return;
    }
    case 'entry.put':
    case 'entry.delete': {
      const prev = store.getEntry(rev.subject!);
      store.upsertEntry(rev.subject!, rev.seq, prev?.createdSeq ?? rev.seq, rev.kind === 'entry.delete');
      // Issue 14 item 3: a new revision has a new entry key; only the agents it names can open it.
      store.deleteGrantsOfEntry(rev.subject!);
      const agents = rev.kind === 'entry.put' ? (body as z.infer<typeof EntryPutBody>).key_agents : undefined;
      for (const [agentId, wrap] of Object.entries(agents ?? {})) store.putGrant({ entryId: rev.subject!, agentId, seq: rev.seq, wrap });
      return;
    }
    case 'agent.create': {
      const b = body as z.infer<typeof AgentCreateBody>;
      store.insertToken({
        tokenId: b.token_id, kind: 'agent', agentId: rev.subject, verifier: b.verifier, wrapped: b.wrapped, scopes: b.scopes, name: b.name, createdSeq: rev.seq,
        perMinute: b.limits?.per_minute ?? null, perHour: b.limits?.per_hour ?? null,
        folders: b.folders ?? [], tags: b.tags ?? [], expiresAt: b.expires_at ?? null, ttlSeconds: b.ttl_seconds ?? null, keyOwner: b.key_owner ?? null,
      });
      putGrants(store, rev.subject!, b.grants);
      return;
    }
    case 'agent.update': {
      const b = body as z.infer<typeof AgentUpdateBody>;
      store.updateAgent(rev.subject!, { scopes: b.scopes, folders: b.folders ?? [], tags: b.tags ?? [], expiresAt: b.expires_at ?? null, ttlSeconds: b.ttl_seconds ?? null });
      putGrants(store, rev.subject!, b.grants);
      return;
    }
    case 'agent.revoke':
      store.revokeAgent(rev.subject!);
      store.deleteGrantsOfAgent(rev.subject!);
      return;
    case 'agent.lock':
    case 'agent.unlock':
      store.setAgentLocked(rev.subject!, rev.kind === 'agent.lock');
      return;
  }
}

/** Stores the grants an `agent.create` / `agent.update` body carries for agent `agentId` (issue 14 item 3). */
function putGrants(store: VaultStore, agentId: string, grants: Record<string, { seq: number; wrap: string }> | undefined): void {
  for (const [entryId, g] of Object.entries(grants ?? {})) store.putGrant({ entryId, agentId, seq: g.seq, wrap: g.wrap });
}

/** Stores the recovery code carried by a `vault.create` or `owner.rotate` body, if any. */
function insertRecovery(store: VaultStore, b: { recovery_token_id?: string | undefined; recovery_verifier?: string | undefined; recovery_wrapped?: string | undefined }, seq: number): void {
  if (!b.recovery_token_id || !b.recovery_verifier || !b.recovery_wrapped) return;
  store.insertToken({ tokenId: b.recovery_token_id, kind: 'owner', agentId: null, verifier: b.recovery_verifier, wrapped: b.recovery_wrapped, scopes: [], name: RECOVERY_TOKEN_NAME, createdSeq: seq, perMinute: null, perHour: null, folders: [], tags: [], expiresAt: null, ttlSeconds: null, keyOwner: null });
}

/**
 * Removes revisions `fromSeq` and later from `store` and rebuilds the derived tables from what
 * remains (DESIGN.md §4.4.7: a demoted primary sets aside what its successor never acknowledged).
 * Returns the removed revisions, oldest first; the caller quarantines them first.
 */
export function truncateVault(store: VaultStore, fromSeq: number): Revision[] {
  return store.tx(() => {
    const removed = store.revisionRange(fromSeq, Number.MAX_SAFE_INTEGER);
    store.truncateFrom(fromSeq);
    for (const r of store.revisionRange(1, Number.MAX_SAFE_INTEGER)) deriveRevision(store, r);
    return removed;
  });
}
