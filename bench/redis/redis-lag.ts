/**
 * Redis replication lag at the same paced rates as Clavitor's (replication-lag.ts) and measured
 * the same way (issue 12): open-loop `SET lag<rate>:i <1 KiB>` on one primary connection; lag =
 * the SET's reply → the key readable on the replica, as seen by one poller doing `GET` of the
 * oldest unseen key on the replica, one command at a time (head-watcher.ts). Milliseconds. A
 * write is the (i+1)-th SET on its connection, executed and replicated in order, so seeing key i
 * means every earlier one is there too.
 *
 * After a warm-up of 100 writes (discarded), as for Clavitor.
 *
 * Measurement error: as for Clavitor, one GET round trip plus the poller's walk (reported).
 */
import { REDIS_VALUE, redisPair } from './redis.js';
import { startWatcher } from '../replication/watcher.js';
import { runLag, type LagRun } from '../replication/lag-run.js';
import { sleep } from '../lib/stats.js';
import { POLL_MS, POLLER_DRAIN_MS } from '../replication/replication-lag.js';
import type { BenchPlan } from '../lib/options.js';

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
      const watcher = await startWatcher({ kind: 'redis-get', port: pair.replica.port, minIntervalMs: POLL_MS, drainMs: POLLER_DRAIN_MS });
      process.stderr.write(`  redis lag at ${rate} writes/s for ${plan.lagSeconds} s…\n`);
      runs.push(await runLag(rate, plan.lagSeconds, {
        watcher,
        async write(i) {
          const key = `lag${rate}:${i}`;
          await w.set(key, REDIS_VALUE);
          return { head: i + 1, key };
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

