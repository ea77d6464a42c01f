/**
 * Redis replication lag at the same paced rates as Clavitor's (replication-lag.ts): open-loop
 * `SET run:i <1 KiB>` on one primary connection; lag = the SET's reply → the replica's DBSIZE
 * (polled by the same watcher thread design, head-watcher.ts) reaching that write. Milliseconds.
 * A write is the (i+1)-th SET on its connection, executed and replicated in order, so it is
 * visible exactly when the replica's key count reaches base + i + 1.
 *
 * After a warm-up of 100 writes (discarded), as for Clavitor.
 *
 * Measurement error: as for Clavitor, one poll interval plus one DBSIZE round trip (reported).
 */
import { REDIS_VALUE, redisPair } from './redis.js';
import { startWatcher } from './watcher.js';
import { runLag, type LagRun } from './lag-run.js';
import { sleep } from './stats.js';
import { POLL_MS } from './replication-lag.js';
import type { BenchPlan } from './options.js';

/** Runs every rate of the plan on one Redis pair. */
export async function redisLag(plan: BenchPlan): Promise<{ runs: LagRun[] }> {
  const pair = await redisPair();
  const runs: LagRun[] = [];
  try {
    await pair.primary.start();
    await pair.replica.start(pair.primary.port);
    await pair.replica.waitLinkUp();
    const w = pair.primary.client();
    const r = pair.replica.client();
    // Warm-up (connections, the replica's first stream), discarded.
    for (let i = 0; i < 100; i++) await w.set(`warm:${i}`, REDIS_VALUE);
    await sleep(500);
    for (const rate of plan.lagRates) {
      const base = await w.dbsize();
      const watcher = await startWatcher({ kind: 'redis', port: pair.replica.port, minIntervalMs: POLL_MS });
      process.stderr.write(`  redis lag at ${rate} writes/s for ${plan.lagSeconds} s…\n`);
      runs.push(await runLag(rate, plan.lagSeconds, {
        watcher,
        async write(i) {
          await w.set(`lag${rate}:${i}`, REDIS_VALUE);
          return base + i + 1;
        },
        drainTimeoutMs: 600 * 50, // drained() polls at most 600 times, 50 ms apart
        async drained() {
          const want = await w.dbsize();
          for (let k = 0; k < 600 && (await r.dbsize()) < want; k++) await sleep(50);
        },
      }));
    }
    w.disconnect();
    r.disconnect();
  } finally {
    await pair.cleanup();
  }
  return { runs };
}

