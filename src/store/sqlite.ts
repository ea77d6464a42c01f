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
