/**
 * Opening SQLite databases the way Clavitor needs them (DESIGN.md §2): WAL journal,
 * `synchronous = FULL` so a committed write survives power loss as well as `kill -9`,
 * foreign keys on, and schema migrations applied through `PRAGMA user_version`.
 */
import Database from 'better-sqlite3';

/** A better-sqlite3 connection. */
export type Db = Database.Database;

/** One migration step: SQL run inside a transaction, moving `user_version` from index to index+1. */
export type Migration = string;

/**
 * Opens (creating if absent) the database at `file` and applies pending `migrations` in order,
 * each in its own transaction. Throws the driver's error when the file cannot be opened.
 */
export function openDatabase(file: string, migrations: readonly Migration[]): Db {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  const current = db.pragma('user_version', { simple: true }) as number;
  for (let v = current; v < migrations.length; v++) {
    const sql = migrations[v]!;
    db.transaction(() => {
      db.exec(sql);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
  return db;
}

/**
 * Runs `fn` with `PRAGMA synchronous = NORMAL` and puts the connection back to FULL afterwards,
 * whatever `fn` does: a commit inside is written to the WAL without an fsync (durable against a
 * process crash at once, against a machine crash from the next fsync of the WAL). Used by the group
 * commit, which fsyncs the WAL itself off the event loop, and for bookkeeping whose loss to a
 * machine crash is harmless (node-store.ts `setAckedLsn`). Must be called outside a transaction
 * (SQLite applies the setting to the commits that follow).
 */
export function withSynchronousNormal<T>(db: Db, fn: () => T): T {
  db.pragma('synchronous = NORMAL');
  try {
    return fn();
  } finally {
    db.pragma('synchronous = FULL');
  }
}
