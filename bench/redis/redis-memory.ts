/**
 * Redis memory with the same backlog size as Clavitor's memory benchmark: the primary's RSS (MiB)
 * after `n` 1 KiB SETs with its replica down (never connected). For reference only: Redis keeps
 * its whole data set in memory, so this is the cost of holding the data, while Clavitor's backlog
 * is rows on disk; the two numbers answer "how much memory does the primary need with that many
 * writes not yet on the replica".
 */
import { redisFill, redisPair } from './redis.js';
import { memoryOf } from '../lib/proc.js';

/** RSS of the Redis primary after `n` writes, MiB. */
export async function redisMemory(n: number): Promise<{ keys: number; rss_mib: number; peak_rss_mib: number; used_memory_mib: number }> {
  const pair = await redisPair();
  try {
    await pair.primary.start();
    const c = pair.primary.client();
    await redisFill(c, 'mem', n);
    const info = await c.info('memory');
    c.disconnect();
    const used = Number(/used_memory:(\d+)/.exec(info)?.[1] ?? NaN) / 2 ** 20;
    return { keys: n, ...memoryOf(pair.primary.pid), used_memory_mib: used };
  } finally {
    await pair.cleanup();
  }
}
