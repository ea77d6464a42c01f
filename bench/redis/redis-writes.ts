/**
 * Redis writes and reads, shaped like Clavitor's write-overhead.ts and client-api.ts:
 *
 * - write throughput with replication on (primary with a connected replica) vs. off (a primary
 *   with no replica, same durable settings), after a 1 s warm-up each, interleaved over the
 *   rounds, medians; overhead % =
 *   (off − on) ÷ off × 100;
 * - GET of one 1 KiB key and SET of a 1 KiB key (each client overwrites its own key, as each
 *   autocannon connection updates its own entry), on the primary with its replica connected.
 *
 * `connections` clients, one command in flight each (redis-load.ts). Requests per second and
 * milliseconds. The load generator shares the 2 cores with the servers, as for Clavitor.
 */
import { REDIS_VALUE, redisPair } from './redis.js';
import { redisLoad, type RedisLoadResult } from './redis-load.js';
import { median } from '../lib/stats.js';
import type { BenchPlan } from '../lib/options.js';

/** Redis counterparts of the write-overhead and client-API results. */
export interface RedisWritesResult {
  off: { req_per_s: number; p50_ms: number; p99_ms: number; rounds: RedisLoadResult[] };
  on: { req_per_s: number; p50_ms: number; p99_ms: number; rounds: RedisLoadResult[] };
  overhead_percent: number;
  get: RedisLoadResult;
  set: RedisLoadResult;
}

/** Runs the Redis write and read loads. */
export async function redisWrites(plan: BenchPlan): Promise<RedisWritesResult> {
  const withReplica = await redisPair();
  const alone = await redisPair();
  try {
    await withReplica.primary.start();
    await withReplica.replica.start(withReplica.primary.port);
    await withReplica.replica.waitLinkUp();
    await alone.primary.start();
    const onClients = Array.from({ length: plan.connections }, () => withReplica.primary.client());
    const offClients = Array.from({ length: plan.connections }, () => alone.primary.client());
    const rounds = { off: [] as RedisLoadResult[], on: [] as RedisLoadResult[] };
    for (const cs of [offClients, onClients]) await redisLoad(cs, 1, (c, ci, i) => c.set(`warm:${ci}:${i}`, REDIS_VALUE)); // warm-up, discarded
    for (let r = 0; r < plan.overheadRounds; r++) {
      for (const k of ['off', 'on'] as const) {
        process.stderr.write(`  redis writes, replication ${k}, round ${r + 1}/${plan.overheadRounds}…\n`);
        rounds[k].push(await redisLoad(k === 'on' ? onClients : offClients, plan.loadSeconds, (c, ci, i) => c.set(`w${r}:${ci}:${i}`, REDIS_VALUE)));
      }
    }
    const med = (rs: RedisLoadResult[]) => ({ req_per_s: median(rs.map((x) => x.req_per_s)), p50_ms: median(rs.map((x) => x.latency_ms.p50)), p99_ms: median(rs.map((x) => x.latency_ms.p99)), rounds: rs });
    const off = med(rounds.off);
    const on = med(rounds.on);
    await onClients[0]!.set('get', REDIS_VALUE);
    process.stderr.write(`  redis GET for ${plan.loadSeconds} s…\n`);
    const get = await redisLoad(onClients, plan.loadSeconds, (c) => c.get('get'));
    process.stderr.write(`  redis SET for ${plan.loadSeconds} s…\n`);
    const set = await redisLoad(onClients, plan.loadSeconds, (c, ci) => c.set(`put:${ci}`, REDIS_VALUE));
    for (const c of [...onClients, ...offClients]) c.disconnect();
    return { off, on, overhead_percent: ((off.req_per_s - on.req_per_s) / off.req_per_s) * 100, get, set };
  } finally {
    await withReplica.cleanup();
    await alone.cleanup();
  }
}
