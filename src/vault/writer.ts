/**
 * The single write path of a vault (DESIGN.md §2 and §4.4.2). Every mutation goes through
 * `append`, which queues it for the group commit of the POP database (src/store/group-commit.ts,
 * issue 12 item 2): in its own savepoint of the next batch it runs the caller's precondition
 * against the current state (e.g. If-Match), numbers the revision, lets the edition check that
 * writes are still accepted and record the revision's place in the replication stream (the
 * commercial primary's backlog record), applies the revision, its derived state and its audit
 * records. The batch commits with one fsync; then the edition reacts (wakes the replication
 * sender) and `append`'s promise resolves. A client write is acknowledged only after that.
 *
 * The revision and its backlog record are in the same transaction of the same database: there
 * is no window in which a `kill -9` can leave an acknowledged revision missing from the backlog,
 * nor a backlog record whose revision does not exist. A write that fails (a conflict, a refusal)
 * rolls back its savepoint only; the other writes of the batch commit.
 */
import type { VaultStore } from '../store/vault-store.js';
import type { VaultId } from '../lib/ids.js';
import type { Revision, RevisionKind } from './revision.js';
import { applyRevision } from './apply.js';
import { appendAudit, type AuditInput } from './audit.js';

/** Edition hooks around every committed revision. Both are synchronous. */
export interface WriteHooks {
  /**
   * Inside the write's savepoint, before the revision is applied: check that writes are still
   * accepted and record the backlog entry. Throwing rejects this write only.
   */
  beforeCommit(vaultId: VaultId, seq: number): void;
  /** After the batch holding the revision committed. */
  afterCommit(vaultId: VaultId, seq: number): void;
}

/** One revision of `appendAll`: as the arguments of `append`. */
export interface AppendItem {
  readonly kind: RevisionKind;
  readonly subject: string | null;
  /** Body JSON text knowing the revision's seq (the ciphertext AAD includes it). */
  readonly body: (seq: number) => string;
  readonly audit?: AuditInput | readonly AuditInput[];
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
     * Appends one revision of `kind` about `subject` to `store` in the next group commit.
     * `body(seq)` builds the body JSON text knowing the revision's seq (ciphertext AAD includes
     * it). `audit` (one record or several, in order) commits in the same savepoint. `check`, when
     * given, runs first in the savepoint against the current state and may throw (e.g.
     * VERSION_CONFLICT): then nothing of this write is stored. Resolves with the committed
     * revision once its batch committed (fsync'd); rejects with what was thrown.
     */
    append(store: VaultStore, kind: RevisionKind, subject: string | null, body: (seq: number) => string, audit?: AuditInput | readonly AuditInput[], check?: () => void): Promise<Revision> {
      return store.commit(() => {
        check?.();
        const seq = store.maxSeq() + 1;
        const id = deps.identity();
        const at = deps.now().toISOString();
        const rev: Revision = { vaultId: store.vaultId, seq, kind, subject, body: body(seq), epoch: id.epoch, originPop: id.popId, createdAt: at };
        deps.hooks.beforeCommit(store.vaultId as VaultId, seq);
        applyRevision(store, rev);
        for (const a of audit === undefined ? [] : Array.isArray(audit) ? audit : [audit]) appendAudit(store, a as AuditInput, at);
        return rev;
      }).then((rev) => {
        deps.hooks.afterCommit(store.vaultId as VaultId, rev.seq);
        return rev;
      });
    },

    /**
     * Appends several revisions to `store` as ONE job of the next group commit (issue 15, "nothing
     * is half-imported"): they get consecutive seqs in the order given and commit in one savepoint
     * of one transaction, with their backlog records and audit records, or not at all. `check`
     * runs first against the current state; if it, the edition's `beforeCommit` or any body
     * builder throws, the savepoint rolls back and nothing of any of them is stored. `afterCommit`
     * then runs for each seq in order. Resolves with the committed revisions.
     */
    appendAll(store: VaultStore, items: readonly AppendItem[], check?: () => void): Promise<Revision[]> {
      return store.commit(() => {
        check?.();
        const id = deps.identity();
        const at = deps.now().toISOString();
        return items.map((it) => {
          const seq = store.maxSeq() + 1;
          const rev: Revision = { vaultId: store.vaultId, seq, kind: it.kind, subject: it.subject, body: it.body(seq), epoch: id.epoch, originPop: id.popId, createdAt: at };
          deps.hooks.beforeCommit(store.vaultId as VaultId, seq);
          applyRevision(store, rev);
          for (const a of it.audit === undefined ? [] : Array.isArray(it.audit) ? it.audit : [it.audit]) appendAudit(store, a as AuditInput, at);
          return rev;
        });
      }).then((revs) => {
        for (const rev of revs) deps.hooks.afterCommit(store.vaultId as VaultId, rev.seq);
        return revs;
      });
    },
  };
}

/** Hooks that do nothing (community edition, and commercial backups which take no client writes). */
export const NO_HOOKS: WriteHooks = { beforeCommit() {}, afterCommit() {} };
