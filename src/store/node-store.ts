/**
 * What belongs to the POP rather than a vault (DESIGN.md §2), in `<data>/clavitor.db` (issue 12
 * item 1; it was `node.db` in the old layout): POP facts (epoch), the vault list, the replication
 * stream — the revision log by position (LSN), the backup's acknowledged position (the backlog is
 * the log past it), the epoch history (DESIGN.md §4.4.2; issue 12 item 3) — and quarantine
 * (§4.4.7). All calls are synchronous and each is its own transaction unless the caller wraps
 * several in `tx`; vault writes share the connection.
 */
import { acquirePopDb, releasePopDb, type PopDb } from './pop-db.js';
import { withSynchronousNormal, type Db } from './sqlite.js';
import type { VaultId } from '../lib/ids.js';
import type { Revision, RevisionKind } from './revision-row.js';
import type { RevDbRow } from './pop-db.js';

/** Where one epoch's log began (DESIGN.md §4.4.2; issue 12 item 3). */
export interface EpochStart {
  readonly epoch: number;
  /** First log position (LSN) of the epoch: the primary's last LSN + 1 when it took the epoch. */
  readonly startLsn: number;
  /** POP that took the epoch as primary. */
  readonly popId: string;
}

/** A revision with its log position, as the sender ships it. */
export interface LoggedRevision {
  readonly lsn: number;
  readonly rev: Revision;
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

/** Meta key of the backup's acknowledged log position (the sender's cursor). */
const ACKED_KEY = 'acked_lsn';

const toRevision = (r: RevDbRow): Revision => ({
  vaultId: r.vault_id, seq: r.seq, kind: r.kind as RevisionKind, subject: r.subject, body: r.body, epoch: r.epoch, originPop: r.origin_pop, createdAt: r.created_at,
});

/**
 * The backlog table of a database written before issue 12 item 3 (or by the old-layout conversion)
 * becomes the cursor: acknowledged position = the LSN before the oldest revision it lists (the
 * whole log past it is shipped again; a revision the backup holds is skipped as identical), or the
 * last LSN for an empty backlog. Then the table is emptied. Runs at every open; idempotent.
 */
function convertLegacyBacklog(db: Db, q: { getMeta: { get(k: string): { value: string } | undefined }; setMeta: { run(k: string, v: string): unknown }; lastLsn: { get(): { m: number | null } | undefined }; legacyBacklog: { get(): { m: number | null; n: number } | undefined }; clearLegacyBacklog: { run(): unknown } }): void {
  const legacy = q.legacyBacklog.get()!;
  const known = q.getMeta.get(ACKED_KEY)?.value;
  if (legacy.n === 0 && known !== undefined) return;
  db.transaction(() => {
    const last = Math.max(0, q.lastLsn.get()!.m ?? 0);
    let acked = known === undefined ? last : Number(known);
    if (legacy.m !== null) acked = Math.min(acked, legacy.m - 1);
    q.setMeta.run(ACKED_KEY, String(acked));
    q.clearLegacyBacklog.run();
  })();
}

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
    lastLsn: db.prepare<[], { m: number | null }>('SELECT max(lsn) AS m FROM revisions'),
    logAfter: db.prepare<[number, number, number], RevDbRow>('SELECT * FROM revisions WHERE lsn > ? AND lsn <= ? ORDER BY lsn LIMIT ?'),
    countAfter: db.prepare<[{ a: number }], { n: number; first: number | null }>('SELECT count(*) AS n, (SELECT min(lsn) FROM revisions WHERE lsn > @a) AS first FROM revisions WHERE lsn > @a'),
    createdAt: db.prepare<[number], { created_at: string }>('SELECT created_at FROM revisions WHERE lsn = ?'),
    tailFrom: db.prepare<[number], { lsn: number; vault_id: string; seq: number }>('SELECT lsn, vault_id, seq FROM revisions WHERE lsn >= ? ORDER BY lsn'),
    keyAt: db.prepare<[number], { vault_id: string; seq: number }>('SELECT vault_id, seq FROM revisions WHERE lsn = ?'),
    lsnOf: db.prepare<[string, number], { lsn: number }>('SELECT lsn FROM revisions WHERE vault_id = ? AND seq = ?'),
    vaultsAfter: db.prepare<[number, number], { vault_id: string }>('SELECT DISTINCT vault_id FROM revisions WHERE lsn > ? ORDER BY vault_id LIMIT ?'),
    countVaultsAfter: db.prepare<[number], { n: number }>('SELECT count(DISTINCT vault_id) AS n FROM revisions WHERE lsn > ?'),
    parkLog: db.prepare('UPDATE revisions SET lsn = -lsn WHERE lsn > 0'),
    moveLsn: db.prepare('UPDATE revisions SET lsn = ? WHERE vault_id = ? AND seq = ?'),
    history: db.prepare<[], { epoch: number; start_lsn: number; pop_id: string }>('SELECT epoch, start_lsn, pop_id FROM epoch_history ORDER BY epoch'),
    addHistory: db.prepare('INSERT OR IGNORE INTO epoch_history (epoch, start_lsn, pop_id) VALUES (?, ?, ?)'),
    clearHistory: db.prepare('DELETE FROM epoch_history'),
    legacyBacklog: db.prepare<[], { m: number | null; n: number }>('SELECT (SELECT min(r.lsn) FROM backlog b JOIN revisions r ON r.vault_id = b.vault_id AND r.seq = b.seq) AS m, (SELECT count(*) FROM backlog) AS n'),
    clearLegacyBacklog: db.prepare('DELETE FROM backlog'),
    addQuarantine: db.prepare('INSERT INTO quarantine (vault_id, seq, kind, subject, epoch, revision, reason, quarantined_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)'),
    listQuarantine: db.prepare<[], QuarantineDbRow>('SELECT * FROM quarantine ORDER BY id'),
    listOpenQuarantine: db.prepare<[], QuarantineDbRow>('SELECT * FROM quarantine WHERE held_at IS NULL ORDER BY id'),
    openQuarantineOf: db.prepare<[string], QuarantineDbRow>('SELECT * FROM quarantine WHERE vault_id = ? AND held_at IS NULL ORDER BY id'),
    markQuarantineHeld: db.prepare('UPDATE quarantine SET held_at = ? WHERE id = ? AND held_at IS NULL'),
  };

  convertLegacyBacklog(db, q);

  return {
    db,
    /** Runs `fn` in one transaction of the POP database (nested: a savepoint). */
    tx<T>(fn: () => T): T {
      return db.transaction(fn)();
    },
    /**
     * Runs `fn` in the POP database's next group commit (group-commit.ts: its own savepoint, one
     * transaction and one fsync with the other writes ready in the same turn); resolves once it
     * is on disk, rejects with what `fn` threw (nothing of it stored).
     */
    commit<T>(fn: () => T): Promise<T> {
      return pop.committer.enqueue(fn);
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
    /** Highest log position (LSN) held, 0 for an empty log (parked rows, below zero, do not count). */
    lastLsn(): number {
      return Math.max(0, q.lastLsn.get()!.m ?? 0);
    },
    /**
     * The backup's acknowledged position as this POP knows it (DESIGN.md §4.4.2): every revision at
     * or below it is held by the backup; the backlog is the log past it.
     */
    ackedLsn(): number {
      return Number(q.getMeta.get(ACKED_KEY)?.value ?? 0);
    },
    /** Moves the acknowledged position (ack, resync from a lower position, demotion). */
    setAckedLsn(lsn: number): void {
      if (db.inTransaction) {
        q.setMeta.run(ACKED_KEY, String(lsn));
        return;
      }
      // Alone (the sender, at each acknowledgement): committed with synchronous = NORMAL, durable
      // against a process crash at once and against a machine crash from the next fsync'd commit.
      // Losing it to a machine crash only makes this primary resend what the backup holds, which
      // the backup skips as identical (receiver.ts); an fsync on the event loop per acknowledged
      // push is what it saves (issue 12: catch-up and lag).
      withSynchronousNormal(db, () => q.setMeta.run(ACKED_KEY, String(lsn)));
    },
    /**
     * The last log position known to be on disk (group-commit.ts `durableBound`): `Infinity` when
     * every committed revision is. The replication sender sends nothing past it.
     */
    durableLsn(): number {
      return pop.committer.durableBound();
    },
    /** Calls `cb` once the revisions committed so far are on disk (group-commit.ts `afterSync`). */
    afterDurable(cb: () => void): void {
      pop.committer.afterSync(cb);
    },
    /** At most `limit` revisions with `afterLsn` < LSN ≤ `upToLsn` (default: no bound), in log order. */
    logAfter(afterLsn: number, limit: number, upToLsn = Number.MAX_SAFE_INTEGER): LoggedRevision[] {
      return q.logAfter.all(afterLsn, Math.min(upToLsn, Number.MAX_SAFE_INTEGER), limit).map((r) => ({ lsn: r.lsn, rev: toRevision(r) }));
    },
    /**
     * Revisions with LSN > `afterLsn`: how many, the LSN of the oldest, and its write time (`created_at`,
     * wall-clock ms, for display), or nulls.
     */
    countAfter(afterLsn: number): { count: number; oldestLsn: number | null; oldestMs: number | null } {
      const r = q.countAfter.get({ a: afterLsn })!;
      const at = r.first === null ? undefined : q.createdAt.get(r.first)?.created_at;
      return { count: r.n, oldestLsn: r.first, oldestMs: at === undefined ? null : Date.parse(at) };
    },
    /** Backlog (the log past the acknowledged position): size, and LSN and write time (ms) of its oldest revision. */
    backlogStats(): { count: number; oldestLsn: number | null; oldestMs: number | null } {
      return this.countAfter(this.ackedLsn());
    },
    /** (LSN, vault, seq) of every revision at or past `fromLsn`, in log order (quarantine). */
    tailFrom(fromLsn: number): { lsn: number; vaultId: VaultId; seq: number }[] {
      return q.tailFrom.all(fromLsn).map((r) => ({ lsn: r.lsn, vaultId: r.vault_id as VaultId, seq: r.seq }));
    },
    /** Vault and seq of the revision at `lsn`, or undefined. */
    keyAt(lsn: number): { vaultId: VaultId; seq: number } | undefined {
      const r = q.keyAt.get(lsn);
      return r && { vaultId: r.vault_id as VaultId, seq: r.seq };
    },
    /** LSN of revision `seq` of `vaultId` (below zero while parked), or undefined. */
    lsnOf(vaultId: string, seq: number): number | undefined {
      return q.lsnOf.get(vaultId, seq)?.lsn;
    },
    /** Up to `limit` vault ids with revisions past `afterLsn`, sorted; and how many such vaults in all. */
    vaultsAfter(afterLsn: number, limit: number): { vaults: VaultId[]; count: number } {
      return { vaults: q.vaultsAfter.all(afterLsn, limit).map((r) => r.vault_id as VaultId), count: q.countVaultsAfter.get(afterLsn)!.n };
    },
    /**
     * Parks the whole log below zero (LSN := −LSN), keeping every revision: a log whose positions
     * were assigned locally (no epoch history) takes its primary's positions revision by revision
     * as they are streamed again (`moveLsn`). Returns how many revisions were parked.
     */
    parkLog(): number {
      return q.parkLog.run().changes;
    },
    /** Gives revision `seq` of `vaultId` the log position `lsn`. */
    moveLsn(vaultId: string, seq: number, lsn: number): void {
      q.moveLsn.run(lsn, vaultId, seq);
    },
    /** The epoch history, oldest epoch first. */
    epochHistory(): EpochStart[] {
      return q.history.all().map((r) => ({ epoch: r.epoch, startLsn: r.start_lsn, popId: r.pop_id }));
    },
    /** Replaces the epoch history (a backup adopting its primary's). */
    replaceEpochHistory(h: readonly EpochStart[]): void {
      db.transaction(() => {
        q.clearHistory.run();
        for (const e of h) q.addHistory.run(e.epoch, e.startLsn, e.popId);
      })();
    },
    /**
     * Records that `popId` took `epoch` as primary, its log beginning at `startLsn` (default: the next
     * LSN); an epoch already recorded is kept.
     */
    recordEpochStart(epoch: number, popId: string, startLsn?: number): void {
      q.addHistory.run(epoch, startLsn ?? this.lastLsn() + 1, popId);
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
