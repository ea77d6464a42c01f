/**
 * The vault owner's view of quarantine (DESIGN.md §4.4.7, issue 11 item 8). A demoted primary
 * sets aside the revisions its successor never acknowledged (replication/demote.ts); the owner
 * reads them here, decrypted with the owner token, on the POP that holds them — usually that
 * demoted POP, now a backup. Revisions the successor turned out to hold byte-identically are not
 * listed (they were never lost). Restoring is a normal write of the entry on the primary
 * (`clavitor-cli quarantine restore`), so it passes the same gates, audit and replication as any
 * other write; an item whose content the vault already holds again is reported `restored`.
 *
 * Only this vault's rows are visible; a vault whose creation itself was quarantined has no owner
 * token that works on any POP, and is left to the operator (`clavitor-commercial quarantine export`).
 */
import type { NodeStore, QuarantineRow } from '../store/node-store.js';
import type { VaultFiles } from '../store/vault-files.js';
import type { VaultStore } from '../store/vault-store.js';
import type { VaultId } from '../lib/ids.js';
import { cvError, Errors } from '../lib/errors.js';
import { appendAudit } from './audit.js';
import { decryptView, openTitle, type FieldView } from './entry-codec.js';
import type { OwnerPrincipal, Principal } from './principal.js';
import type { Revision } from './revision.js';

/** An entry as a quarantined `entry.put` revision held it, decrypted for the owner. */
export interface QuarantinedEntry {
  type: string;
  parent: string | null;
  title: string;
  fields: FieldView[];
  /** Tags of the entry (issue 14 item 2); absent when it had none. */
  tags?: string[];
}

/** One quarantined revision as the owner sees it. */
export interface QuarantineItem {
  /** Quarantine id (use with `GET /api/quarantine/{id}` and `clavitor-cli quarantine restore`). */
  id: number;
  /** Position the revision had in the vault log. */
  seq: number;
  /** Revision kind: `entry.put`, `entry.delete`, `agent.create`, … */
  kind: string;
  /** Entry id (entry kinds) or agent id (agent kinds). */
  subject: string | null;
  /** Epoch and POP that wrote it, and when (ISO-8601 UTC). */
  epoch: number;
  origin_pop: string;
  created_at: string;
  /** When this POP set it aside (ISO-8601 UTC), and why. */
  quarantined_at: string;
  reason: string;
  /** `entry.put`: the entry as that revision held it; otherwise null. */
  entry: QuarantinedEntry | null;
  /** Entry kinds can be restored by `clavitor-cli quarantine restore`; agent kinds cannot (re-create the agent). */
  restorable: boolean;
  /**
   * `restored` when the vault on this POP already holds that content again (the entry, or another
   * live entry when the entry is gone, with the same type, parent, title and fields; for a
   * delete, the entry gone); otherwise `open`.
   */
  status: 'open' | 'restored';
}

/** Quarantine service; see `createQuarantineService`. */
export type QuarantineService = ReturnType<typeof createQuarantineService>;

const sameEntry = (a: QuarantinedEntry, b: QuarantinedEntry): boolean => JSON.stringify(a) === JSON.stringify(b);

/** Builds the owner's quarantine service. Methods throw ClavitorError with a registered code. */
export function createQuarantineService(deps: { node: NodeStore; files: VaultFiles; now: () => Date }) {
  const storeOf = (vaultId: VaultId): VaultStore => {
    const s = deps.files.find(vaultId);
    if (!s) throw cvError('VAULT_NOT_FOUND');
    return s;
  };

  /** The decrypted entry of an entry.put revision `rev` (any seq: AAD binds vault, entry, field, seq). */
  function entryOf(p: OwnerPrincipal, rev: Revision): QuarantinedEntry {
    const v = decryptView(p, rev, rev.createdAt);
    return { type: v.type, parent: v.parent, title: v.title, fields: v.fields, ...(v.tags.length > 0 ? { tags: v.tags } : {}) };
  }

  /** What the vault holds now for `entryId`: its decrypted content, null when absent or deleted. */
  function current(p: OwnerPrincipal, store: VaultStore, entryId: string): QuarantinedEntry | null {
    const e = store.getEntry(entryId);
    if (!e || e.deleted) return null;
    return entryOf(p, store.getRevision(e.headSeq)!);
  }

  /**
   * True when another live entry holds exactly `entry`'s content: a restore of an entry the
   * primary never had creates it under a new id. Titles are compared first, so only entries with
   * the same title are decrypted whole.
   */
  function heldElsewhere(p: OwnerPrincipal, store: VaultStore, entry: QuarantinedEntry): boolean {
    for (const e of store.listEntries()) {
      const rev = store.getRevision(e.headSeq)!;
      if (openTitle(p, rev) === entry.title && sameEntry(entryOf(p, rev), entry)) return true;
    }
    return false;
  }

  function itemOf(p: OwnerPrincipal, store: VaultStore, row: QuarantineRow): QuarantineItem {
    const rev = JSON.parse(row.revision) as Revision;
    const entry = rev.kind === 'entry.put' ? entryOf(p, rev) : null;
    let restored = false;
    if (rev.kind === 'entry.put' || rev.kind === 'entry.delete') {
      const now = current(p, store, rev.subject!);
      restored = entry ? (now !== null ? sameEntry(now, entry) : heldElsewhere(p, store, entry)) : now === null;
    }
    return {
      id: row.id, seq: row.seq, kind: row.kind, subject: row.subject, epoch: row.epoch, origin_pop: rev.originPop, created_at: rev.createdAt,
      quarantined_at: row.quarantinedAt, reason: row.reason, entry,
      restorable: rev.kind === 'entry.put' || rev.kind === 'entry.delete',
      status: restored ? 'restored' : 'open',
    };
  }

  function requireOwner(p: Principal, store: VaultStore, ip: string | null): asserts p is OwnerPrincipal {
    if (p.kind === 'owner') return;
    store.txRelaxed(() => appendAudit(store, { actor: `agent:${p.agentId}`, action: 'quarantine.read', outcome: 'denied', code: Errors.FORBIDDEN.code, ip }, deps.now().toISOString()));
    throw cvError('FORBIDDEN', 'only the vault owner may read its quarantine');
  }

  return {
    /**
     * Quarantined revisions of the caller's vault that the successor does not hold, oldest first,
     * decrypted (owner only; an agent gets FORBIDDEN, audited). The read is audited.
     */
    list(p: Principal, ip: string | null): QuarantineItem[] {
      const store = storeOf(p.vaultId);
      requireOwner(p, store, ip);
      const out = deps.node.openQuarantineOf(p.vaultId).map((r) => itemOf(p, store, r));
      store.txRelaxed(() => appendAudit(store, { actor: 'owner', action: 'quarantine.read', outcome: 'ok', ip }, deps.now().toISOString()));
      return out;
    },

    /** One quarantined revision of the caller's vault by id; NOT_FOUND when absent, held or another vault's. */
    get(p: Principal, id: number, ip: string | null): QuarantineItem {
      const store = storeOf(p.vaultId);
      requireOwner(p, store, ip);
      const row = deps.node.openQuarantineOf(p.vaultId).find((r) => r.id === id);
      if (!row) throw cvError('NOT_FOUND', 'no such quarantined revision in this vault');
      const item = itemOf(p, store, row);
      store.txRelaxed(() => appendAudit(store, { actor: 'owner', action: 'quarantine.read', entryId: row.subject, outcome: 'ok', ip }, deps.now().toISOString()));
      return item;
    },
  };
}
