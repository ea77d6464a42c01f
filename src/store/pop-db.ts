/**
 * The POP database `<data>/clavitor.db` (issue 12 item 1; schema in migrations.ts): one SQLite
 * connection per data directory and process, shared by the node store (POP facts, backlog,
 * quarantine) and every vault's facade, with each statement prepared once for the whole
 * database (not once per vault: a POP holds up to 100,000 vaults) and one group committer.
 *
 * `acquirePopDb` / `releasePopDb` count users, so that `openNodeStore(dir)` and
 * `createVaultFiles(dir)` share the connection and the last `close` closes it.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { openDatabase, type Db } from './sqlite.js';
import { POP_MIGRATIONS } from './migrations.js';
import { createGroupCommitter, type GroupCommitter } from './group-commit.js';
import { Errors } from '../lib/errors.js';
import { convertLegacyLayout, finishInterruptedConversion, hasLegacyLayout } from './legacy-convert.js';

/** File name of the POP database inside the data directory. */
export const POP_DB_FILE = 'clavitor.db';

/** Row of `revisions` as SQLite returns it. */
export type RevDbRow = { lsn: number; vault_id: string; seq: number; kind: string; subject: string | null; body: string; epoch: number; origin_pop: string; created_at: string };
/** Row of `tokens`. */
export type TokDbRow = { vault_id: string; token_id: string; kind: 'owner' | 'agent'; agent_id: string | null; verifier: string; wrapped: string; scopes: string; name: string | null; revoked: number; created_seq: number; locked: number; per_minute: number | null; per_hour: number | null; folders: string; tags: string; expires_at: string | null; ttl_seconds: number | null; key_owner: string | null };
/** Row of `grants`. */
export type GrantDbRow = { entry_id: string; agent_id: string; seq: number; wrap: string };
/** Row of `entries`. */
export type EntryDbRow = { vault_id: string; entry_id: string; head_seq: number; created_seq: number; deleted: number };
/** Row of `audit`. */
export type AudDbRow = { id: number; vault_id: string; at: string; actor: string; action: string; entry_id: string | null; outcome: string; code: string | null; ip: string | null; prev_hash: string; hash: string };

