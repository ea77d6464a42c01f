/**
 * Group commit (issue 12 item 2): writes from concurrent requests are queued and flushed once per
 * event-loop turn (`setImmediate`) in ONE transaction of the POP database, so one fsync commits
 * them all. Each job runs in its own savepoint (a nested better-sqlite3 transaction), so a job
 * that throws — an If-Match conflict found against the current state, a refusal at commit time —
 * rolls back only itself and rejects only its own promise; the others commit.
 *
 * A job's promise settles only after the batch's COMMIT returned: a caller that answers a client
 * after awaiting it never acknowledges a write that is not durable.
 *
 * Relaxed jobs (audit records of reads and refusals, which change no vault data) join the same
 * batches with no fsync of their own; a batch of relaxed jobs only is committed with
 * `synchronous = NORMAL` (durable against a process crash at once, against power loss from the
 * next fully synced commit or WAL checkpoint; docs/performance.md).
 */
import type { Db } from './sqlite.js';

interface Job {
  readonly fn: () => unknown;
  readonly relaxed: boolean;
  resolve(v: unknown): void;
  reject(e: unknown): void;
}

/** Counters of the committer since it was created. */
export interface GroupCommitStats {
  /** Committed batches (one transaction each). */
  batches: number;
  /** Jobs run (committed or rolled back to their savepoint). */
  jobs: number;
  /** Largest number of jobs in one batch. */
  maxBatch: number;
}

/** The committer of one database; see `createGroupCommitter`. */
export interface GroupCommitter {
  /**
   * Queues `fn` for the next batch; resolves with its result once the batch committed, rejects
   * with what `fn` threw (its savepoint rolled back, the rest of the batch unaffected), or with
   * the driver's error when the batch itself could not commit (then every job of it rejects).
   * `relaxed`: an audit record of a read or refusal (see the file header).
   */
  enqueue<T>(fn: () => T, opts?: { relaxed?: boolean }): Promise<T>;
  /** Resolves once every job queued so far has been committed or rejected. */
  settled(): Promise<void>;
  /** Counters (for tests and the benchmark). */
  stats(): GroupCommitStats;
}

/** Builds the committer of `db`. */
export function createGroupCommitter(db: Db): GroupCommitter {
  let queue: Job[] = [];
  let waiters: (() => void)[] = [];
  let scheduled = false;
  const stats: GroupCommitStats = { batches: 0, jobs: 0, maxBatch: 0 };
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

  function flush(): void {
    scheduled = false;
    const jobs = queue;
    const done = waiters;
    queue = [];
    waiters = [];
    if (jobs.length > 0) {
      const relaxedOnly = jobs.every((j) => j.relaxed);
      const out: { ok: boolean; v: unknown }[] = [];
      let failure: unknown;
      if (relaxedOnly) db.pragma('synchronous = NORMAL');
      try {
        batch(jobs, out);
      } catch (e) {
        failure = e;
      } finally {
        if (relaxedOnly) db.pragma('synchronous = FULL');
      }
      stats.batches++;
      stats.jobs += jobs.length;
      stats.maxBatch = Math.max(stats.maxBatch, jobs.length);
      jobs.forEach((j, i) => {
        if (failure !== undefined) j.reject(failure);
        else if (out[i]!.ok) j.resolve(out[i]!.v);
        else j.reject(out[i]!.v);
      });
    }
    for (const w of done) w();
  }

  const schedule = (): void => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(flush);
  };

  return {
    enqueue<T>(fn: () => T, opts: { relaxed?: boolean } = {}): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        queue.push({ fn, relaxed: opts.relaxed === true, resolve: resolve as (v: unknown) => void, reject });
        schedule();
      });
    },
    settled(): Promise<void> {
      if (queue.length === 0) return Promise.resolve();
      return new Promise<void>((r) => waiters.push(r));
    },
    stats: () => ({ ...stats }),
  };
}
