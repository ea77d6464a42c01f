/**
 * What belongs to the POP rather than a vault (DESIGN.md §2), in `<data>/clavitor.db` (issue 12
 * item 1; it was `node.db` in the old layout): POP facts (epoch), the vault list, the replication
 * backlog (DESIGN.md §4.4.2) and quarantine (§4.4.7). All calls are synchronous and each is its
 * own transaction unless the caller wraps several in `tx`; vault writes share the connection, so
 * a backlog record commits in its revision's transaction.
 */
import { acquirePopDb, releasePopDb, type PopDb } from './pop-db.js';
import type { Db } from './sqlite.js';
import type { VaultId } from '../lib/ids.js';

/** One backlog record: revision `seq` of `vaultId` not yet acknowledged by the backup. */
export interface BacklogRow {
  readonly id: number;
  readonly vaultId: VaultId;
  readonly seq: number;
  /** When the record was queued, milliseconds since the Unix epoch. */
  readonly queuedAtMs: number;
}

/** A quarantined revision (kept, never silently discarded; DESIGN.md §4.4.7). */
export interface QuarantineRow {
  readonly id: number;
  readonly vaultId: VaultId;
  readonly seq: number;
  readonly kind: string;
  readonly subject: string | null;
  readonly epoch: number;
  /** The full revision as JSON text, as it was stored. */
  readonly revision: string;
  readonly reason: string;
  readonly quarantinedAt: string;
  /**
   * When this POP received the same revision, byte for byte, from its primary (ISO-8601 UTC), or
   * null: a held revision is not lost, so listings leave it out unless asked (issue 11 item 8).
   */
  readonly heldAt: string | null;
}

type QuarantineDbRow = { id: number; vault_id: string; seq: number; kind: string; subject: string | null; epoch: number; revision: string; reason: string; quarantined_at: string; held_at: string | null };

const quarantineRow = (r: QuarantineDbRow): QuarantineRow => ({
  id: r.id, vaultId: r.vault_id as VaultId, seq: r.seq, kind: r.kind, subject: r.subject, epoch: r.epoch,
  revision: r.revision, reason: r.reason, quarantinedAt: r.quarantined_at, heldAt: r.held_at,
});

/** Synchronous access to the POP's own rows; see the factory `openNodeStore`. */
export type NodeStore = ReturnType<typeof openNodeStore>;

/**
 * Opens `<dataDir>/clavitor.db` (creating, migrating, or converting an old-layout directory:
 * pop-db.ts), sharing the process's connection with `createVaultFiles`. Throws the driver's error
 * if it cannot be opened, LEGACY_CONVERSION_FAILED (CV-5022) if an old layout cannot be converted.
 */