function prepareAll(db: Db) {
  return {
    // vaults
    hasVault: db.prepare<[string], { one: number }>('SELECT 1 AS one FROM vaults WHERE vault_id = ?'),
    addVault: db.prepare('INSERT OR IGNORE INTO vaults (vault_id, created_at) VALUES (?, ?)'),
    removeVault: db.prepare('DELETE FROM vaults WHERE vault_id = ?'),
    listVaults: db.prepare<[], { vault_id: string }>('SELECT vault_id FROM vaults ORDER BY vault_id'),
    countVaults: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM vaults'),
    heads: db.prepare<[], { vault_id: string; m: number }>('SELECT vault_id, max(seq) AS m FROM revisions GROUP BY vault_id'),
    revisionCount: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM revisions'),
    // revisions
    maxSeq: db.prepare<[string], { m: number | null }>('SELECT max(seq) AS m FROM revisions WHERE vault_id = ?'),
    insertRev: db.prepare('INSERT INTO revisions (vault_id, seq, kind, subject, body, epoch, origin_pop, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)'),
    insertRevAt: db.prepare('INSERT INTO revisions (lsn, vault_id, seq, kind, subject, body, epoch, origin_pop, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)'),
    getRev: db.prepare<[string, number], RevDbRow>('SELECT * FROM revisions WHERE vault_id = ? AND seq = ?'),
    revRange: db.prepare<[string, number, number], RevDbRow>('SELECT * FROM revisions WHERE vault_id = ? AND seq >= ? AND seq <= ? ORDER BY seq'),
    revsOfSubject: db.prepare<[string, string], RevDbRow>('SELECT * FROM revisions WHERE vault_id = ? AND subject = ? ORDER BY seq'),
    vaultRevs: db.prepare<[string], RevDbRow>('SELECT * FROM revisions WHERE vault_id = ? ORDER BY seq'),
    allRevs: db.prepare<[], RevDbRow>('SELECT * FROM revisions ORDER BY vault_id, seq'),
    deleteRevsFrom: db.prepare('DELETE FROM revisions WHERE vault_id = ? AND seq >= ?'),
    // entries
    getEntry: db.prepare<[string, string], EntryDbRow>('SELECT * FROM entries WHERE vault_id = ? AND entry_id = ?'),
    listEntries: db.prepare<[string], EntryDbRow>('SELECT * FROM entries WHERE vault_id = ? AND deleted = 0 ORDER BY created_seq'),
    listDeleted: db.prepare<[string], EntryDbRow>('SELECT * FROM entries WHERE vault_id = ? AND deleted = 1 ORDER BY head_seq DESC'),
    upsertEntry: db.prepare(`INSERT INTO entries (vault_id, entry_id, head_seq, created_seq, deleted) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT(vault_id, entry_id) DO UPDATE SET head_seq = excluded.head_seq, deleted = excluded.deleted`),
    deleteEntries: db.prepare('DELETE FROM entries WHERE vault_id = ?'),
    // tokens
    insertToken: db.prepare('INSERT INTO tokens (vault_id, token_id, kind, agent_id, verifier, wrapped, scopes, name, created_seq, per_minute, per_hour, folders, tags, expires_at, ttl_seconds, key_owner) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)'),
    updateAgent: db.prepare('UPDATE tokens SET scopes = ?, folders = ?, tags = ?, expires_at = ?, ttl_seconds = ? WHERE vault_id = ? AND agent_id = ?'),
    getToken: db.prepare<[string, string], TokDbRow>('SELECT * FROM tokens WHERE vault_id = ? AND token_id = ?'),
    getAgent: db.prepare<[string, string], TokDbRow>('SELECT * FROM tokens WHERE vault_id = ? AND agent_id = ?'),
    listAgents: db.prepare<[string], TokDbRow>("SELECT * FROM tokens WHERE vault_id = ? AND kind = 'agent' ORDER BY created_seq"),
    revokeAgent: db.prepare('UPDATE tokens SET revoked = 1 WHERE vault_id = ? AND agent_id = ?'),
    revokeToken: db.prepare('UPDATE tokens SET revoked = 1 WHERE vault_id = ? AND token_id = ?'),
    listOwnerTokens: db.prepare<[string], TokDbRow>("SELECT * FROM tokens WHERE vault_id = ? AND kind = 'owner' AND revoked = 0 ORDER BY created_seq"),
    setAgentLocked: db.prepare('UPDATE tokens SET locked = ? WHERE vault_id = ? AND agent_id = ?'),
    deleteTokens: db.prepare('DELETE FROM tokens WHERE vault_id = ?'),
    // grants (issue 14 item 3)
    putGrant: db.prepare(`INSERT INTO grants (vault_id, entry_id, agent_id, seq, wrap) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT(vault_id, entry_id, agent_id) DO UPDATE SET seq = excluded.seq, wrap = excluded.wrap`),
    getGrant: db.prepare<[string, string, string], GrantDbRow>('SELECT entry_id, agent_id, seq, wrap FROM grants WHERE vault_id = ? AND entry_id = ? AND agent_id = ?'),
    grantsOfEntry: db.prepare<[string, string], GrantDbRow>('SELECT entry_id, agent_id, seq, wrap FROM grants WHERE vault_id = ? AND entry_id = ? ORDER BY agent_id'),
    grantsOfAgent: db.prepare<[string, string], GrantDbRow>('SELECT entry_id, agent_id, seq, wrap FROM grants WHERE vault_id = ? AND agent_id = ? ORDER BY entry_id'),
    deleteGrantsOfEntry: db.prepare('DELETE FROM grants WHERE vault_id = ? AND entry_id = ?'),
    deleteGrantsOfAgent: db.prepare('DELETE FROM grants WHERE vault_id = ? AND agent_id = ?'),
    deleteGrants: db.prepare('DELETE FROM grants WHERE vault_id = ?'),
    // audit
    lastAudit: db.prepare<[string], { hash: string }>('SELECT hash FROM audit WHERE vault_id = ? ORDER BY id DESC LIMIT 1'),
    // Audit ids are numbered per vault (1, 2, …), as in the old layout's vault files.
    // Positional parameters (the vault id twice): binding named ones from an object costs a
    // property lookup each on every read's audit record.
    insertAudit: db.prepare<[string, string, string, string, string | null, string, string | null, string | null, string, string, string]>(`INSERT INTO audit (vault_id, id, at, actor, action, entry_id, outcome, code, ip, prev_hash, hash)
      SELECT ?, coalesce(max(id), 0) + 1, ?, ?, ?, ?, ?, ?, ?, ?, ? FROM audit WHERE vault_id = ?`),
    pageAudit: db.prepare<[string, number, number], AudDbRow>('SELECT * FROM audit WHERE vault_id = ? AND id > ? ORDER BY id LIMIT ?'),
    deleteAudit: db.prepare('DELETE FROM audit WHERE vault_id = ?'),
    deleteBacklogVault: db.prepare('DELETE FROM backlog WHERE vault_id = ?'),
  };
}

