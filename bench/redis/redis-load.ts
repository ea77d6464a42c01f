/**
 * Closed-loop load on Redis with the same shape as autocannon's on Clavitor: `connections`
 * clients, each on its own connection with one command in flight, for `seconds`. Successful
 * commands per second and latency percentiles in milliseconds (timed in this process, like
 * autocannon's).
 */
import type { Redis } from 'ioredis';
import { nowMs, summarize } from '../lib/stats.js';

/** What one closed-loop run measured. */
export interface RedisLoadResult {
  req_per_s: number;
  latency_ms: { p50: number; p99: number; max: number; mean: number };
  ok: number;
  errors: number;
  connections: number;
  duration_s: number;
}

/** Runs `op(client, i)` back to back on every client for `seconds`. */
export async function redisLoad(clients: readonly Redis[], seconds: number, op: (c: Redis, k: number, i: number) => Promise<unknown>): Promise<RedisLoadResult> {
  const lat: number[] = [];
  let errors = 0;
  const t0 = nowMs();
  const end = t0 + seconds * 1000;
  await Promise.all(clients.map(async (c, k) => {
    for (let i = 0; nowMs() < end; i++) {
      const s = nowMs();
      try {
        await op(c, k, i);
        lat.push(nowMs() - s);
      } catch {
        errors++;
      }
    }
  }));
  const dur = (nowMs() - t0) / 1000;
  const s = summarize(lat);
  return { req_per_s: lat.length / dur, latency_ms: { p50: s.p50, p99: s.p99, max: s.max, mean: s.mean }, ok: lat.length, errors, connections: clients.length, duration_s: dur };
}
