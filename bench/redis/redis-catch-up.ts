/**
 * Redis catch-up, the same size as Clavitor's (catch-up.ts): `n` 1 KiB keys written to a primary
 * with no replica, then the replica started; seconds from the replica answering PING until its
 * DBSIZE is `n` (a full synchronisation: the primary streams a snapshot, the replica loads it).
 * Keys per second. Polled every 200 ms, as for Clavitor (error ≤ ~0.2 s).
 */
import { redisFill, redisPair } from './redis.js';
import { nowMs, sleep } from '../lib/stats.js';

/** Result of the Redis catch-up; seconds, keys per second. */
export interface RedisCatchUpResult {
  keys: number;
  seconds: number;
  keys_per_second: number;
  replica_startup_seconds: number;
}

/** Writes `n` keys, starts the replica and times its synchronisation. */
export async function redisCatchUp(n: number): Promise<RedisCatchUpResult> {
  const pair = await redisPair();
  try {
    await pair.primary.start();
    const w = pair.primary.client();
    await redisFill(w, 'catchup', n);
    w.disconnect();
    await pair.replica.start(pair.primary.port);
    const t0 = pair.replica.readyAt;
    const r = pair.replica.client();
    while ((await r.dbsize().catch(() => 0)) < n) await sleep(200);
    const seconds = (nowMs() - t0) / 1000;
    r.disconnect();
    return { keys: n, seconds, keys_per_second: n / seconds, replica_startup_seconds: (pair.replica.readyAt - pair.replica.spawnedAt) / 1000 };
  } finally {
    await pair.cleanup();
  }
}