/** Statements of the POP database, prepared once. */
export type PopStatements = ReturnType<typeof prepareAll>;

/** An open POP database: connection, statements, group committer. */
export interface PopDb {
  readonly db: Db;
  readonly file: string;
  readonly q: PopStatements;
  readonly committer: GroupCommitter;
  /** Receives failures of relaxed (audit) jobs, which no request awaits; the server logs them. Default: stderr. */
  onError: (e: unknown) => void;
  /**
   * Told the vault id after each audit record is appended (inside its transaction, before the
   * commit): the commercial POP's audit-anchor sender (issue 13 §3). Must not throw.
   */
  onAudit?: ((vaultId: string) => void) | undefined;
}

const open = new Map<string, { pop: PopDb; users: number }>();

/**
 * Opens (creating and migrating when absent) `<dataDir>/clavitor.db`, or returns the connection
 * this process already has open for it; every call must be matched by `releasePopDb`. A data
 * directory in the old layout (node.db, vaults/) is converted first (legacy-convert.ts; throws
 * LEGACY_CONVERSION_FAILED, CV-5022, and leaves the old files untouched when it cannot).
 */
export function acquirePopDb(dataDir: string): PopDb {
  const file = resolve(join(dataDir, POP_DB_FILE));
  const hit = open.get(file);
  if (hit) {
    hit.users++;
    return hit.pop;
  }
  if (!existsSync(file) && hasLegacyLayout(dataDir)) convertLegacyLayout(dataDir);
  else finishInterruptedConversion(dataDir);
  const db = openDatabase(file, POP_MIGRATIONS);
  const lastLsn = db.prepare<[], { m: number | null }>('SELECT max(lsn) AS m FROM revisions');
  const committer = createGroupCommitter(db, {
    mark: () => lastLsn.get()?.m ?? 0,
    // Fail-stop (group-commit.ts): after a failed fsync of the WAL nothing committed since the last
    // good one can be trusted on disk; the process stops rather than acknowledge more writes.
    onSyncFailure: (e) => {
      process.stderr.write(`${Errors.WAL_SYNC_FAILED.code}: ${Errors.WAL_SYNC_FAILED.message} (${file}-wal: ${e.message})\n`);
      process.exit(74);
    },
  });
  const pop: PopDb = { db, file, q: prepareAll(db), committer, onError: (e) => process.stderr.write(`clavitor.db: audit write failed: ${(e as Error).message}\n`) };
  open.set(file, { pop, users: 1 });
  return pop;
}

/** Releases one use of `pop`; the last one closes the connection. */
export function releasePopDb(pop: PopDb): void {
  const hit = open.get(pop.file);
  if (!hit || hit.pop !== pop) return;
  if (--hit.users > 0) return;
  open.delete(pop.file);
  pop.committer.close();
  pop.db.close();
}
