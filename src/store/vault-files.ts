/**
 * Every vault of the POP (issue 12 item 1; DESIGN.md §2): facades over `<data>/clavitor.db`
 * (vault-store.ts). The name is the old layout's (one file per vault); the API stays so callers
 * did not change. Queries over all vaults (heads, digests) are one statement each, whatever the
 * number of vaults.
 */
import { acquirePopDb, releasePopDb, type PopDb } from './pop-db.js';
import { openVaultStore, VaultStore } from './vault-store.js';
import { createAuditAnchorStore, type AuditAnchorStore } from './audit-anchors.js';
import { isVaultId, type VaultId } from '../lib/ids.js';
import type { Revision, RevisionKind } from './revision-row.js';

/** Vault facades; see `createVaultFiles`. */
export type VaultFiles = ReturnType<typeof createVaultFiles>;

/**
 * Opens the vault set of `<dataDir>/clavitor.db` (sharing the process's connection with
 * `openNodeStore`), keeping up to `maxCached` facades for re-use.
 */
export function createVaultFiles(dataDir: string, maxCached = 4096) {
  const pop: PopDb = acquirePopDb(dataDir);
  const cache = new Map<string, VaultStore>();
  // Facades of vaults seen in a committed `vaults` row: a vault stops existing only through
  // `erase` (which drops it here), so `find` skips its query for them (the existence check ran
  // twice per request, 3.6 % of a POP's time under a GET load in the issue-12 profile). A row
  // read inside a transaction may yet roll back, so only rows seen outside one count.
  const known = new WeakSet<VaultStore>();
  let released = false;
  let anchors: AuditAnchorStore | undefined;

  function facade(vaultId: VaultId): VaultStore {
    const hit = cache.get(vaultId);
    if (hit) return hit;
    if (!isVaultId(vaultId)) throw new RangeError('not a vault id');
    const s = openVaultStore(pop, vaultId);
    cache.set(vaultId, s);
    if (cache.size > maxCached) cache.delete(cache.keys().next().value as string);
    return s;
  }

  return {
    /** The vault's store, or undefined when the vault does not exist on this POP (no revision yet). */
    find(vaultId: VaultId): VaultStore | undefined {
      const hit = cache.get(vaultId);
      if (hit && known.has(hit)) return hit;
      if (pop.q.hasVault.get(vaultId) === undefined) return undefined;
      const s = facade(vaultId);
      if (!pop.db.inTransaction) known.add(s);
      return s;
    },
    /** The vault's store; the vault comes to exist with its first revision. */
    openOrCreate(vaultId: VaultId): VaultStore {
      return facade(vaultId);
    },
    /** Head seq of every vault (vault id → max seq), one query. */
    heads(): Map<VaultId, number> {
      return new Map(pop.q.heads.all().map((r) => [r.vault_id as VaultId, r.m]));
    },
    /** Sum of every vault's head seq (= revisions held, seqs being gap-free), one query. */
    headTotal(): number {
      return pop.q.revisionCount.get()!.n;
    },
    /** Every revision of every vault, ordered by vault then seq (digests of `verify`), one query. */
    *iterateAll(): IterableIterator<Revision> {
      for (const r of pop.q.allRevs.iterate()) {
        yield { vaultId: r.vault_id, seq: r.seq, kind: r.kind as RevisionKind, subject: r.subject, body: r.body, epoch: r.epoch, originPop: r.origin_pop, createdAt: r.created_at };
      }
    },
    /**
     * Erases a vault: its revisions, derived rows, audit trail, backlog records and its place in
     * the vault list, in one transaction (a vault whose creation was set aside at demotion).
     */
    erase(vaultId: VaultId): void {
      pop.db.transaction(() => {
        pop.q.deleteRevsFrom.run(vaultId, 0);
        pop.q.deleteEntries.run(vaultId);
        pop.q.deleteTokens.run(vaultId);
        pop.q.deleteGrants.run(vaultId);
        pop.q.deleteAudit.run(vaultId);
        pop.q.deleteBacklogVault.run(vaultId);
        pop.q.removeVault.run(vaultId);
      })();
      cache.delete(vaultId);
    },
    /** Resolves once every write and audit record queued for group commit so far has committed. */
    settled(): Promise<void> {
      return pop.committer.settled();
    },
    /** Group-commit counters (batches, jobs, largest batch). */
    commitStats: () => pop.committer.stats(),
    /** Sets where failures of queued audit records are reported (the server's logger). */
    onError(fn: (e: unknown) => void): void {
      pop.onError = fn;
    },
    /** Sets the listener told of every appended audit record (the audit-anchor sender, issue 13 §3). */
    onAuditAppended(fn: ((vaultId: string) => void) | undefined): void {
      pop.onAudit = fn;
    },
    /** Audit-anchor statements (issue 13 §3), prepared on first use. */
    anchors(): AuditAnchorStore {
      anchors ??= createAuditAnchorStore(pop);
      return anchors;
    },
    /** Drops a cached facade (nothing to close: one connection per POP). */
    close(vaultId: VaultId): void {
      cache.delete(vaultId);
    },
    /** Releases this user of the POP database (the last release closes it). */
    closeAll(): void {
      cache.clear();
      if (released) return;
      released = true;
      releasePopDb(pop);
    },
  };
}
