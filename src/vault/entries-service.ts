/**
 * Entries (DESIGN.md §2–3): create, read, list, update with `If-Match`, delete as a tombstone,
 * and history. Values are encrypted with AES-256-GCM under the key of their tier before they
 * reach the revision log; titles under the agent-tier key so an in-scope agent can see them.
 * `sealed` values arrive already encrypted by the client and are wrapped once more under the
 * owner-tier key: the server never holds their plaintext.
 */
import type { NodeStore } from '../store/node-store.js';
import type { VaultFiles } from '../store/vault-files.js';
import type { VaultStore } from '../store/vault-store.js';
import type { RevisionWriter } from './writer.js';
import { newEntryId, type EntryId, type VaultId } from '../lib/ids.js';
import { cvError } from '../lib/errors.js';
import { open, seal } from './crypto.js';
import { fieldAad, titleAad } from './aad.js';
import { EntryPutBody, type Revision, type Tier } from './revision.js';
import { actorOf, type OwnerPrincipal, type Principal } from './principal.js';
import { appendAudit } from './audit.js';

/** One field as a client sends it. */
export interface FieldInput {
  readonly label: string;
  readonly value: string;
  readonly kind: string;
  readonly tier: Tier;
}

/** An entry as a client sends it (create or full replacement on update). */
export interface EntryInput {
  readonly type: EntryPutBody['type'];
  readonly parent: string | null;
  readonly title: string;
  readonly fields: readonly FieldInput[];
}

/** A field as returned to a caller: the value, or `redacted: true` when the caller may not read it. */
export type FieldView =
  | { label: string; kind: string; tier: Tier; value: string }
  | { label: string; kind: string; tier: Tier; redacted: true };

/** An entry as returned to a caller. `version` is the seq of its newest revision (use in If-Match). */
export interface EntryView {
  id: string;
  type: string;
  parent: string | null;
  title: string;
  version: number;
  created_at: string;
  updated_at: string;
  fields: FieldView[];
}

/** An entry in a listing: no field values. */
export interface EntrySummary {
  id: string;
  type: string;
  parent: string | null;
  title: string;
  version: number;
  updated_at: string;
}

/** One revision in an entry's history. */
export interface HistoryItem {
  seq: number;
  kind: string;
  epoch: number;
  origin_pop: string;
  created_at: string;
}

/** Dependencies of the entries service. */
export interface EntriesServiceDeps {
  readonly node: NodeStore;
  readonly files: VaultFiles;
  readonly writer: RevisionWriter;
  readonly now: () => Date;
}

/** Entries service; see `createEntriesService`. */
export type EntriesService = ReturnType<typeof createEntriesService>;

