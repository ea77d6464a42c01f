/**
 * Main-thread side of the head watcher (head-watcher.ts): start it, stop it and collect its
 * samples, and turn acknowledged writes plus samples into replication lags.
 */
import { Worker } from 'node:worker_threads';
import type { WatchTarget } from './head-watcher.js';

/** One poll: sent and received (ms, monotonic) and the head the replica reported. */
export interface HeadSample { sent: number; received: number; head: number }

/** A running watcher. */
export interface Watcher {
  /** Tells the poller about an acknowledged write: its head (apply position) and the entry id or key to read. */
  expect?(head: number, key: string): void;
  /** Stops polling (after the writes it was told about are seen, or its drain time) and returns every sample, oldest first. */
  stop(): Promise<HeadSample[]>;
}

/** Starts a watcher thread on `target`; resolves once it polls. */
export async function startWatcher(target: WatchTarget): Promise<Watcher> {
  const w = new Worker(new URL('./head-watcher.js', import.meta.url), { workerData: target });
  await new Promise<void>((res, rej) => {
    w.once('error', rej);
    w.once('message', () => res());
  });
  return {
    expect: (head, key) => w.postMessage({ expect: [head, key] }),
    stop: () => new Promise((res, rej) => {
      w.once('error', rej);
      w.on('message', (m: { samples?: Float64Array }) => {
        if (!m.samples) return;
        const s = m.samples;
        const out: HeadSample[] = [];
        for (let i = 0; i + 2 < s.length; i += 3) out.push({ sent: s[i]!, received: s[i + 1]!, head: s[i + 2]! });
        void w.terminate();
        res(out);
      });
      w.postMessage('stop');
    }),
  };
}

/** An acknowledged write: when the primary acknowledged it (ms) and the head it needs on the replica. */
export interface Ack { ackedAt: number; head: number }

/** Lag of one write, milliseconds. */
export interface Lag {
  ackedAt: number;
  /** Upper bound: first poll that saw it was received − ack (0 when it was seen before the ack). */
  lag: number;
  /** Width of the uncertainty window of that observation (measurement error of `lag`). */
  error: number;
}

/**
 * For each ack, finds the first sample whose head reaches it. The write became readable after the
 * previous sample's poll was sent and no later than this one was received; `lag` is that upper
 * bound minus the ack time, clamped at 0. Acks never seen are returned in `unseen`.
 */
export function lagsOf(acks: readonly Ack[], samples: readonly HeadSample[]): { lags: Lag[]; unseen: number } {
  const lags: Lag[] = [];
  let unseen = 0;
  for (const a of acks) {
    let lo = 0;
    let hi = samples.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (samples[mid]!.head >= a.head) hi = mid;
      else lo = mid + 1;
    }
    const s = samples[lo];
    if (!s) {
      unseen++;
      continue;
    }
    const prev = samples[lo - 1];
    const lower = prev ? prev.sent : -Infinity;
    lags.push({ ackedAt: a.ackedAt, lag: Math.max(0, s.received - a.ackedAt), error: Math.max(0, s.received - Math.max(lower, a.ackedAt)) });
  }
  return { lags, unseen };
}

/** Mean time between consecutive polls, ms (the watcher's resolution). */
export function pollInterval(samples: readonly HeadSample[]): number {
  if (samples.length < 2) return NaN;
  return (samples[samples.length - 1]!.sent - samples[0]!.sent) / (samples.length - 1);
}
