/**
 * Group commit (issue 12 item 2): writes from concurrent requests are queued and flushed once per
 * event-loop turn (`setImmediate`) in ONE transaction of the POP database. Each job runs in its
 * own savepoint (a nested better-sqlite3 transaction), so a job that throws — an If-Match conflict
 * found against the current state, a refusal at commit time — rolls back only itself and rejects
 * only its own promise; the others commit.
 *
 * **The fsync leaves the event loop.** better-sqlite3 runs `COMMIT` on the calling thread, and with
 * `synchronous = FULL` that includes the WAL's fsync: 1–40 ms on this machine's disk during which
 * the POP served nothing (every read queued behind it; on a backup, the replication lag seen by a
 * reader). So a batch commits with `synchronous = NORMAL` (the WAL frames are written to the OS,
 * visible to readers, durable against a process crash at once) and then `fsync(<db>-wal)` runs
 * on libuv's thread pool; a durable job's promise settles only after an fsync that started after
 * its batch committed returned. Every later fsync covers every earlier frame (the WAL is one file
 * written in order), so at most one fsync is in flight and the batches committed meanwhile share
 * the next one (the leader/follower group commit of PostgreSQL's and InnoDB's log writers). This
 * is what `synchronous = FULL` does at commit, done off the loop: a job never resolves before its
 * frames are on disk. An fsync that fails is fatal to the committer (fail-stop, as PostgreSQL
 * PANICs on a failed WAL fsync: after one, the kernel may have dropped the dirty pages and a retry
 * that succeeds proves nothing): every waiting and later job rejects and `onSyncFailure` is told.
 *
 * Committed-but-not-yet-synced data is visible to readers of this process, as in Redis with
 * `appendfsync always`, and lost only if the machine (not the process) fails before the fsync:
 * then no writer had its acknowledgement. What must never see it is the replication sender — a
 * backup must not hold a revision its primary could lose — so `durableBound()` gives the last log
 * position (the `mark` read before the oldest unsynced batch) known to be on disk, and the sender
 * reads no further (sender.ts). Commits made outside the committer keep `synchronous = FULL`.
 *
 * Relaxed jobs (audit records of reads and refusals, which change no vault data) join the same
 * batches and resolve at their commit, without waiting for an fsync; `settled()` (what every
 * answer of the client API awaits, so that a read's audit record is committed before the answer
 * leaves) likewise waits for the commit only.
 */
