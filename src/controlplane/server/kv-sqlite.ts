/**
 * {@link VersionedKv} in SQLite: `<data>/control.db`, opened with `openDatabase` (WAL,
 * `synchronous = FULL`: a committed decision survives `kill -9` and power loss). One table; the
 * version of a key is a counter bumped on every write. Inspect it with
 * `sqlite3 control.db "select key, version, value from kv"`.
 */
import { join } from 'node:path';
import { openDatabase, type Db } from '../../store/sqlite.js';
import { ABSENT, type Versioned, type VersionedKv } from './kv.js';

/** File name of the control plane's database inside `--data`. */
export const CONTROL_DB_FILE = 'control.db';

const MIGRATIONS = [
  `CREATE TABLE kv (key TEXT PRIMARY KEY, version INTEGER NOT NULL, value TEXT NOT NULL) STRICT;`,
];

/** Opens (creating) `<dataDir>/control.db` as a versioned store. */
export function openSqliteKv(dataDir: string): VersionedKv {
  const db: Db = openDatabase(join(dataDir, CONTROL_DB_FILE), MIGRATIONS);
  const getStmt = db.prepare<[string], { key: string; value: string; version: number }>('SELECT key, value, version FROM kv WHERE key = ?');
  const listStmt = db.prepare<[string, string], { key: string; value: string; version: number }>('SELECT key, value, version FROM kv WHERE key >= ? AND key < ? ORDER BY key');
  const upsert = db.prepare<[string, string]>('INSERT INTO kv (key, version, value) VALUES (?, 1, ?) ON CONFLICT(key) DO UPDATE SET version = version + 1, value = excluded.value');
  const row = (r: { key: string; value: string; version: number }): Versioned => ({ key: r.key, value: r.value, version: String(r.version) });
  const commitTx = db.transaction((expect: readonly { key: string; version: string }[], puts: readonly { key: string; value: string }[]): boolean => {
    for (const e of expect) {
      const cur = getStmt.get(e.key);
      if ((cur ? String(cur.version) : ABSENT) !== e.version) return false;
    }
    for (const p of puts) upsert.run(p.key, p.value);
    return true;
  });
  return {
    kind: 'sqlite',
    get: async (key) => {
      const r = getStmt.get(key);
      return r ? row(r) : null;
    },
    list: async (prefix) => listStmt.all(prefix, `${prefix}\uffff`).map(row),
    commit: async (expect, puts) => commitTx.immediate(expect, puts),
    put: async (key, value) => {
      upsert.run(key, value);
    },
    close: async () => {
      db.close();
    },
  };
}
