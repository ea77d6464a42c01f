/**
 * One vault file (`<data>/vaults/<vault_id>.db`, DESIGN.md §2): prepared statements over the
 * revision log, the derived entries and tokens tables, and the local audit trail. Synchronous.
 */
import { openDatabase, type Db } from './sqlite.js';
import { VAULT_MIGRATIONS } from './migrations.js';
import type { Revision, RevisionKind } from '../vault/revision.js';

/** Derived current state of one entry. */
export interface EntryRow {
  readonly entryId: string;
  /** Seq of the newest revision of the entry: its version for If-Match. */
  readonly headSeq: number;
  readonly createdSeq: number;
  readonly deleted: boolean;
}

/** A token as stored (owner or agent). */
export interface TokenRow {
  readonly tokenId: string;
  readonly kind: 'owner' | 'agent';
  readonly agentId: string | null;
  readonly verifier: string;
  readonly wrapped: string;
  readonly scopes: readonly string[];
  readonly name: string | null;
  readonly revoked: boolean;
  /** Locked after repeated rate-limit breaches (issue 6 item 3); only the owner's unlock clears it. */
  readonly locked: boolean;
  /** Agent's distinct-entries-per-minute limit; null means the default. */
  readonly perMinute: number | null;
  /** Agent's distinct-entries-per-hour limit; null means the default. */
  readonly perHour: number | null;
  readonly createdSeq: number;
}

/** One audit record (hash-chained; DESIGN.md §3 audit). */
export interface AuditRow {
  readonly id: number;
  readonly at: string;
  readonly actor: string;
  readonly action: string;
  readonly entryId: string | null;
  readonly outcome: string;
  readonly code: string | null;
  readonly ip: string | null;
  readonly prevHash: string;
  readonly hash: string;
}

type RevRow = { seq: number; kind: string; subject: string | null; body: string; epoch: number; origin_pop: string; created_at: string };

/** Synchronous access to one vault file; see `openVaultStore`. */
export type VaultStore = ReturnType<typeof openVaultStore>;

