/**
 * Worker thread that watches a backup (or a Redis replica) and records how many writes it holds,
 * so that the lag benchmarks can tell when each acknowledged write became readable there.
 *
 * It polls in a loop, one query in flight, at most one poll per `minIntervalMs`:
 * - Clavitor: a second SQLite reader on the backup's POP database (`<data>/clavitor.db`, WAL
 *   mode lets a reader in another process see every committed transaction), `SELECT max(seq)` of
 *   the vault. A revision is readable through the backup's API exactly when that head reaches its
 *   seq: the backup commits a push's revisions and derived state in one transaction, in order.
 *   Reading the file costs the backup nothing (no request on its event loop) and takes ~20 µs here, so the
 *   observation error is the poll period, not an HTTP round trip queued behind a push.
 * - Redis: `DBSIZE` on the replica. Every write sets a new key, and a replica applies the
 *   replication stream in order, so the key count is the number of writes applied.
 *
 * Each sample is (sent ms, received ms, head) on the process-wide monotonic clock, so the main
 * thread can bound when a write became visible: after the last poll that did not see it was sent,
 * and no later than the first poll that saw it was received. Running in its own thread keeps the
 * writer's event loop from delaying the watcher's timestamps (and the reverse).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { Redis } from 'ioredis';
import { nowMs, sleep } from './stats.js';

/** What to watch. */
export type WatchTarget =
  | { kind: 'clavitor'; dbFile: string; vaultId: string; minIntervalMs: number }
  | { kind: 'redis'; port: number; minIntervalMs: number };

async function main(target: WatchTarget): Promise<void> {
  let stop = false;
  parentPort!.on('message', (m) => { if (m === 'stop') stop = true; });
  const samples: number[] = [];
  let poll: () => Promise<number>;
  let close: () => Promise<void>;
  if (target.kind === 'clavitor') {
    let db: Database.Database | undefined;
    let stmt: Database.Statement<[string], { m: number | null }> | undefined;
    poll = async () => {
      if (!stmt) {
        if (!existsSync(target.dbFile)) return 0;
        db = new Database(target.dbFile, { readonly: true, fileMustExist: true });
        db.pragma('busy_timeout = 1000');
        stmt = db.prepare<[string], { m: number | null }>('SELECT max(seq) AS m FROM revisions WHERE vault_id = ?');
      }
      return stmt.get(target.vaultId)?.m ?? 0;
    };
    close = async () => { db?.close(); };
  } else {
    const r = new Redis({ port: target.port, host: '127.0.0.1', lazyConnect: false });
    r.on('error', () => {});
    poll = async () => r.dbsize();
    close = async () => { r.disconnect(); };
  }
  parentPort!.postMessage({ ready: true });
  while (!stop) {
    const sent = nowMs();
    let head: number;
    try {
      head = await poll();
    } catch {
      await sleep(5);
      continue;
    }
    const received = nowMs();
    samples.push(sent, received, head);
    const wait = target.minIntervalMs - (nowMs() - sent);
    if (wait > 0) await sleep(wait);
  }
  await close();
  const buf = Float64Array.from(samples);
  parentPort!.postMessage({ samples: buf }, [buf.buffer]);
}

if (parentPort) void main(workerData as WatchTarget);
