/**
 * One-time conversion of a data directory in the old layout — `<data>/node.db` plus one
 * `<data>/vaults/<vault_id>.db` per vault — into `<data>/clavitor.db` (issue 12 item 1).
 *
 * 1. The old files are opened read-only; everything is copied into `clavitor.db.converting` in
 *    ONE transaction: meta, backlog, quarantine (ids kept), and per listed vault its revisions
 *    (in seq order, LSNs assigned vault by vault), entries, tokens and audit trail (ids kept).
 * 2. The copy is verified against the old files: per vault the revision count and SHA-256 digest
 *    of the log, the tokens, entries and the audit chain (every record's hashes, in order); the
 *    backlog, quarantine and meta rows. Any difference is a failure.
 * 3. Only then is the copy renamed to `clavitor.db` (atomic) and the old files moved — never
 *    deleted — to `<data>/legacy-layout-<UTC stamp>/`.
 *
 * Any failure throws LEGACY_CONVERSION_FAILED (CV-5022): the partial copy is removed and the old
 * files are left as they were, so the server exits non-zero and the next start tries again. A
 * crash between the rename and the move leaves both; the next start finishes the move (the new
 * database only ever appears verified). Vault files that node.db does not list (a crash during
 * creation, before the change) are moved with the rest and counted as `unlisted`, not converted:
 * the old server did not serve them either. Damage is not converted around: vault files with no
 * node.db, or a listed vault without its file (or with an empty one) whose backlog or quarantine
 * records show that it held revisions, fail the conversion.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openDatabase, type Db } from './sqlite.js';
import { POP_MIGRATIONS } from './migrations.js';
import { cvError } from '../lib/errors.js';

/** What a conversion did (logged by the server as `storage.converted`). */
export interface ConversionReport {
  readonly vaults: number;
  readonly revisions: number;
  readonly auditRecords: number;
  readonly backlog: number;
  readonly quarantine: number;
  /** Vault files present but not listed in node.db: moved, not converted. */
  readonly unlisted: number;
  /** Directory the old files were moved to, relative to the data directory. */
  readonly movedTo: string;
}

const NODE_DB = 'node.db';
const VAULTS_DIR = 'vaults';
const TARGET = 'clavitor.db';

/** True when `dataDir` holds old-layout files (node.db or a vaults/ directory). */
export function hasLegacyLayout(dataDir: string): boolean {
  return existsSync(join(dataDir, NODE_DB)) || existsSync(join(dataDir, VAULTS_DIR));
}

const reports = new Map<string, ConversionReport>();

/** The operator's one-line account of a conversion (the server logs it as `storage.converted`). */
export function describeConversion(r: ConversionReport): string {
  return `data directory converted to one database (clavitor.db): ${r.vaults} vaults, ${r.revisions} revisions, ${r.auditRecords} audit records, ${r.backlog} backlog records, ${r.quarantine} quarantined revisions; the old files were kept in ${r.movedTo}/`;
}

/** The report of a conversion this process made of `dataDir`, once (then forgotten). */
export function takeConversionReport(dataDir: string): ConversionReport | undefined {
  const r = reports.get(dataDir);
  reports.delete(dataDir);
  return r;
}

