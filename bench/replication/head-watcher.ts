/**
 * Worker thread that watches a backup (or a Redis replica) the way a client of it would: ONE
 * poller, one request at a time, through the replica's own client API (issue 12, "lag seen through
 * the backup's client API by one poller"):
 *
 * - Clavitor: `GET /api/entries/{id}` of a written entry on the BACKUP, with the vault's owner
 *   token, on one keep-alive connection. 200 = readable there; 404 = not yet.
 * - Redis: `GET <key>` of a written key on the replica, on one connection. A value = readable;
 *   nil = not yet.
 *
 * The main thread tells the poller about every acknowledged write (`{ expect: [head, key] }`:
 * the write's position in the replica's apply order and the entry id or key to read). The poller
 * reads the OLDEST acknowledged write it has not seen yet; once that one is readable it asks for
 * the NEWEST (see the loop below), and a miss sends it back to the oldest. Both replicas apply in order (a vault's revisions in seq order; Redis's
 * stream in command order), so seeing write k readable means every earlier write is too, and a
 * sample's head (the highest write known readable) only grows. When every known write is seen, the
 * poller waits for the next acknowledgement. After `stop`, it keeps polling until every write it
 * was told about is seen or `drainMs` has passed, then sends its samples.
 *
 * Each sample is (sent ms, received ms, head) on the process-wide monotonic clock: the watcher.ts
 * side takes the first sample whose head reaches a write as its "readable" time (an upper bound).
 * The lag therefore includes one request's round trip — the same for both systems.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Client } from 'undici';
import { Redis } from 'ioredis';
import { nowMs, sleep } from '../lib/stats.js';

/** What to watch. `minIntervalMs`: at most one poll per this period. */
export type WatchTarget =
  | { kind: 'clavitor-api'; url: string; token: string; minIntervalMs: number; drainMs: number }
  | { kind: 'redis-get'; port: number; minIntervalMs: number; drainMs: number };

/**
 * Acknowledged writes the poller has not yet seen, oldest (lowest head) first, plus the highest
 * head known readable. Pure bookkeeping, shared with the unit tests.
 */
export class PendingWrites {
  private readonly heads: number[] = [];
  private readonly keys: string[] = [];
  /** Highest head known readable on the replica. */
  known = 0;

  /** Adds an acknowledged write (acknowledgements may arrive out of head order). */
  add(head: number, key: string): void {
    if (head <= this.known) return;
    let lo = 0;
    let hi = this.heads.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.heads[mid]! < head) lo = mid + 1;
      else hi = mid;
    }
    this.heads.splice(lo, 0, head);
    this.keys.splice(lo, 0, key);
  }

  /** The oldest unseen write, or undefined when every known write has been seen. */
  next(): { head: number; key: string } | undefined {
    return this.heads.length > 0 ? { head: this.heads[0]!, key: this.keys[0]! } : undefined;
  }

  /** The newest unseen write, or undefined when every known write has been seen. */
  last(): { head: number; key: string } | undefined {
    const n = this.heads.length;
    return n > 0 ? { head: this.heads[n - 1]!, key: this.keys[n - 1]! } : undefined;
  }

  /** Records that the write at `head` is readable: it and every older one are seen. */
  seen(head: number): void {
    if (head > this.known) this.known = head;
    let n = 0;
    while (n < this.heads.length && this.heads[n]! <= this.known) n++;
    this.heads.splice(0, n);
    this.keys.splice(0, n);
  }

  get size(): number {
    return this.heads.length;
  }
}

async function main(target: WatchTarget): Promise<void> {
  let stopAt: number | undefined;
  const pending = new PendingWrites();
  let wake: (() => void) | undefined;
  parentPort!.on('message', (m: { expect?: [number, string] } | 'stop') => {
    if (m === 'stop') stopAt = nowMs();
    else if (m.expect) pending.add(m.expect[0], m.expect[1]);
    wake?.();
  });
  let readable: (key: string) => Promise<boolean>;
  let close: () => Promise<void>;
  if (target.kind === 'clavitor-api') {
    const c = new Client(target.url, { pipelining: 1, keepAliveTimeout: 60_000 });
    const headers = { authorization: `Bearer ${target.token}` };
    readable = async (id) => {
      const r = await c.request({ path: `/api/entries/${id}`, method: 'GET', headers });
      await r.body.dump();
      if (r.statusCode === 200) return true;
      if (r.statusCode === 404) return false;
      throw new Error(`HTTP ${r.statusCode}`);
    };
    close = async () => { await c.close(); };
  } else {
    const r = new Redis({ port: target.port, host: '127.0.0.1', lazyConnect: false });
    r.on('error', () => {});
    readable = async (key) => (await r.get(key)) !== null;
    close = async () => { r.disconnect(); };
  }
  const samples: number[] = [];
  // After the oldest unseen write is found readable, the next request asks for the NEWEST
  // acknowledged one: both replicas apply in order, so one readable answer credits every write in
  // between (with that answer's time, still an upper bound for each). Without this the poller
  // needs one request per write and, at rates where a request to the replica takes longer than the
  // gap between writes, it falls behind and reports its own backlog as lag. A miss sends it back
  // to the oldest.
  let tryNewest = false;
  parentPort!.postMessage({ ready: true });
  for (;;) {
    if (stopAt !== undefined && (pending.size === 0 || nowMs() - stopAt > target.drainMs)) break;
    const want = tryNewest ? pending.last() : pending.next();
    if (!want) {
      await new Promise<void>((res) => { wake = res; });
      wake = undefined;
      continue;
    }
    const sent = nowMs();
    try {
      const ok = await readable(want.key);
      if (ok) pending.seen(want.head);
      tryNewest = ok && pending.size > 1;
    } catch {
      tryNewest = false;
      await sleep(5);
      continue;
    }
    samples.push(sent, nowMs(), pending.known);
    const wait = target.minIntervalMs - (nowMs() - sent);
    if (wait > 0) await sleep(wait);
  }
  await close();
  const buf = Float64Array.from(samples);
  parentPort!.postMessage({ samples: buf }, [buf.buffer]);
}

if (parentPort) void main(workerData as WatchTarget);
