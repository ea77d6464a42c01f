/**
 * Entries (DESIGN.md §2–3, issue 6 items 1, 4 and 5): create, read, list, update with `If-Match`,
 * delete as a tombstone, history, and the current TOTP code of an entry. Encryption lives in
 * entry-codec.ts; every agent read passes the gate in agent-gate.ts (lockdown, rate limit, scope).
 *
 * Audit (issue 6 item 4): every write commits its audit record in the revision's savepoint
 * (writer.ts); every read, and every refusal of an agent, queues its record for the next group
 * commit with no fsync of its own (`txRelaxed`), and the response is sent after it committed
 * (src/http/app.ts).
 */
import type { NodeStore } from '../store/node-store.js';
import type { VaultFiles } from '../store/vault-files.js';
import type { VaultStore } from '../store/vault-store.js';
import type { RevisionWriter } from './writer.js';
import { newEntryId, type EntryId, type VaultId } from '../lib/ids.js';
import { cvError, Errors, isCvError } from '../lib/errors.js';
import { planOfClavitor, readImport, type ImportFormat, type ImportPlan } from './import-formats.js';
import { openExportAsync } from './export-file.js';
import { actorOf, type OwnerPrincipal, type Principal } from './principal.js';
import { appendAudit, type AuditInput } from './audit.js';
import { checkEntryInput, decryptView, entryBody, entryKeyOf, keyFor, openField, openTitle, type EntryInput, type EntryView, type FieldView } from './entry-codec.js';
import { auditWithRekeys, emitPut, inputOf, reconcileBelow } from './entry-keys.js';
import type { Revision } from './revision.js';
import { createAgentGate, type AgentGate, type ReadContext } from './agent-gate.js';
import { totpCode, TOTP_KIND, type TotpCode } from './totp.js';
import { entryInScope } from './scope.js';
import type { Clock } from '../lib/clock.js';

export type { EntryInput, EntryView, FieldInput, FieldView } from './entry-codec.js';
export type { ReadContext } from './agent-gate.js';

/** An entry in a listing: no field values, only each field's label, kind and tier (issue 14 item 2). */
export interface EntrySummary extends Omit<EntryView, 'created_at' | 'fields'> {
  fields: { label: string; kind: string; tier: string }[];
}

/**
 * One revision in an entry's history. `entry` (issue 15 item 4) holds the values that revision
 * stored, decrypted for the owner (sealed fields stay client ciphertext); absent on a tombstone.
 */
export interface HistoryItem {
  seq: number;
  kind: string;
  epoch: number;
  origin_pop: string;
  created_at: string;
  entry?: RevisionValues;
}

/** The values one `entry.put` revision stored, as the owner reads them. */
export interface RevisionValues {
  type: string;
  parent: string | null;
  title: string;
  /** The tags that revision stored (in clear; `[]` when none), so history shows tag changes. */
  tags: string[];
  fields: FieldView[];
}

/** A deleted entry in the owner's trash (issue 15 item 4). */
export interface TrashItem {
  id: string;
  type: string;
  parent: string | null;
  /** Title of the last version before the deletion. */
  title: string;
  /** Seq of the tombstone: the entry's current version (use in If-Match). */
  version: number;
  /** Seq of the last version with values: what an undelete restores. */
  last_version: number;
  deleted_at: string;
}

/**
 * One entry of a bulk import (`importAll`; issue 15, "nothing is half-imported"): a create, plus
 * `ref`, its name inside the import (unique), and `parentRef`, the `ref` of its parent in the same
 * import (then `parent` must be null; with `parentRef` null, `parent` is as in a create).
 */
export interface ImportInput extends EntryInput {
  readonly ref?: string | undefined;
  readonly parentRef: string | null;
}

/** One entry an import created: its `ref` (null when none was given), new id, version and title. */
export interface ImportedEntry {
  ref: string | null;
  id: string;
  version: number;
  title: string;
}

/** Dependencies of the entries service. `gate` defaults to a gate with a fresh in-memory limiter. */
export interface EntriesServiceDeps {
  readonly node: NodeStore;
  readonly files: VaultFiles;
  readonly writer: RevisionWriter;
  /** Wall clock for records (revisions, audit) and TOTP codes. */
  readonly now: () => Date;
  /** Clock of the agent rate-limit windows (monotonic `nowMs`); default `systemClock`. */
  readonly clock?: Clock;
  readonly gate?: AgentGate;
}