export function openNodeStore(dataDir: string) {
  const pop: PopDb = acquirePopDb(dataDir);
  const db: Db = pop.db;
  let released = false;
  const q = {
    getMeta: db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?'),
    setMeta: db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value'),
    addVault: db.prepare('INSERT OR IGNORE INTO vaults (vault_id, created_at) VALUES (?, ?)'),
    hasVault: db.prepare<[string], { one: number }>('SELECT 1 AS one FROM vaults WHERE vault_id = ?'),
    listVaults: db.prepare<[], { vault_id: string }>('SELECT vault_id FROM vaults ORDER BY vault_id'),
    countVaults: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM vaults'),
    removeVault: db.prepare('DELETE FROM vaults WHERE vault_id = ?'),
    addBacklog: db.prepare('INSERT OR IGNORE INTO backlog (vault_id, seq, queued_at_ms) VALUES (?, ?, ?)'),
    peekBacklog: db.prepare<[number], { id: number; vault_id: string; seq: number; queued_at_ms: number }>(
      'SELECT id, vault_id, seq, queued_at_ms FROM backlog ORDER BY id LIMIT ?'),
    deleteBacklogUpTo: db.prepare('DELETE FROM backlog WHERE id <= ?'),
    deleteBacklogRow: db.prepare('DELETE FROM backlog WHERE id = ?'),
    deleteBacklogVault: db.prepare('DELETE FROM backlog WHERE vault_id = ?'),
    clearBacklog: db.prepare('DELETE FROM backlog'),
    countBacklog: db.prepare<[], { n: number; oldest: number | null }>('SELECT count(*) AS n, (SELECT queued_at_ms FROM backlog ORDER BY id LIMIT 1) AS oldest FROM backlog'),
    backlogMaxId: db.prepare<[], { m: number | null }>('SELECT max(id) AS m FROM backlog'),
    backlogMinId: db.prepare<[], { m: number | null }>('SELECT min(id) AS m FROM backlog'),
    backlogMinSeq: db.prepare<[string], { m: number | null }>('SELECT min(seq) AS m FROM backlog WHERE vault_id = ?'),
    allBacklog: db.prepare<[], { id: number; vault_id: string; seq: number }>('SELECT id, vault_id, seq FROM backlog ORDER BY id'),
    addQuarantine: db.prepare('INSERT INTO quarantine (vault_id, seq, kind, subject, epoch, revision, reason, quarantined_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)'),
    listQuarantine: db.prepare<[], QuarantineDbRow>('SELECT * FROM quarantine ORDER BY id'),
    listOpenQuarantine: db.prepare<[], QuarantineDbRow>('SELECT * FROM quarantine WHERE held_at IS NULL ORDER BY id'),
    openQuarantineOf: db.prepare<[string], QuarantineDbRow>('SELECT * FROM quarantine WHERE vault_id = ? AND held_at IS NULL ORDER BY id'),
    markQuarantineHeld: db.prepare('UPDATE quarantine SET held_at = ? WHERE id = ? AND held_at IS NULL'),
  };

  return {
    db,
    /** Runs `fn` in one transaction of the POP database (nested: a savepoint). */
    tx<T>(fn: () => T): T {
      return db.transaction(fn)();
    },
    /** Reads a meta value, or undefined. */
    getMeta(key: string): string | undefined {
      return q.getMeta.get(key)?.value;
    },
    /** Writes a meta value. */
    setMeta(key: string, value: string): void {
      q.setMeta.run(key, value);
    },
    /**
     * Next push counter of this POP as a sender (replay protection), persisted before use. A
     * fresh database starts at the sender's clock in microseconds, so a rebuilt primary continues
     * above the counters it used before (its own clock only; no comparison between POPs).
     */
    nextPushSeq(): number {
      return db.transaction(() => {
        const cur = Number(q.getMeta.get('push_seq')?.value ?? Date.now() * 1000);
        const next = cur + 1;
        q.setMeta.run('push_seq', String(next));
        return next;
      })();
    },
    /**
     * Moves the push counter to at least `min` (persisted), so the next push goes above a counter the
     * backup already accepted: a database restored from an older snapshot has its counter behind the
     * backup's (issue 11 item 3). Returns the counter before the move.
     */
    advancePushSeq(min: number): number {
      return db.transaction(() => {
        const cur = Number(q.getMeta.get('push_seq')?.value ?? 0);
        if (min > cur) q.setMeta.run('push_seq', String(min));
        return cur;
      })();
    },
    /** Records a vault as existing on this POP (idempotent). */
    addVault(vaultId: VaultId, createdAt: string): void {
      q.addVault.run(vaultId, createdAt);
    },
    /** True when the vault is recorded on this POP. */
    hasVault(vaultId: string): boolean {
      return q.hasVault.get(vaultId) !== undefined;
    },
    /** Forgets a vault's place in the vault list (its rows: `VaultFiles.erase`). */
    removeVault(vaultId: VaultId): void {
      q.removeVault.run(vaultId);
    },
    /** All vault ids, sorted. */
    listVaults(): VaultId[] {
      return q.listVaults.all().map((r) => r.vault_id as VaultId);
    },
    /** Number of vaults. */
    countVaults(): number {
      return q.countVaults.get()!.n;
    },
    /** Queues revision `seq` of `vaultId` for the backup (idempotent on the pair). */
    addBacklog(vaultId: VaultId, seq: number, nowMs: number): void {
      q.addBacklog.run(vaultId, seq, nowMs);
    },
    /** The oldest `limit` backlog records, in queue order. */
    peekBacklog(limit: number): BacklogRow[] {
      return q.peekBacklog.all(limit).map((r) => ({ id: r.id, vaultId: r.vault_id as VaultId, seq: r.seq, queuedAtMs: r.queued_at_ms }));
    },
    /** Removes every backlog record with id ≤ `id` (acknowledged by the backup). */
    deleteBacklogUpTo(id: number): void {
      q.deleteBacklogUpTo.run(id);
    },
    /** Removes one backlog record. */
    deleteBacklogRow(id: number): void {
      q.deleteBacklogRow.run(id);
    },
    /**
     * Re-queues revisions `fromSeq..toSeq` of one vault after the backup reported a gap: the
     * vault's existing records are replaced so that its revisions stay in sequence order.
     */
    requeueVault(vaultId: VaultId, fromSeq: number, toSeq: number, nowMs: number): void {
      db.transaction(() => {
        q.deleteBacklogVault.run(vaultId);
        for (let s = fromSeq; s <= toSeq; s++) q.addBacklog.run(vaultId, s, nowMs);
      })();
    },
    /** Backlog size and the enqueue time (ms) of its oldest record, or null when empty. */
    backlogStats(): { count: number; oldestMs: number | null } {
      const r = q.countBacklog.get()!;
      return { count: r.n, oldestMs: r.oldest };
    },
    /** Highest backlog record id, or 0 for an empty backlog (marks where a full resync's records end). */
    backlogMaxId(): number {
      return q.backlogMaxId.get()!.m ?? 0;
    },
    /** Lowest backlog record id, or undefined for an empty backlog. */
    backlogMinId(): number | undefined {
      return q.backlogMinId.get()!.m ?? undefined;
    },
    /** Lowest queued seq of one vault, or undefined when none is queued. */
    backlogMinSeq(vaultId: string): number | undefined {
      return q.backlogMinSeq.get(vaultId)?.m ?? undefined;
    },
    /** Empties the backlog (demotion, after quarantining it). */
    clearBacklog(): void {
      q.clearBacklog.run();
    },
    /** Every backlog record (for quarantine on demotion). */
    allBacklog(): { id: number; vaultId: VaultId; seq: number }[] {
      return q.allBacklog.all().map((r) => ({ id: r.id, vaultId: r.vault_id as VaultId, seq: r.seq }));
    },
    /** Stores a revision in quarantine with its reason. */
    addQuarantine(row: Omit<QuarantineRow, 'id' | 'heldAt'>): void {
      q.addQuarantine.run(row.vaultId, row.seq, row.kind, row.subject, row.epoch, row.revision, row.reason, row.quarantinedAt);
    },
    /**
     * Quarantined revisions, oldest first: only those the successor does not hold (`heldAt` null),
     * or every one with `{ all: true }`.
     */
    listQuarantine(opts: { all?: boolean } = {}): QuarantineRow[] {
      return (opts.all ? q.listQuarantine : q.listOpenQuarantine).all().map(quarantineRow);
    },
    /** Quarantined revisions of one vault that the successor does not hold, oldest first. */
    openQuarantineOf(vaultId: string): QuarantineRow[] {
      return q.openQuarantineOf.all(vaultId).map(quarantineRow);
    },
    /** Marks quarantined revision `id` as held by the successor at `at` (ISO-8601); false if it already was. */
    markQuarantineHeld(id: number, at: string): boolean {
      return q.markQuarantineHeld.run(at, id).changes > 0;
    },
    /** Releases this user of the POP database (the last release closes it). */
    close(): void {
      if (released) return;
      released = true;
      releasePopDb(pop);
    },
  };
}
