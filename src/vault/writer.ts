/**
 * The single write path of a vault (DESIGN.md §2 and §4.4.2). Every mutation goes through
 * `append`: it numbers the revision, lets the edition record a durable intent (the commercial
 * primary's backlog record) *before* the vault transaction commits, commits the revision, its
 * derived state and its audit record in one transaction, then lets the edition react (wake the
 * replication sender). A client write is acknowledged only after `append` returns.
 *
 * Why intent first: node.db and the vault file are two SQLite files, and SQLite in WAL mode does
 * not commit two files atomically. Writing the backlog record first means a `kill -9` between the
 * two commits leaves at worst a backlog record whose revision does not exist — detected and
 * dropped by the sender (that write was never acknowledged) — and never an acknowledged revision
 * missing from the backlog.
 */
import type { VaultStore } from '../store/vault-store.js';
import type { VaultId } from '../lib/ids.js';
import type { Revision, RevisionKind } from './revision.js';
import { applyRevision } from './apply.js';
import { appendAudit, type AuditInput } from './audit.js';

/** Edition hooks around every committed revision. Both are synchronous and must not throw for normal operation. */
export interface WriteHooks {
  /** Before the vault transaction: record durable intent (backlog). Throwing aborts the write. */
  beforeCommit(vaultId: VaultId, seq: number): void;
  /** After the vault transaction committed. */
  afterCommit(vaultId: VaultId, seq: number): void;
}

/** Who is writing: this POP's id and current epoch (DESIGN.md §4.4.6). */
export interface WriterIdentity {
  readonly popId: string;
  readonly epoch: number;
}

/** The vault write path; see `createRevisionWriter`. */
export type RevisionWriter = ReturnType<typeof createRevisionWriter>;

/** Builds the writer from its dependencies. `now` returns the current time. */
export function createRevisionWriter(deps: { hooks: WriteHooks; identity: () => WriterIdentity; now: () => Date }) {
  return {
    /**
     * Appends one revision of `kind` about `subject` to `store`. `body(seq)` builds the body JSON
     * text knowing the revision's seq (ciphertext AAD includes it). `audit` (one record or several,
     * in order) commits in the same transaction. Returns the committed revision.
     */
    append(store: VaultStore, kind: RevisionKind, subject: string | null, body: (seq: number) => string, audit?: AuditInput | readonly AuditInput[]): Revision {
      const seq = store.maxSeq() + 1;
      const id = deps.identity();
      const at = deps.now().toISOString();
      const rev: Revision = { vaultId: store.vaultId, seq, kind, subject, body: body(seq), epoch: id.epoch, originPop: id.popId, createdAt: at };
      deps.hooks.beforeCommit(store.vaultId as VaultId, seq);
      store.tx(() => {
        applyRevision(store, rev);
        for (const a of audit === undefined ? [] : Array.isArray(audit) ? audit : [audit]) appendAudit(store, a as AuditInput, at);
      });
      deps.hooks.afterCommit(store.vaultId as VaultId, seq);
      return rev;
    },
  };
}

/** Hooks that do nothing (community edition, and commercial backups which take no client writes). */
export const NO_HOOKS: WriteHooks = { beforeCommit() {}, afterCommit() {} };