/** Opens (creating when absent) the vault file at `file` for vault `vaultId`, migrating it. */
export function openVaultStore(file: string, vaultId: string) {
  const db: Db = openDatabase(file, VAULT_MIGRATIONS);
  const q = {
    maxSeq: db.prepare<[], { m: number | null }>('SELECT max(seq) AS m FROM revisions'),
    insertRev: db.prepare('INSERT INTO revisions (seq, kind, subject, body, epoch, origin_pop, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)'),
    getRev: db.prepare<[number], RevRow>('SELECT * FROM revisions WHERE seq = ?'),
    revRange: db.prepare<[number, number], RevRow>('SELECT * FROM revisions WHERE seq >= ? AND seq <= ? ORDER BY seq'),
    revsOfSubject: db.prepare<[string], RevRow>('SELECT * FROM revisions WHERE subject = ? ORDER BY seq'),
    allRevs: db.prepare<[], RevRow>('SELECT * FROM revisions ORDER BY seq'),
    getEntry: db.prepare<[string], { entry_id: string; head_seq: number; created_seq: number; deleted: number }>('SELECT * FROM entries WHERE entry_id = ?'),
    listEntries: db.prepare<[], { entry_id: string; head_seq: number; created_seq: number; deleted: number }>('SELECT * FROM entries WHERE deleted = 0 ORDER BY created_seq'),
    upsertEntry: db.prepare(`INSERT INTO entries (entry_id, head_seq, created_seq, deleted) VALUES (?, ?, ?, ?)
      ON CONFLICT(entry_id) DO UPDATE SET head_seq = excluded.head_seq, deleted = excluded.deleted`),
    insertToken: db.prepare('INSERT INTO tokens (token_id, kind, agent_id, verifier, wrapped, scopes, name, created_seq, per_minute, per_hour) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)'),
    getToken: db.prepare<[string], TokRow>('SELECT * FROM tokens WHERE token_id = ?'),
    getAgent: db.prepare<[string], TokRow>('SELECT * FROM tokens WHERE agent_id = ?'),
    listAgents: db.prepare<[], TokRow>("SELECT * FROM tokens WHERE kind = 'agent' ORDER BY created_seq"),
    revokeAgent: db.prepare('UPDATE tokens SET revoked = 1 WHERE agent_id = ?'),
    setAgentLocked: db.prepare('UPDATE tokens SET locked = ? WHERE agent_id = ?'),
    lastAudit: db.prepare<[], { hash: string }>('SELECT hash FROM audit ORDER BY id DESC LIMIT 1'),
    insertAudit: db.prepare('INSERT INTO audit (at, actor, action, entry_id, outcome, code, ip, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)'),
    pageAudit: db.prepare<[number, number], AudRow>('SELECT * FROM audit WHERE id > ? ORDER BY id LIMIT ?'),
  };
  type TokRow = { token_id: string; kind: 'owner' | 'agent'; agent_id: string | null; verifier: string; wrapped: string; scopes: string; name: string | null; revoked: number; created_seq: number; locked: number; per_minute: number | null; per_hour: number | null };
  type AudRow = { id: number; at: string; actor: string; action: string; entry_id: string | null; outcome: string; code: string | null; ip: string | null; prev_hash: string; hash: string };
  const toRev = (r: RevRow): Revision => ({
    vaultId, seq: r.seq, kind: r.kind as RevisionKind, subject: r.subject, body: r.body, epoch: r.epoch, originPop: r.origin_pop, createdAt: r.created_at,
  });
  const toTok = (r: TokRow): TokenRow => ({
    tokenId: r.token_id, kind: r.kind, agentId: r.agent_id, verifier: r.verifier, wrapped: r.wrapped,
    scopes: JSON.parse(r.scopes) as string[], name: r.name, revoked: r.revoked === 1, createdSeq: r.created_seq,
    locked: r.locked === 1, perMinute: r.per_minute, perHour: r.per_hour,
  });
  const toEntry = (r: { entry_id: string; head_seq: number; created_seq: number; deleted: number }): EntryRow => ({
    entryId: r.entry_id, headSeq: r.head_seq, createdSeq: r.created_seq, deleted: r.deleted === 1,
  });

  return {
    db,
    vaultId,
    /** Runs `fn` in one transaction of this vault file. */
    tx<T>(fn: () => T): T {
      return db.transaction(fn)();
    },
    /**
     * Runs `fn` in one transaction committed with `synchronous = NORMAL`: durable against a
     * process crash at once, and against power loss from the next fully synced commit or WAL
     * checkpoint. Used only for audit records of reads and refusals, which change no vault data —
     * an fsync per read was 68 % of a GET (docs/performance.md).
     */
    txRelaxed<T>(fn: () => T): T {
      db.pragma('synchronous = NORMAL');
      try {
        return db.transaction(fn)();
      } finally {
        db.pragma('synchronous = FULL');
      }
    },
    /** Highest revision seq, 0 for an empty file. */
    maxSeq(): number {
      return q.maxSeq.get()!.m ?? 0;
    },
    /** Appends a revision row (no derived-state change; see vault/apply.ts). */
    insertRevision(r: Revision): void {
      q.insertRev.run(r.seq, r.kind, r.subject, r.body, r.epoch, r.originPop, r.createdAt);
    },
    /** One revision, or undefined. */
    getRevision(seq: number): Revision | undefined {
      const r = q.getRev.get(seq);
      return r && toRev(r);
    },
    /** Revisions `from..to` inclusive, in order. */
    revisionRange(from: number, to: number): Revision[] {
      return q.revRange.all(from, to).map(toRev);
    },
    /** Every revision about one subject (entry or agent id), oldest first. */
    revisionsOf(subject: string): Revision[] {
      return q.revsOfSubject.all(subject).map(toRev);
    },
    /** Iterates over all revisions in order (for digests and snapshots). */
    *iterateRevisions(): IterableIterator<Revision> {
      for (const r of q.allRevs.iterate()) yield toRev(r);
    },
    /** Current state of one entry, or undefined. */
    getEntry(entryId: string): EntryRow | undefined {
      const r = q.getEntry.get(entryId);
      return r && toEntry(r);
    },
    /** Live (not deleted) entries, oldest first. */
    listEntries(): EntryRow[] {
      return q.listEntries.all().map(toEntry);
    },
    /** Sets the current state of an entry. */
    upsertEntry(entryId: string, headSeq: number, createdSeq: number, deleted: boolean): void {
      q.upsertEntry.run(entryId, headSeq, createdSeq, deleted ? 1 : 0);
    },
    /** Stores a token (neither revoked nor locked; limits null for the owner or default limits). */
    insertToken(t: Omit<TokenRow, 'revoked' | 'locked'>): void {
      q.insertToken.run(t.tokenId, t.kind, t.agentId, t.verifier, t.wrapped, JSON.stringify(t.scopes), t.name, t.createdSeq, t.perMinute, t.perHour);
    },
    /** A token by id, or undefined. */
    getToken(tokenId: string): TokenRow | undefined {
      const r = q.getToken.get(tokenId);
      return r && toTok(r);
    },
    /** An agent's token by agent id, or undefined. */
    getAgent(agentId: string): TokenRow | undefined {
      const r = q.getAgent.get(agentId);
      return r && toTok(r);
    },
    /** All agents, oldest first. */
    listAgents(): TokenRow[] {
      return q.listAgents.all().map(toTok);
    },
    /** Marks an agent's token revoked. */
    revokeAgent(agentId: string): void {
      q.revokeAgent.run(agentId);
    },
    /** Sets or clears an agent's lockdown (derived from `agent.lock` / `agent.unlock`). */
    setAgentLocked(agentId: string, locked: boolean): void {
      q.setAgentLocked.run(locked ? 1 : 0, agentId);
    },
    /** Hash of the newest audit record, or undefined for an empty trail. */
    lastAuditHash(): string | undefined {
      return q.lastAudit.get()?.hash;
    },
    /** Appends an audit record (hash computed by the caller; see vault/audit.ts). */
    insertAudit(a: Omit<AuditRow, 'id'>): void {
      q.insertAudit.run(a.at, a.actor, a.action, a.entryId, a.outcome, a.code, a.ip, a.prevHash, a.hash);
    },
    /** Audit records with id > `afterId`, at most `limit`. */
    pageAudit(afterId: number, limit: number): AuditRow[] {
      return q.pageAudit.all(afterId, limit).map((r) => ({
        id: r.id, at: r.at, actor: r.actor, action: r.action, entryId: r.entry_id, outcome: r.outcome, code: r.code, ip: r.ip, prevHash: r.prev_hash, hash: r.hash,
      }));
    },
    /** Closes the file. */
    close(): void {
      db.close();
    },
  };
}