const columns = (db: Db, table: string): Set<string> => new Set((db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((c) => c.name));

function openOld(file: string): Db {
  return new Database(file, { readonly: true, fileMustExist: true });
}

type Rev = { seq: number; kind: string; subject: string | null; body: string; epoch: number; origin_pop: string; created_at: string };
type Tok = { token_id: string; kind: string; agent_id: string | null; verifier: string; wrapped: string; scopes: string; name: string | null; revoked: number; created_seq: number; locked: number; per_minute: number | null; per_hour: number | null };
type Aud = { id: number; at: string; actor: string; action: string; entry_id: string | null; outcome: string; code: string | null; ip: string | null; prev_hash: string; hash: string };
type Ent = { entry_id: string; head_seq: number; created_seq: number; deleted: number };

/** Everything of one old vault file, read whole (tokens default what an old schema lacks). */
function readVault(file: string): { revs: Rev[]; toks: Tok[]; auds: Aud[]; ents: Ent[] } {
  const db = openOld(file);
  try {
    const tc = columns(db, 'tokens');
    const lockCols = tc.has('locked') ? 'locked, per_minute, per_hour' : '0 AS locked, NULL AS per_minute, NULL AS per_hour';
    return {
      revs: db.prepare('SELECT seq, kind, subject, body, epoch, origin_pop, created_at FROM revisions ORDER BY seq').all() as Rev[],
      toks: db.prepare(`SELECT token_id, kind, agent_id, verifier, wrapped, scopes, name, revoked, created_seq, ${lockCols} FROM tokens ORDER BY token_id`).all() as Tok[],
      auds: db.prepare('SELECT id, at, actor, action, entry_id, outcome, code, ip, prev_hash, hash FROM audit ORDER BY id').all() as Aud[],
      ents: db.prepare('SELECT entry_id, head_seq, created_seq, deleted FROM entries ORDER BY entry_id').all() as Ent[],
    };
  } finally {
    db.close();
  }
}

const digestOf = (revs: readonly Rev[]): string => {
  const h = createHash('sha256');
  for (const r of revs) h.update(JSON.stringify([r.seq, r.kind, r.subject, r.body, r.epoch, r.origin_pop, r.created_at]) + '\n');
  return h.digest('hex');
};

const rmDb = (file: string): void => {
  for (const s of ['', '-wal', '-shm', '-journal']) rmSync(`${file}${s}`, { force: true });
};

/** UTC stamp for the directory name: 20261130T150842Z. */
const stamp = (d: Date): string => d.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');

/** Moves the old files into `<data>/legacy-layout-<stamp>/`; returns the directory name. */
function moveOld(dataDir: string, now: Date): string {
  let name = `legacy-layout-${stamp(now)}`;
  for (let i = 2; existsSync(join(dataDir, name)); i++) name = `legacy-layout-${stamp(now)}-${i}`;
  mkdirSync(join(dataDir, name), { mode: 0o700 });
  for (const f of [NODE_DB, `${NODE_DB}-wal`, `${NODE_DB}-shm`, VAULTS_DIR]) {
    if (existsSync(join(dataDir, f))) renameSync(join(dataDir, f), join(dataDir, name, f));
  }
  return name;
}

/**
 * Finishes a conversion interrupted after its verified rename (clavitor.db present, old files
 * still beside it): moves them. Returns the directory name, or undefined when there was nothing.
 */
export function finishInterruptedConversion(dataDir: string): string | undefined {
  if (!existsSync(join(dataDir, TARGET)) || !hasLegacyLayout(dataDir)) return undefined;
  return moveOld(dataDir, new Date());
}

/**
 * Converts the old layout of `dataDir` into `clavitor.db` (see the file header). Throws
 * LEGACY_CONVERSION_FAILED (CV-5022) naming what failed; then no `clavitor.db` exists and the old
 * files are untouched.
 */
export function convertLegacyLayout(dataDir: string, now = new Date()): ConversionReport {
  const tmp = join(dataDir, `${TARGET}.converting`);
  rmDb(tmp);
  let out: Db | undefined;
  let step = 'reading node.db';
  try {
    const nodeFile = join(dataDir, NODE_DB);
    const node = existsSync(nodeFile) ? openOld(nodeFile) : undefined;
    const meta = (node?.prepare('SELECT key, value FROM meta ORDER BY key').all() ?? []) as { key: string; value: string }[];
    const listed = (node?.prepare('SELECT vault_id, created_at FROM vaults ORDER BY vault_id').all() ?? []) as { vault_id: string; created_at: string }[];
    const backlog = (node?.prepare('SELECT id, vault_id, seq, queued_at_ms FROM backlog ORDER BY id').all() ?? []) as { id: number; vault_id: string; seq: number; queued_at_ms: number }[];
    const qHeld = node && columns(node, 'quarantine').has('held_at') ? 'held_at' : 'NULL AS held_at';
    const quarantine = (node?.prepare(`SELECT id, vault_id, seq, kind, subject, epoch, revision, reason, quarantined_at, ${qHeld} FROM quarantine ORDER BY id`).all() ?? []) as Record<string, unknown>[];
    node?.close();

    const vdir = join(dataDir, VAULTS_DIR);
    const files = existsSync(vdir) ? readdirSync(vdir).filter((f) => f.endsWith('.db')) : [];
    const listedIds = new Set(listed.map((v) => v.vault_id));
    const unlisted = files.filter((f) => !listedIds.has(f.slice(0, -3))).length;
    // Missing pieces are damage, never a reason to convert less: vault files without node.db, or a
    // listed vault whose file is gone or empty while node.db still holds its backlog or quarantine
    // (revisions that committed), stop the conversion (found by a newcomer's try-out).
    if (!node && files.length > 0) throw new Error(`${files.length} vault file(s) under vaults/ but no node.db to list them`);
    const vaults = new Map<string, ReturnType<typeof readVault>>();
    const referenced = new Set([...backlog.map((b) => b.vault_id), ...quarantine.map((q) => String(q.vault_id))]);
    for (const v of listed) {
      step = `reading vaults/${v.vault_id}.db`;
      const f = join(vdir, `${v.vault_id}.db`);
      if (existsSync(f)) vaults.set(v.vault_id, readVault(f));
      if (!(vaults.get(v.vault_id)?.revs.length) && referenced.has(v.vault_id)) {
        throw new Error(`the file is missing or holds no revision, but node.db holds backlog or quarantine records of that vault`);
      }
    }

    step = 'writing clavitor.db';
    out = openDatabase(tmp, POP_MIGRATIONS);
    const db = out;
    let revisions = 0;
    let auditRecords = 0;
    db.transaction(() => {
      const ins = {
        meta: db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)'),
        vault: db.prepare('INSERT INTO vaults (vault_id, created_at) VALUES (?, ?)'),
        rev: db.prepare('INSERT INTO revisions (vault_id, seq, kind, subject, body, epoch, origin_pop, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)'),
        ent: db.prepare('INSERT INTO entries (vault_id, entry_id, head_seq, created_seq, deleted) VALUES (?, ?, ?, ?, ?)'),
        tok: db.prepare('INSERT INTO tokens (vault_id, token_id, kind, agent_id, verifier, wrapped, scopes, name, revoked, created_seq, locked, per_minute, per_hour) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)'),
        aud: db.prepare('INSERT INTO audit (vault_id, id, at, actor, action, entry_id, outcome, code, ip, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)'),
        backlog: db.prepare('INSERT INTO backlog (id, vault_id, seq, queued_at_ms) VALUES (?, ?, ?, ?)'),
        quarantine: db.prepare('INSERT INTO quarantine (id, vault_id, seq, kind, subject, epoch, revision, reason, quarantined_at, held_at) VALUES (@id, @vault_id, @seq, @kind, @subject, @epoch, @revision, @reason, @quarantined_at, @held_at)'),
      };
      for (const m of meta) ins.meta.run(m.key, m.value);
      for (const v of listed) {
        const d = vaults.get(v.vault_id);
        if (!d || d.revs.length === 0) continue; // never created (crash during creation): not a vault
        ins.vault.run(v.vault_id, v.created_at);
        for (const r of d.revs) ins.rev.run(v.vault_id, r.seq, r.kind, r.subject, r.body, r.epoch, r.origin_pop, r.created_at);
        for (const e of d.ents) ins.ent.run(v.vault_id, e.entry_id, e.head_seq, e.created_seq, e.deleted);
        for (const t of d.toks) ins.tok.run(v.vault_id, t.token_id, t.kind, t.agent_id, t.verifier, t.wrapped, t.scopes, t.name, t.revoked, t.created_seq, t.locked, t.per_minute, t.per_hour);
        for (const a of d.auds) ins.aud.run(v.vault_id, a.id, a.at, a.actor, a.action, a.entry_id, a.outcome, a.code, a.ip, a.prev_hash, a.hash);
        revisions += d.revs.length;
        auditRecords += d.auds.length;
      }
      for (const b of backlog) ins.backlog.run(b.id, b.vault_id, b.seq, b.queued_at_ms);
      for (const q of quarantine) ins.quarantine.run(q);
    })();

    step = 'verifying clavitor.db against the old files';
    const same = (what: string, a: unknown, b: unknown): void => {
      if (JSON.stringify(a) !== JSON.stringify(b)) throw new Error(`${what} differs after copying`);
    };
    same('meta', db.prepare('SELECT key, value FROM meta ORDER BY key').all(), meta);
    same('backlog', db.prepare('SELECT id, vault_id, seq, queued_at_ms FROM backlog ORDER BY id').all(), backlog);
    same('quarantine', db.prepare('SELECT id, vault_id, seq, kind, subject, epoch, revision, reason, quarantined_at, held_at FROM quarantine ORDER BY id').all(), quarantine);
    for (const [vaultId, d] of vaults) {
      if (d.revs.length === 0) continue;
      const revs = db.prepare('SELECT seq, kind, subject, body, epoch, origin_pop, created_at FROM revisions WHERE vault_id = ? ORDER BY seq').all(vaultId) as Rev[];
      same(`revision count of ${vaultId}`, revs.length, d.revs.length);
      same(`revision digest of ${vaultId}`, digestOf(revs), digestOf(d.revs));
      same(`tokens of ${vaultId}`, db.prepare('SELECT token_id, kind, agent_id, verifier, wrapped, scopes, name, revoked, created_seq, locked, per_minute, per_hour FROM tokens WHERE vault_id = ? ORDER BY token_id').all(vaultId), d.toks);
      same(`entries of ${vaultId}`, db.prepare('SELECT entry_id, head_seq, created_seq, deleted FROM entries WHERE vault_id = ? ORDER BY entry_id').all(vaultId), d.ents);
      same(`audit chain of ${vaultId}`, db.prepare('SELECT id, at, actor, action, entry_id, outcome, code, ip, prev_hash, hash FROM audit WHERE vault_id = ? ORDER BY id').all(vaultId), d.auds);
    }
    db.close();
    out = undefined;

    step = 'moving the old files';
    renameSync(tmp, join(dataDir, TARGET));
    const movedTo = moveOld(dataDir, now);
    const report: ConversionReport = { vaults: [...vaults.values()].filter((d) => d.revs.length > 0).length, revisions, auditRecords, backlog: backlog.length, quarantine: quarantine.length, unlisted, movedTo };
    reports.set(dataDir, report);
    return report;
  } catch (e) {
    out?.close();
    const renamed = existsSync(join(dataDir, TARGET)); // absent before: present only by the verified rename
    if (!renamed) rmDb(tmp);
    throw cvError('LEGACY_CONVERSION_FAILED', renamed
      ? `${dataDir}: clavitor.db was converted and verified, but moving the old files aside failed: ${(e as Error).message}; the next start moves them`
      : `${dataDir}: converting the old layout (node.db, vaults/) failed while ${step}: ${(e as Error).message}; the old files are untouched and no clavitor.db was created`);
  }
}