/** Entries service; see `createEntriesService`. */
export type EntriesService = ReturnType<typeof createEntriesService>;

/** Builds the entries service. Every method throws ClavitorError with a registered code. */
export function createEntriesService(deps: EntriesServiceDeps) {
  const gate = deps.gate ?? createAgentGate({ writer: deps.writer, now: deps.now, ...(deps.clock ? { clock: deps.clock } : {}) });
  const storeOf = (vaultId: VaultId): VaultStore => {
    const s = deps.files.find(vaultId);
    if (!s) throw cvError('VAULT_NOT_FOUND');
    return s;
  };
  /** Audit of a read or refusal: no vault data changes, so it joins the next group commit without an fsync (txRelaxed). */
  const audit = (store: VaultStore, rec: AuditInput): void => store.txRelaxed(() => appendAudit(store, rec, deps.now().toISOString()));

  /** Owner only; an agent's attempt is audited as denied (FORBIDDEN, CV-2003). */
  function requireOwner(p: Principal, action: string, entryId: string | null, ip: string | null): asserts p is OwnerPrincipal {
    if (p.kind !== 'owner') throw gate.deny(storeOf(p.vaultId), p, action, entryId, 'FORBIDDEN', ip);
  }

  function liveEntry(store: VaultStore, entryId: string) {
    const e = store.getEntry(entryId);
    if (!e) throw cvError('NOT_FOUND', 'entry not found');
    if (e.deleted) throw cvError('ENTRY_DELETED');
    return e;
  }

  /** The live entry at version `ifMatch` (any version when undefined); NOT_FOUND, ENTRY_DELETED or VERSION_CONFLICT otherwise. */
  function matching(store: VaultStore, entryId: string, ifMatch: number | undefined) {
    const e = liveEntry(store, entryId);
    if (ifMatch !== undefined && e.headSeq !== ifMatch) throw cvError('VERSION_CONFLICT', undefined, { current_version: e.headSeq });
    return e;
  }

  /**
   * Store, live entry, its newest revision and the key that opens that revision's title and
   * agent-tier values for `p` (issue 14 item 3), for a read by `p`, agents through the gate. An
   * agent that holds no key for it (no grant on this revision) is refused like one outside its
   * scope: AGENT_SCOPE (CV-2007), audited denied.
   */
  function openForRead(p: Principal, entryId: string, action: string, ctx: ReadContext) {
    const store = storeOf(p.vaultId);
    if (p.kind === 'agent') gate.admit(store, p, entryId, action, ctx);
    const e = liveEntry(store, entryId);
    const rev = store.getRevision(e.headSeq)!;
    const body = entryBody(rev);
    const key = entryKeyOf(p, rev, body, p.kind === 'agent' ? store.getGrant(entryId, p.agentId) : undefined);
    if (!key && p.kind === 'agent') {
      audit(store, { actor: actorOf(p), action, entryId, outcome: 'denied', code: Errors.AGENT_SCOPE.code, ip: ctx.ip });
      throw cvError('AGENT_SCOPE');
    }
    return { store, e, rev, body, key };
  }

  /** Parent of the newest revision of `entryId` with values, or undefined when it has none. */
  function parentNow(store: VaultStore, entryId: string): string | null | undefined {
    const e = store.getEntry(entryId);
    if (!e) return undefined;
    const last = e.deleted ? lastPutBefore(store, entryId, e.headSeq) : store.getRevision(e.headSeq);
    return last ? entryBody(last).parent : undefined;
  }

  /** The values revision `rev` (an `entry.put`) stored, decrypted with the owner's keys. */
  function valuesOf(p: OwnerPrincipal, rev: Revision): RevisionValues {
    const v = decryptView(p, rev, rev.createdAt);
    return { type: v.type, parent: v.parent, title: v.title, tags: v.tags, fields: v.fields };
  }

  /** The newest `entry.put` revision of `entryId` before `beforeSeq`, or undefined. */
  function lastPutBefore(store: VaultStore, entryId: string, beforeSeq: number): Revision | undefined {
    return store.revisionsOf(entryId).filter((r) => r.kind === 'entry.put' && r.seq < beforeSeq).at(-1);
  }

  /**
   * Writes a new `entry.put` revision of `entryId` equal to revision `from` (decrypted and
   * encrypted again at the new seq: the AAD binds each ciphertext to its revision). A plain
   * `entry.put`, so it applies and replicates like every write and needs no new revision kind.
   */
  async function writeCopy(p: OwnerPrincipal, store: VaultStore, entryId: string, from: Revision, action: string, check: () => void, ip: string | null): Promise<EntryView> {
    const input = inputOf(p, from);
    let createdSeq = 0;
    const { result: rev } = await deps.writer.appendAll(store, (emit) => {
      const rev = emitPut(p, store, emit, entryId, input, deps.now());
      // A restore or undelete may bring back a folder: the entries below it re-enter folder scopes.
      reconcileBelow(p, store, emit, entryId, deps.now());
      return rev;
    }, auditWithRekeys({ actor: 'owner', action, entryId, outcome: 'ok', ip }),
    () => {
      check();
      createdSeq = store.getEntry(entryId)!.createdSeq;
    });
    return decryptView(p, rev, store.getRevision(createdSeq)!.createdAt);
  }

  return {
    /**
     * Creates an entry (owner only). Resolves with its view at version = revision seq once the
     * revision committed (group commit, vault/writer.ts).
     */
    async create(p: Principal, input: EntryInput, ip: string | null): Promise<EntryView> {
      requireOwner(p, 'entry.create', null, ip);
      checkEntryInput(input);
      const store = storeOf(p.vaultId);
      const entryId: EntryId = newEntryId();
      const { result: rev } = await deps.writer.appendAll(store, (emit) => emitPut(p, store, emit, entryId, input, deps.now()),
        { actor: 'owner', action: 'entry.create', entryId, outcome: 'ok', ip });
      return decryptView(p, rev, rev.createdAt);
    },

    /**
     * Replaces an entry (owner only). `ifMatch` is the version the client read; a different
     * current version throws VERSION_CONFLICT (CV-4001) and nothing is written (DESIGN.md §2). The
     * version is checked inside the write's own savepoint of the group commit, against the state
     * the earlier writes of the same batch left.
     */
    async update(p: Principal, entryId: string, ifMatch: number, input: EntryInput, ip: string | null): Promise<EntryView> {
      requireOwner(p, 'entry.update', entryId, ip);
      checkEntryInput(input);
      const store = storeOf(p.vaultId);
      liveEntry(store, entryId);
      let createdSeq = 0;
      let parentBefore: string | null | undefined;
      const { result: rev } = await deps.writer.appendAll(store, (emit) => {
        const rev = emitPut(p, store, emit, entryId, input, deps.now());
        // A moved entry takes the entries below it in or out of folder scopes (entry-keys.ts).
        if (parentBefore !== input.parent) reconcileBelow(p, store, emit, entryId, deps.now());
        return rev;
      }, auditWithRekeys({ actor: 'owner', action: 'entry.update', entryId, outcome: 'ok', ip }),
      () => {
        createdSeq = matching(store, entryId, ifMatch).createdSeq;
        parentBefore = parentNow(store, entryId);
      });
      return decryptView(p, rev, store.getRevision(createdSeq)!.createdAt);
    },

    /** Deletes an entry by appending a tombstone (owner only). Optional `ifMatch` as for update. */
    async remove(p: Principal, entryId: string, ifMatch: number | undefined, ip: string | null): Promise<void> {
      requireOwner(p, 'entry.delete', entryId, ip);
      const store = storeOf(p.vaultId);
      liveEntry(store, entryId);
      await deps.writer.appendAll(store, (emit) => {
        emit('entry.delete', entryId, () => '{}');
        // A deleted folder no longer links the entries below it to the folders above it (scope.ts).
        reconcileBelow(p, store, emit, entryId, deps.now());
      }, auditWithRekeys({ actor: 'owner', action: 'entry.delete', entryId, outcome: 'ok', ip }),
      () => { matching(store, entryId, ifMatch); });
    },

    /**
     * Reads the newest revision of an entry. Owner: every tier. Agent: through the gate (locked,
     * rate limit, scope), with non-agent tiers redacted. `c`: source IP and whether this POP may
     * write (a lock revision).
     */
    get(p: Principal, entryId: string, c: ReadContext): EntryView {
      const { store, e, rev } = openForRead(p, entryId, 'entry.read', c);
      const view = decryptView(p, rev, store.getRevision(e.createdSeq)!.createdAt, p.kind === 'agent' ? store.getGrant(entryId, p.agentId) : undefined);
      audit(store, { actor: actorOf(p), action: 'entry.read', entryId, outcome: 'ok', ip: c.ip });
      return view;
    },

    /**
     * Current TOTP code of the entry's first `totp`-kind field (or the one labelled `label`), at
     * `deps.now()`. Agents: through the gate, and only for a field in the agent tier (else
     * FORBIDDEN). NOT_FOUND when there is no such field; TOTP_SEALED for a sealed one (the client
     * computes it); TOTP_INVALID when the stored value is not a TOTP secret.
     */
    totp(p: Principal, entryId: string, c: ReadContext, label?: string): TotpCode {
      const { store, rev, body, key: entryKey } = openForRead(p, entryId, 'entry.totp', c);
      const index = body.fields.findIndex((f) => f.kind === TOTP_KIND && (label === undefined || f.label === label));
      const field = body.fields[index];
      if (!field) throw cvError('NOT_FOUND', label === undefined ? 'entry has no totp field' : `entry has no totp field labelled "${label}"`);
      if (field.tier === 'sealed') throw cvError('TOTP_SEALED');
      const key = keyFor(p, field.tier, entryKey);
      if (!key) {
        audit(store, { actor: actorOf(p), action: 'entry.totp', entryId, outcome: 'denied', code: Errors.FORBIDDEN.code, ip: c.ip });
        throw cvError('FORBIDDEN', 'the totp field is not in the agent tier');
      }
      const code = totpCode(openField(p, key, rev, index, body), deps.now().getTime());
      audit(store, { actor: actorOf(p), action: 'entry.totp', entryId, outcome: 'ok', ip: c.ip });
      return code;
    },

    /**
     * Lists live entries without field values: titles, tags and each field's label, kind and tier.
     * The owner sees every entry; an agent exactly the entries its scope covers (entries, folders,
     * tags; scope.ts, issue 14 item 2), audited as `entry.list`; a locked agent gets AGENT_LOCKED.
     * `c`: source IP and whether this POP may write.
     */
    list(p: Principal, c: ReadContext | string | null = null): EntrySummary[] {
      const ctx: ReadContext = typeof c === 'object' && c !== null ? c : { ip: c, writable: false };
      const store = storeOf(p.vaultId);
      if (p.kind === 'agent') gate.admitList(store, p, ctx);
      const out: EntrySummary[] = [];
      for (const en of store.listEntries()) {
        const rev = store.getRevision(en.headSeq)!;
        const body = entryBody(rev);
        if (p.kind === 'agent' && !entryInScope(store, p, en.entryId, body)) continue;
        // An agent lists what it can open: an entry in its scope whose newest revision holds no key for it is left out (issue 14 item 3).
        const key = entryKeyOf(p, rev, body, p.kind === 'agent' ? store.getGrant(en.entryId, p.agentId) : undefined);
        if (!key) continue;
        out.push({
          id: en.entryId, type: body.type, parent: body.parent, title: openTitle(p, rev, body, key), tags: body.tags ?? [], version: rev.seq, updated_at: rev.createdAt,
          fields: body.fields.map((f) => ({ label: f.label, kind: f.kind, tier: f.tier })),
        });
      }
      audit(store, { actor: actorOf(p), action: 'entry.list', outcome: 'ok', ip: ctx.ip });
      return out;
    },

    /**
     * Every revision of an entry, oldest first, tombstone included (owner only), each `entry.put`
     * with the values it stored, decrypted (issue 15 item 4). Works for a deleted entry too.
     */
    history(p: Principal, entryId: string, ip: string | null = null): HistoryItem[] {
      requireOwner(p, 'entry.history', entryId, ip);
      const store = storeOf(p.vaultId);
      if (!store.getEntry(entryId)) throw cvError('NOT_FOUND', 'entry not found');
      const out = store.revisionsOf(entryId).map((r): HistoryItem => ({
        seq: r.seq, kind: r.kind, epoch: r.epoch, origin_pop: r.originPop, created_at: r.createdAt,
        ...(r.kind === 'entry.put' ? { entry: valuesOf(p, r) } : {}),
      }));
      audit(store, { actor: 'owner', action: 'entry.history', entryId, outcome: 'ok', ip });
      return out;
    },

    /**
     * Restores an entry (owner only; issue 15 item 4): writes a new revision equal to version
     * `version` (a seq from `history`), or, with `version` undefined, undeletes a deleted entry by
     * restoring its last version before the tombstone. Works on live and deleted entries alike;
     * the result is live. `ifMatch`, when given, must be the entry's current version (the
     * tombstone's seq for a deleted entry), else VERSION_CONFLICT (CV-4001), checked in the write's
     * savepoint. NOT_FOUND for an unknown entry; VERSION_NOT_RESTORABLE (CV-4040) when `version`
     * is not an `entry.put` of this entry; ENTRY_NOT_DELETED (CV-4041) for an undelete of a live one.
     */
    async restore(p: Principal, entryId: string, version: number | undefined, ifMatch: number | undefined, ip: string | null): Promise<EntryView> {
      const action = version === undefined ? 'entry.undelete' : 'entry.restore';
      requireOwner(p, action, entryId, ip);
      const store = storeOf(p.vaultId);
      const e = store.getEntry(entryId);
      if (!e) throw cvError('NOT_FOUND', 'entry not found');
      let from: Revision | undefined;
      if (version === undefined) {
        if (!e.deleted) throw cvError('ENTRY_NOT_DELETED');
        from = lastPutBefore(store, entryId, e.headSeq);
      } else {
        from = store.getRevision(version);
        if (from?.kind !== 'entry.put' || from.subject !== entryId) throw cvError('VERSION_NOT_RESTORABLE', `version ${version} holds no value of entry ${entryId}; list the versions with clavitor-cli history ${entryId}`);
      }
      if (!from) throw cvError('VERSION_NOT_RESTORABLE');
      const seen = e.headSeq;
      return writeCopy(p, store, entryId, from, action, () => {
        const now = store.getEntry(entryId)!;
        if (ifMatch !== undefined && now.headSeq !== ifMatch) throw cvError('VERSION_CONFLICT', undefined, { current_version: now.headSeq });
        // An undelete raced by another write (an undelete or a put) must not copy a stale version.
        if (version === undefined && (now.headSeq !== seen || !now.deleted)) throw cvError('VERSION_CONFLICT', undefined, { current_version: now.headSeq });
      }, ip);
    },

    /**
     * Creates every entry of `items` or none (owner only; issue 15, "nothing is half-imported"):
     * each is checked first (refs unique, each `parentRef` naming another item, no item both
     * `parent` and `parentRef`, the totp and sealed rules of `checkEntryInput`); the first refusal
     * throws IMPORT_ENTRY_INVALID (CV-3041) with `details.index` (0-based) and nothing is written.
     * Then all of them are written as ONE group-commit job (writer.ts `appendAll`): consecutive
     * `entry.put` revisions, each audited `entry.import`, in one savepoint of one transaction, so a
     * refusal at commit time (the POP stopped taking writes) also leaves nothing. The revisions
     * replicate like any other. With `dryRun` nothing is written and nothing is audited; the
     * result then has empty ids and version 0.
     */
    async importAll(p: Principal, items: readonly ImportInput[], ip: string | null, dryRun = false): Promise<ImportedEntry[]> {
      requireOwner(p, 'entry.import', null, ip);
      const refs = new Map<string, number>();
      items.forEach((it, i) => {
        const bad = (msg: string): never => { throw cvError('IMPORT_ENTRY_INVALID', `entries.${i}: ${msg}; nothing was imported`, { index: i }); };
        if (it.ref !== undefined) {
          if (refs.has(it.ref)) bad(`ref "${it.ref}" is also the ref of entries.${refs.get(it.ref)}`);
          refs.set(it.ref, i);
        }
      });
      items.forEach((it, i) => {
        const bad = (msg: string): never => { throw cvError('IMPORT_ENTRY_INVALID', `entries.${i}: ${msg}; nothing was imported`, { index: i }); };
        if (it.parentRef !== null) {
          if (it.parent !== null) bad('give parent (an existing entry id) or parent_ref (an entry of this import), not both');
          if (!refs.has(it.parentRef)) bad(`parent_ref "${it.parentRef}" is the ref of no entry of this import`);
          if (refs.get(it.parentRef) === i) bad('an entry cannot be its own parent');
        }
        try {
          checkEntryInput(it);
        } catch (e) {
          bad((e as Error).message);
        }
      });
      // Parents before their children, so that an imported folder's scope covers what is imported
      // under it when the entry keys are sealed (entry-keys.ts reads the parent chain from the store).
      const order: number[] = [];
      const placed = new Set<number>();
      while (order.length < items.length) {
        const before = order.length;
        items.forEach((it, i) => {
          if (placed.has(i)) return;
          if (it.parentRef !== null && !placed.has(refs.get(it.parentRef)!) && refs.get(it.parentRef) !== i) return;
          placed.add(i);
          order.push(i);
        });
        if (order.length === before) {
          const i = items.findIndex((_, j) => !placed.has(j));
          throw cvError('IMPORT_ENTRY_INVALID', `entries.${i}: its parent_ref chain is a cycle; nothing was imported`, { index: i });
        }
      }
      if (dryRun) return items.map((it) => ({ ref: it.ref ?? null, id: '', version: 0, title: it.title }));
      const store = storeOf(p.vaultId);
      const ids: EntryId[] = items.map(() => newEntryId());
      const idOfRef = new Map([...refs].map(([ref, i]) => [ref, ids[i]!]));
      const { result: revs } = await deps.writer.appendAll(store, (emit) => {
        const out: Revision[] = new Array(items.length);
        for (const i of order) {
          const it = items[i]!;
          const entryId = ids[i]!;
          const input: EntryInput = { type: it.type, parent: it.parentRef !== null ? idOfRef.get(it.parentRef)! : it.parent, title: it.title, fields: it.fields, ...(it.tags ? { tags: it.tags } : {}) };
          out[i] = emitPut(p, store, emit, entryId, input, deps.now());
        }
        return out;
      }, order.map((i) => ({ actor: 'owner', action: 'entry.import', entryId: ids[i]!, outcome: 'ok' as const, ip })));
      return revs.map((rev, i) => ({ ref: items[i]!.ref ?? null, id: ids[i]!, version: rev.seq, title: items[i]!.title }));
    },

    /**
     * Reads an uploaded file into an import plan (owner only; the web vault's import page, issue
     * 15 item 2): the same readers as `clavitor-cli import` (import-formats.ts, export-file.ts).
     * Writes nothing and reads no vault data, so nothing is audited. `passphrase`: the Clavitor
     * export's, used in memory for this call only (the key derivation runs off the event loop).
     * Throws IMPORT_FILE_INVALID (CV-3043) naming the line or path, IMPORT_FILE_DECRYPT (CV-3044)
     * on a wrong passphrase: the CLI's CV-6040 and CV-6041, which never cross HTTP.
     */
    async parseImport(p: Principal, format: ImportFormat, data: Buffer, map: ReadonlyMap<string, string>, passphrase: string | undefined, ip: string | null): Promise<ImportPlan> {
      requireOwner(p, 'entry.import', null, ip);
      try {
        if (format === 'clavitor') {
          if (passphrase === undefined) throw cvError('IMPORT_DECRYPT', 'a Clavitor export needs its passphrase');
          return planOfClavitor(await openExportAsync(data.toString('utf8'), passphrase));
        }
        return readImport(format, data, map);
      } catch (e) {
        if (isCvError(e, 'IMPORT_INVALID')) throw cvError('IMPORT_FILE_INVALID', e.message);
        if (isCvError(e, 'IMPORT_DECRYPT')) throw cvError('IMPORT_FILE_DECRYPT', e.message === Errors.IMPORT_DECRYPT.message ? undefined : e.message);
        throw e;
      }
    },

    /** Deleted entries, most recently deleted first, with the title of their last version (owner only). */
    trash(p: Principal, ip: string | null = null): TrashItem[] {
      requireOwner(p, 'trash.list', null, ip);
      const store = storeOf(p.vaultId);
      const out: TrashItem[] = [];
      for (const en of store.listDeleted()) {
        const last = lastPutBefore(store, en.entryId, en.headSeq);
        if (!last) continue;
        const body = entryBody(last);
        out.push({ id: en.entryId, type: body.type, parent: body.parent, title: openTitle(p, last, body), version: en.headSeq, last_version: last.seq, deleted_at: store.getRevision(en.headSeq)!.createdAt });
      }
      audit(store, { actor: 'owner', action: 'trash.list', outcome: 'ok', ip });
      return out;
    },
  };
}
