/**
 * One paced lag measurement, shared by the Clavitor and Redis benchmarks: open-loop writes at
 * `rate` per second for `seconds`, a watcher thread on the replica, and the lag of every write
 * from its acknowledgement on the primary to its first observation on the replica.
 */
import { paced } from './pacer.js';
import { nowMs, round, sleep, summarize, type Summary } from './stats.js';
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
  /** Ack on the primary → readable on the replica (upper bound; see watcher.ts). */
  lag_ms: Summary;
  /** Width of the observation window per write: the measurement error of lag_ms (mean, p99). */
  lag_error_ms: { mean: number; p99: number };
  /** Mean time between two polls of the replica. */
  poll_interval_ms: number;
  /** Acknowledged writes the watcher never saw before the drain deadline. */
  unseen: number;
  /** Scheduled send → acknowledgement (open loop: includes queueing when the primary falls behind). */
  write_latency_ms: Summary;
  /** Lag over time: [seconds since start, p50 ms, max ms] per 250 ms window of acknowledgements. */
  series: [number, number, number][];
}

/** What a lag run needs from the system under test. */
export interface LagTarget {
  /** Performs write `i`; resolves, once acknowledged, with the replica head that makes it visible. */
  write(i: number): Promise<number>;
  /** Started watcher on the replica. */
  watcher: Watcher;
  /** Resolves when the replica has caught up (or after its own timeout). */
  drained(): Promise<void>;
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
    pending.push(target.write(i).then((head) => {
      const at = nowMs();
      acks.push({ ackedAt: at, head });
      latencies.push(at - scheduledAt);
    }, () => { failed++; }));
  });
  await Promise.all(pending);
  const lastAck = nowMs();
  await target.drained();
  await sleep(20);
  const samples = await target.watcher.stop();
  const { lags, unseen } = lagsOf(acks, samples);
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
  const err = summarize(lags.map((l) => l.error));
  return {
    rate, seconds,
    offered: Math.round(rate * seconds),
    acked: acks.length,
    failed,
    achieved_writes_per_s: acks.length / ((lastAck - t0) / 1000),
    lag_ms: summarize(lags.map((l) => l.lag)),
    lag_error_ms: { mean: err.mean, p99: err.p99 },
    poll_interval_ms: pollInterval(samples),
    unseen,
    write_latency_ms: summarize(latencies),
    series,
  };
}
