/**
 * One paced lag measurement, shared by the Clavitor and Redis benchmarks: open-loop writes at
 * `rate` per second for `seconds`, a watcher thread on the replica, and the lag of every write
 * from its acknowledgement on the primary to its first observation on the replica. Nothing is left
 * out silently (issue 17): an acknowledged write the watcher never saw counts in the lag
 * percentiles as at least the drain timeout (a censored value: its true lag is at least that), and
 * writes that failed are counted and reported beside the figures.
 */
import { paced } from '../lib/pacer.js';
import { nowMs, round, sleep, summarize, type Summary } from '../lib/stats.js';
import { lagsOf, pollInterval, type Ack, type Watcher } from './watcher.js';

/** Result of one rate. Times in milliseconds, rates in writes per second. */
export interface LagRun {
  rate: number;
  seconds: number;
  offered: number;
  acked: number;
  failed: number;
  /** Acknowledged writes ÷ time from the first scheduled write to the last acknowledgement. */
  achieved_writes_per_s: number;
  /**
   * Ack on the primary → readable on the replica (upper bound; see watcher.ts), over every
   * acknowledged write: one never seen counts as `unseen_counted_as_ms` or more.
   */
  lag_ms: Summary;
  /** Lag of the writes the watcher saw only (what `lag_ms` was before issue 17). */
  lag_seen_ms: Summary;
  /** Width of the observation window per write: the measurement error of lag_ms (mean, p99). */
  lag_error_ms: { mean: number; p99: number };
  /** Mean time between two polls of the replica. */
  poll_interval_ms: number;
  /** Acknowledged writes the watcher never saw before the drain deadline. */
  unseen: number;
  /**
   * Smallest lag an unseen write was counted with in `lag_ms`: max(drain timeout, time from its
   * acknowledgement to the end of watching), ms; null when every write was seen.
   */
  unseen_counted_as_ms: number | null;
  /** False when any write failed or was never seen: the percentiles then carry censored values. */
  complete: boolean;
  /** Scheduled send → acknowledgement (open loop: includes queueing when the primary falls behind); acknowledged writes only, `failed` counts the others. */
  write_latency_ms: Summary;
  /** Lag over time: [seconds since start, p50 ms, max ms] per 250 ms window of acknowledgements. */
  series: [number, number, number][];
}

/** What a lag run needs from the system under test. */
export interface LagTarget {
  /**
   * Performs write `i`; resolves, once acknowledged, with the replica head that makes it visible,
   * and the entry id or key a poller reads to see it (passed to `watcher.expect`).
   */
  write(i: number): Promise<number | { head: number; key: string }>;
  /** Started watcher on the replica. */
  watcher: Watcher;
  /** Resolves when the replica has caught up (or after its own timeout). */
  drained(): Promise<void>;
  /** The timeout `drained` gives up after, ms: a write never seen has a lag of at least this. */
  drainTimeoutMs: number;
}

const WINDOW_MS = 250;

/** Runs one paced lag measurement. */
export async function runLag(rate: number, seconds: number, target: LagTarget): Promise<LagRun> {
  const acks: Ack[] = [];
  const latencies: number[] = [];
  const pending: Promise<void>[] = [];
  let failed = 0;
  const t0 = nowMs();
  await paced(rate, seconds, (i, scheduledAt) => {
    pending.push(target.write(i).then((w) => {
      const at = nowMs();
      const head = typeof w === 'number' ? w : w.head;
      if (typeof w !== 'number') target.watcher.expect?.(head, w.key);
      acks.push({ ackedAt: at, head });
      latencies.push(at - scheduledAt);
    }, () => { failed++; }));
  });
  await Promise.all(pending);
  const lastAck = nowMs();
  await target.drained();
  await sleep(20);
  const samples = await target.watcher.stop();
  const stoppedAt = nowMs();
  const { lags: seen, unseen } = lagsOf(acks, samples);
  // The acks lagsOf found no sample for: every ack whose head is above the last sample's head.
  const lastHead = samples.length > 0 ? Math.max(...samples.map((x) => x.head)) : -Infinity;
  const censored = acks.filter((a) => a.head > lastHead).map((a) => ({ ackedAt: a.ackedAt, lag: Math.max(target.drainTimeoutMs, stoppedAt - a.ackedAt), error: 0 }));
  if (censored.length !== unseen) throw new Error(`lag accounting: ${unseen} unseen acks but ${censored.length} above the last sample`);
  const lags = [...seen, ...censored];
  const windows = new Map<number, number[]>();
  for (const l of lags) {
    const w = Math.floor((l.ackedAt - t0) / WINDOW_MS);
    const list = windows.get(w) ?? [];
    list.push(l.lag);
    windows.set(w, list);
  }
  const series: [number, number, number][] = [...windows.entries()].sort((a, b) => a[0] - b[0]).map(([w, v]) => {
    const s = summarize(v);
    return [round((w * WINDOW_MS) / 1000, 2), round(s.p50, 2), round(s.max, 2)];
  });
  const err = summarize(seen.map((l) => l.error));
  return {
    rate, seconds,
    offered: Math.round(rate * seconds),
    acked: acks.length,
    failed,
    achieved_writes_per_s: acks.length / ((lastAck - t0) / 1000),
    lag_ms: summarize(lags.map((l) => l.lag)),
    lag_seen_ms: summarize(seen.map((l) => l.lag)),
    lag_error_ms: { mean: err.mean, p99: err.p99 },
    poll_interval_ms: pollInterval(samples),
    unseen,
    unseen_counted_as_ms: censored.length > 0 ? round(Math.min(...censored.map((c) => c.lag)), 1) : null,
    complete: failed === 0 && unseen === 0,
    write_latency_ms: summarize(latencies),
    series,
  };
}