import { closeSync, fsync, fsyncSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { withSynchronousNormal, type Db } from './sqlite.js';

interface Job {
  readonly fn: () => unknown;
  readonly relaxed: boolean;
  resolve(v: unknown): void;
  reject(e: unknown): void;
}

/** A committed batch whose durable jobs wait for an fsync. */
interface Unsynced {
  /** `mark()` before the batch ran: every position at or below it was durable already. */
  readonly before: number;
  readonly settle: (() => void)[];
}

/** Counters of the committer since it was created. */
export interface GroupCommitStats {
  /** Committed batches (one transaction each). */
  batches: number;
  /** Jobs run (committed or rolled back to their savepoint). */
  jobs: number;
  /** Largest number of jobs in one batch. */
  maxBatch: number;
  /** WAL fsyncs done off the event loop (each covers every batch committed before it started). */
  syncs: number;
}

/** The committer of one database; see `createGroupCommitter`. */
export interface GroupCommitter {
  /**
   * Queues `fn` for the next batch; resolves with its result once the batch committed and (unless
   * `relaxed`) its WAL frames were fsync'd, rejects with what `fn` threw (its savepoint rolled back,
   * the rest of the batch unaffected), or with the driver's error when the batch itself could not
   * commit or its fsync failed (then every job of it rejects).
   * `relaxed`: an audit record of a read or refusal (see the file header).
   */
  enqueue<T>(fn: () => T, opts?: { relaxed?: boolean }): Promise<T>;
  /** Resolves once every job queued so far has been committed (not necessarily fsync'd) or rejected. */
  settled(): Promise<void>;
  /**
   * The highest `mark` known durable: `Infinity` when no committed batch awaits its fsync
   * (everything committed is on disk), else the mark read before the oldest such batch ran.
   */
  durableBound(): number;
  /**
   * Calls `cb` once the batches committed so far are durable: right after the fsync that covers
   * the newest of them (batches committed later do not delay it), or on the next turn when none
   * waits for one; never after a failed fsync. Used by the replication sender to read on.
   */
  afterSync(cb: () => void): void;
  /** Counters (for tests and the benchmark). */
  stats(): GroupCommitStats;
  /** Closes the WAL descriptor kept for fsync (the database itself is closed by its owner). */
  close(): void;
}

/** Options of `createGroupCommitter`; every field has a default fit for the product. */
export interface GroupCommitOptions {
  /**
   * Makes every frame written to the WAL so far durable and calls `done` (off the event loop).
   * Default: `fs.fsync` of `<db file>-wal` on libuv's thread pool (the directory is fsync'd once
   * when the descriptor is first opened, so that the WAL file's name is durable too).
   */
  sync?: (done: (err: Error | null) => void) => void;
  /** A monotonic position of the data (the POP's last LSN), read before each batch; default 0. */
  mark?: () => number;
  /** Told once when an fsync fails; the committer then refuses every job (see the file header). */
  onSyncFailure?: (e: Error) => void;
}

/**
 * `sync` for a WAL-mode database file: fsync of `<file>-wal` through a descriptor opened on first
 * use (SQLite creates the WAL when the connection opens in WAL mode and keeps it while open).
 */
export function walSync(file: string): { sync: (done: (err: Error | null) => void) => void; close(): void } {
  let fd: number | undefined;
  let busy = false;
  let closed = false;
  const release = (): void => {
    if (fd !== undefined) closeSync(fd);
    fd = undefined;
  };
  return {
    sync(done) {
      // Closed: SQLite's close of the connection checkpointed the WAL into the database and synced it.
      if (closed) return void setImmediate(() => done(null));
      try {
        if (fd === undefined) {
          fd = openSync(`${file}-wal`, 'r');
          const dir = openSync(dirname(file), 'r');
          try { fsyncSync(dir); } finally { closeSync(dir); }
        }
      } catch (e) {
        done(e as Error);
        return;
      }
      busy = true;
      fsync(fd, (err) => {
        busy = false;
        done(err);
        if (closed && !busy) release();
      });
    },
    close() {
      // An fsync in flight keeps its descriptor until it returns (closing it under the thread
      // pool's fsync would fail it with EBADF).
      closed = true;
      if (!busy) release();
    },
  };
}

/** Builds the committer of `db` (file: the database's path, for the WAL fsync). */
export function createGroupCommitter(db: Db, opts: GroupCommitOptions = {}): GroupCommitter {
  const wal = opts.sync || db.memory ? undefined : walSync(db.name);
  const sync = opts.sync ?? wal?.sync ?? ((done: (err: Error | null) => void) => setImmediate(() => done(null)));
  const mark = opts.mark ?? (() => 0);
  let queue: Job[] = [];
  let waiters: (() => void)[] = [];
  let scheduled = false;
  let unsynced: Unsynced[] = [];
  let inFlight: Unsynced[] = [];
  let failed: Error | undefined;
  let failedBound = Infinity;
  const stats: GroupCommitStats = { batches: 0, jobs: 0, maxBatch: 0, syncs: 0 };
  const savepoint = db.transaction((fn: () => unknown) => fn());
  const batch = db.transaction((jobs: readonly Job[], out: { ok: boolean; v: unknown }[]) => {
    for (const j of jobs) {
      try {
        out.push({ ok: true, v: savepoint(j.fn) });
      } catch (e) {
        out.push({ ok: false, v: e });
      }
    }
  });

  /** Starts one fsync covering every batch committed so far; the batches committed meanwhile wait for the next. */
  function startSync(): void {
    if (inFlight.length > 0 || unsynced.length === 0) return;
    const covered = unsynced;
    inFlight = covered;
    unsynced = [];
    sync((err) => {
      stats.syncs++;
      if (err && !failed) {
        failedBound = covered[0]!.before;
        failed = err;
        opts.onSyncFailure?.(err);
      }
      inFlight = [];
      for (const b of covered) for (const s of b.settle) s();
      if (failed) {
        for (const b of unsynced) for (const s of b.settle) s();
        unsynced = [];
      } else {
        startSync();
      }
    });
  }

  function flush(): void {
    scheduled = false;
    const jobs = queue;
    const done = waiters;
    queue = [];
    waiters = [];
    if (jobs.length > 0) {
      const out: { ok: boolean; v: unknown }[] = [];
      let failure: unknown = failed;
      const before = failure === undefined && jobs.some((j) => !j.relaxed) ? mark() : 0;
      if (failure === undefined) {
        try {
          withSynchronousNormal(db, () => batch(jobs, out));
        } catch (e) {
          failure = e;
        }
        stats.batches++;
        stats.jobs += jobs.length;
        stats.maxBatch = Math.max(stats.maxBatch, jobs.length);
      }
      const durable: (() => void)[] = [];
      jobs.forEach((j, i) => {
        if (failure !== undefined) j.reject(failure);
        else if (!out[i]!.ok) j.reject(out[i]!.v);
        else if (j.relaxed) j.resolve(out[i]!.v);
        // Settled after the fsync: resolved, or rejected if the fsync failed.
        else durable.push(() => (failed ? j.reject(failed) : j.resolve(out[i]!.v)));
      });
      if (durable.length > 0) {
        unsynced.push({ before, settle: durable });
        startSync();
      }
    }
    for (const w of done) w();
  }

  const schedule = (): void => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(flush);
  };

  return {
    enqueue<T>(fn: () => T, o: { relaxed?: boolean } = {}): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        queue.push({ fn, relaxed: o.relaxed === true, resolve: resolve as (v: unknown) => void, reject });
        schedule();
      });
    },
    settled(): Promise<void> {
      if (queue.length === 0) return Promise.resolve();
      return new Promise<void>((r) => waiters.push(r));
    },
    durableBound(): number {
      // In flight (handed to the running fsync) or waiting for the next one: the oldest decides.
      if (failed) return failedBound;
      return inFlight[0]?.before ?? unsynced[0]?.before ?? Infinity;
    },
    afterSync(cb: () => void): void {
      if (failed) return; // nothing becomes durable after a failed fsync (fail-stop)
      // Settled with the newest committed batch: by the fsync that covers it, whatever is
      // committed after.
      const newest = unsynced.at(-1) ?? inFlight.at(-1);
      if (newest) newest.settle.push(cb);
      else setImmediate(cb);
    },
    stats: () => ({ ...stats }),
    close: () => wal?.close(),
  };
}