/** Builds the entries service. Every method throws ClavitorError with a registered code. */
export function createEntriesService(deps: EntriesServiceDeps) {
  const storeOf = (vaultId: VaultId): VaultStore => {
    const s = deps.files.find(vaultId);
    if (!s) throw cvError('VAULT_NOT_FOUND');
    return s;
  };

  const keyFor = (p: Principal, tier: Tier): Buffer | undefined => (tier === 'agent' ? p.keys.agent : p.keys.owner);

  function encryptBody(p: OwnerPrincipal, entryId: string, input: EntryInput, seq: number): string {
    const body: EntryPutBody = {
      type: input.type,
      parent: input.parent,
      title: seal(p.keys.agent, input.title, titleAad(p.vaultId, entryId, seq)),
      fields: input.fields.map((f, i) => ({ label: f.label, kind: f.kind, tier: f.tier, value: seal(keyFor(p, f.tier)!, f.value, fieldAad(p.vaultId, entryId, i, seq)) })),
    };
    return JSON.stringify(body);
  }

  function decryptView(p: Principal, rev: Revision, createdAt: string): EntryView {
    const body = EntryPutBody.parse(JSON.parse(rev.body));
    const entryId = rev.subject!;
    return {
      id: entryId,
      type: body.type,
      parent: body.parent,
      title: open(p.keys.agent, body.title, titleAad(p.vaultId, entryId, rev.seq)).toString('utf8'),
      version: rev.seq,
      created_at: createdAt,
      updated_at: rev.createdAt,
      fields: body.fields.map((f, i) => {
        const key = keyFor(p, f.tier);
        if (!key) return { label: f.label, kind: f.kind, tier: f.tier, redacted: true as const };
        return { label: f.label, kind: f.kind, tier: f.tier, value: open(key, f.value, fieldAad(p.vaultId, entryId, i, rev.seq)).toString('utf8') };
      }),
    };
  }

  function requireOwner(p: Principal): asserts p is OwnerPrincipal {
    if (p.kind !== 'owner') throw cvError('FORBIDDEN');
  }

  function liveEntry(store: VaultStore, entryId: string) {
    const e = store.getEntry(entryId);
    if (!e) throw cvError('NOT_FOUND', 'entry not found');
    if (e.deleted) throw cvError('ENTRY_DELETED');
    return e;
  }

  return {
    /** Creates an entry (owner only). Returns its view at version = revision seq. */
    create(p: Principal, input: EntryInput, ip: string | null): EntryView {
      requireOwner(p);
      const store = storeOf(p.vaultId);
      const entryId: EntryId = newEntryId();
      const rev = deps.writer.append(store, 'entry.put', entryId, (seq) => encryptBody(p, entryId, input, seq),
        { actor: 'owner', action: 'entry.create', entryId, outcome: 'ok', ip });
      return decryptView(p, rev, rev.createdAt);
    },

    /**
     * Replaces an entry (owner only). `ifMatch` is the version the client read; a different
     * current version throws VERSION_CONFLICT (CV-4001) and nothing is written (DESIGN.md §2).
     */
    update(p: Principal, entryId: string, ifMatch: number, input: EntryInput, ip: string | null): EntryView {
      requireOwner(p);
      const store = storeOf(p.vaultId);
      const e = liveEntry(store, entryId);
      if (e.headSeq !== ifMatch) throw cvError('VERSION_CONFLICT', undefined, { current_version: e.headSeq });
      const rev = deps.writer.append(store, 'entry.put', entryId, (seq) => encryptBody(p, entryId, input, seq),
        { actor: 'owner', action: 'entry.update', entryId, outcome: 'ok', ip });
      return decryptView(p, rev, store.getRevision(e.createdSeq)!.createdAt);
    },

    /** Deletes an entry by appending a tombstone (owner only). Optional `ifMatch` as for update. */
    remove(p: Principal, entryId: string, ifMatch: number | undefined, ip: string | null): void {
      requireOwner(p);
      const store = storeOf(p.vaultId);
      const e = liveEntry(store, entryId);
      if (ifMatch !== undefined && e.headSeq !== ifMatch) throw cvError('VERSION_CONFLICT', undefined, { current_version: e.headSeq });
      deps.writer.append(store, 'entry.delete', entryId, () => '{}', { actor: 'owner', action: 'entry.delete', entryId, outcome: 'ok', ip });
    },

    /**
     * Reads the newest revision of an entry. Owner: every tier. Agent: only when the entry is in
     * its scope (else AGENT_SCOPE, CV-2007, audited as denied), with non-agent tiers redacted.
     */
    get(p: Principal, entryId: string, ip: string | null): EntryView {
      const store = storeOf(p.vaultId);
      if (p.kind === 'agent' && !p.scopes.has(entryId)) {
        store.tx(() => appendAudit(store, { actor: actorOf(p), action: 'entry.read', entryId, outcome: 'denied', code: 'CV-2007', ip }, deps.now().toISOString()));
        throw cvError('AGENT_SCOPE');
      }
      const e = liveEntry(store, entryId);
      const view = decryptView(p, store.getRevision(e.headSeq)!, store.getRevision(e.createdSeq)!.createdAt);
      store.tx(() => appendAudit(store, { actor: actorOf(p), action: 'entry.read', entryId, outcome: 'ok', ip }, deps.now().toISOString()));
      return view;
    },

    /** Lists live entries without field values (owner only; agents get AGENT_LIST_FORBIDDEN). */
    list(p: Principal): EntrySummary[] {
      if (p.kind !== 'owner') throw cvError('AGENT_LIST_FORBIDDEN');
      const store = storeOf(p.vaultId);
      return store.listEntries().map((e) => {
        const rev = store.getRevision(e.headSeq)!;
        const body = EntryPutBody.parse(JSON.parse(rev.body));
        return { id: e.entryId, type: body.type, parent: body.parent, title: open(p.keys.agent, body.title, titleAad(p.vaultId, e.entryId, rev.seq)).toString('utf8'), version: rev.seq, updated_at: rev.createdAt };
      });
    },

    /** Every revision of an entry, oldest first, tombstone included (owner only). */
    history(p: Principal, entryId: string): HistoryItem[] {
      requireOwner(p);
      const store = storeOf(p.vaultId);
      if (!store.getEntry(entryId)) throw cvError('NOT_FOUND', 'entry not found');
      return store.revisionsOf(entryId).map((r) => ({ seq: r.seq, kind: r.kind, epoch: r.epoch, origin_pop: r.originPop, created_at: r.createdAt }));
    },
  };
}
