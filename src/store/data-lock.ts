/**
 * The data directory's owner lock: one Clavitor server per data directory, as PostgreSQL's
 * `postmaster.pid` and Redis's single process per `dir`. Two servers writing the same
 * `clavitor.db` would each believe it holds the replication stream and the backlog alone.
 *
 * The lock is an SQLite database `<data>/clavitor.lock` held open in exclusive locking mode with
 * a write transaction begun and never ended: the kernel's advisory file lock lives exactly as long
 * as the process (a SIGKILL releases it), so a crashed server never leaves a stale lock behind,
 * and no PID is ever compared with a process that may have reused it. `<data>/clavitor.pid` names
 * the holder for the message only; the lock, not that file, is the truth.
 */
import Database from 'better-sqlite3';
import { chmodSync, closeSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cvError } from '../lib/errors.js';

/** File whose exclusive SQLite lock marks the directory as in use. */
export const LOCK_FILE = 'clavitor.lock';
/** File naming the process holding the lock (information for the operator only). */
export const PID_FILE = 'clavitor.pid';

/** A held data-directory lock. */
export interface DataDirLock {
  /** Releases the lock and removes the PID file; idempotent. */
  release(): void;
}

function holderOf(dataDir: string): string {
  try {
    const pid = readFileSync(join(dataDir, PID_FILE), 'utf8').trim();
    return /^\d+$/.test(pid) ? ` (pid ${pid}, from ${PID_FILE})` : '';
  } catch {
    return '';
  }
}

/**
 * Takes the lock of `dataDir` (which must exist), without waiting.
 *
 * @throws ClavitorError CV-1006 (DATA_DIR_LOCKED) when another process holds it, naming that
 *   process when `clavitor.pid` does; CV-1005 (DATA_DIR_INVALID) when the lock file cannot be
 *   created or opened.
 */
export function lockDataDir(dataDir: string): DataDirLock {
  let db: Database.Database;
  const file = join(dataDir, LOCK_FILE);
  try {
    closeSync(openSync(file, 'a', 0o600)); // created owner-only, like every file of the data directory
    chmodSync(file, 0o600);
    db = new Database(file, { timeout: 0 });
  } catch {
    throw cvError('DATA_DIR_INVALID', `${dataDir}: cannot create ${LOCK_FILE}`);
  }
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE');
  } catch (e) {
    db.close();
    if ((e as { code?: string }).code?.startsWith('SQLITE_BUSY') || (e as { code?: string }).code?.startsWith('SQLITE_LOCKED')) {
      throw cvError('DATA_DIR_LOCKED', `${dataDir}: the data directory is in use by another Clavitor server${holderOf(dataDir)}; stop it first, or give this one another --data`);
    }
    throw cvError('DATA_DIR_INVALID', `${dataDir}: cannot lock ${LOCK_FILE}`);
  }
  try {
    writeFileSync(join(dataDir, PID_FILE), `${process.pid}\n`, { mode: 0o600 });
  } catch {
    // The PID file is information only; the lock above is held.
  }
  let held = true;
  return {
    release() {
      if (!held) return;
      held = false;
      try {
        rmSync(join(dataDir, PID_FILE), { force: true });
      } catch {
        // information only
      }
      db.close();
    },
  };
}
