/**
 * Audit anchors in `<data>/clavitor.db` (issue 13 §3; rules in src/vault/audit-anchor.ts and
 * docs/security.md "Audit trail"): the SQL behind them, nothing else. Three views:
 *
 * - this POP's own chain heads (`audit`: newest record of each vault);
 * - what its peer acknowledged of them (`audit_anchors_sent`), so only changed heads are sent;
 * - anchors received from the peer (`audit_anchors`), per (pop, vault, seq).
 */
import type { PopDb } from './pop-db.js';

/** The newest record of one vault's audit chain: its id (`seq`) and hash (hex SHA-256). */
export interface AuditHead {
  readonly vaultId: string;
  /** Record id (per vault, from 1). */
  readonly seq: number;
  readonly hash: string;
}

/** An anchor received from a peer. `receivedAt`: ISO-8601 UTC, for display. */
export interface StoredAnchor extends AuditHead {
  readonly popId: string;
  readonly receivedAt: string;
}

type AnchorDbRow = { pop_id: string; vault_id: string; seq: number; hash: string; received_at: string };

/** Audit-anchor statements over `pop`'s connection; see `createAuditAnchorStore`. */
export type AuditAnchorStore = ReturnType<typeof createAuditAnchorStore>;

/** Prepares the anchor statements on the POP database (one set per process). */
export function createAuditAnchorStore(pop: PopDb) {
  const db = pop.db;
  const q = {
    head: db.prepare<[string], { seq: number; hash: string }>('SELECT id AS seq, hash FROM audit WHERE vault_id = ? ORDER BY id DESC LIMIT 1'),
    heads: db.prepare<[], { vault_id: string; seq: number; hash: string }>(
      `SELECT a.vault_id, a.id AS seq, a.hash FROM audit a
       JOIN (SELECT vault_id, max(id) AS m FROM audit GROUP BY vault_id) h ON a.vault_id = h.vault_id AND a.id = h.m
       ORDER BY a.vault_id`),
    unsent: db.prepare<[], { vault_id: string; seq: number; hash: string }>(
      `SELECT a.vault_id, a.id AS seq, a.hash FROM audit a
       JOIN (SELECT vault_id, max(id) AS m FROM audit GROUP BY vault_id) h ON a.vault_id = h.vault_id AND a.id = h.m
       LEFT JOIN audit_anchors_sent s ON s.vault_id = a.vault_id
       WHERE s.vault_id IS NULL OR s.seq != a.id OR s.hash != a.hash
       ORDER BY a.vault_id`),
    sent: db.prepare<[string], { seq: number; hash: string }>('SELECT seq, hash FROM audit_anchors_sent WHERE vault_id = ?'),
    markSent: db.prepare('INSERT INTO audit_anchors_sent (vault_id, seq, hash) VALUES (?, ?, ?) ON CONFLICT(vault_id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash'),
    kept: db.prepare<[string, string], AnchorDbRow>('SELECT * FROM audit_anchors WHERE pop_id = ? AND vault_id = ? ORDER BY seq'),
    keep: db.prepare('INSERT OR IGNORE INTO audit_anchors (pop_id, vault_id, seq, hash, received_at) VALUES (?, ?, ?, ?, ?)'),
    drop: db.prepare('DELETE FROM audit_anchors WHERE pop_id = ? AND vault_id = ? AND seq = ?'),
    ofVault: db.prepare<[string], AnchorDbRow>('SELECT * FROM audit_anchors WHERE vault_id = ? ORDER BY pop_id, seq'),
    hasVault: db.prepare<[string], { one: number }>('SELECT 1 AS one FROM vaults WHERE vault_id = ?'),
  };
  const toStored = (r: AnchorDbRow): StoredAnchor => ({ popId: r.pop_id, vaultId: r.vault_id, seq: r.seq, hash: r.hash, receivedAt: r.received_at });
  return {
    /** Newest audit record of `vaultId` on this POP, or undefined for an empty trail. */
    head(vaultId: string): AuditHead | undefined {
      const r = q.head.get(vaultId);
      return r && { vaultId, seq: r.seq, hash: r.hash };
    },
    /** Newest audit record of every vault with a trail, by vault id (one query). */
    heads(): AuditHead[] {
      return q.heads.all().map((r) => ({ vaultId: r.vault_id, seq: r.seq, hash: r.hash }));
    },
    /** Heads that differ from what the peer last acknowledged (one query over all vaults). */
    unsent(): AuditHead[] {
      return q.unsent.all().map((r) => ({ vaultId: r.vault_id, seq: r.seq, hash: r.hash }));
    },
    /** Of `vaultIds`, the heads that differ from what the peer last acknowledged. */
    unsentOf(vaultIds: Iterable<string>): AuditHead[] {
      const out: AuditHead[] = [];
      for (const v of vaultIds) {
        const h = q.head.get(v);
        if (!h) continue;
        const s = q.sent.get(v);
        if (!s || s.seq !== h.seq || s.hash !== h.hash) out.push({ vaultId: v, seq: h.seq, hash: h.hash });
      }
      return out;
    },
    /**
     * Records that the peer acknowledged these heads, in the next group commit without an fsync of
     * its own (lost in a crash, they are only sent again).
     */
    markSent(heads: readonly AuditHead[]): Promise<void> {
      return pop.committer.enqueue(() => {
        for (const h of heads) q.markSent.run(h.vaultId, h.seq, h.hash);
      }, { relaxed: true });
    },
    /**
     * Runs `fn` (reads and `apply` calls) as one job of the group commit: one transaction, resolved
     * once committed with an fsync (anchors received are acknowledged only once durable).
     */
    commit<T>(fn: () => T): Promise<T> {
      return pop.committer.enqueue(fn);
    },
    /** Whether the vault exists on this POP. */
    hasVault: (vaultId: string): boolean => q.hasVault.get(vaultId) !== undefined,
    /** Anchors kept from `popId` for `vaultId`, oldest first. */
    kept(popId: string, vaultId: string): StoredAnchor[] {
      return q.kept.all(popId, vaultId).map(toStored);
    },
    /**
     * Inserts `add` (an anchor already kept at that seq is left as it was) and deletes the anchors
     * of `drop` (seqs of `popId`/`vaultId`); call inside `commit`.
     */
    apply(popId: string, vaultId: string, add: readonly { seq: number; hash: string }[], drop: readonly number[], receivedAt: string): void {
      for (const a of add) q.keep.run(popId, vaultId, a.seq, a.hash, receivedAt);
      for (const s of drop) q.drop.run(popId, vaultId, s);
    },
    /** Every anchor kept for `vaultId`, from any POP, by POP then seq. */
    ofVault(vaultId: string): StoredAnchor[] {
      return q.ofVault.all(vaultId).map(toStored);
    },
  };
}
