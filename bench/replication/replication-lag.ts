/**
 * Replication lag (issue 7 item 5; method of issue 12 "Targets"): paced client writes (1 KiB
 * entries, POST /api/entries) at each rate of the plan, open loop, on a real primary/backup pair;
 * lag = the write's 201 received by the client → the write readable through the BACKUP's client
 * API, as seen by one poller doing `GET /api/entries/{id}` on the backup, one request at a time,
 * oldest unseen write first (head-watcher.ts). Milliseconds; p50/p99/max per rate. Redis is
 * measured the same way (redis-lag.ts: one poller, `GET` of the key on the replica).
 *
 * After a warm-up of 100 writes (discarded), each rate gets a fresh vault, which is replicated
 * (the primary's backlog empty) before the rate starts, so the poller never asks the backup about
 * a vault it does not hold yet.
 *
 * Measurement error: each lag is an upper bound: it includes the poller's round trip (one GET on
 * the backup, which also records the read in the backup's audit trail as every read does) and,
 * when several writes arrive in one push, the poller's walk through the older ones (reported per
 * rate as `lag_error_ms` and `poll_interval_ms`). The client, the poller and both POPs share the
 * machine's 2 cores, so CPU contention is included.
 */
import { benchPair } from '../lib/pair.js';
import { ApiClient, entryBody } from '../lib/client.js';
import { startWatcher } from './watcher.js';
import { runLag, type LagRun } from './lag-run.js';
import { sleep } from '../lib/stats.js';
import type { BenchPlan } from '../lib/options.js';

/** Poller period, ms: at most one read per millisecond (one request in flight in any case). */
export const POLL_MS = 1;

/** How long the poller keeps reading after the run to see the last writes, ms. */
export const POLLER_DRAIN_MS = 10_000;

/** Runs every rate of the plan on one pair (a fresh vault per rate). */
export async function replicationLag(plan: BenchPlan): Promise<{ runs: LagRun[] }> {
  const pair = await benchPair();
  const runs: LagRun[] = [];
  try {
    await pair.backup.start();
    await pair.primary.start();
    const client = new ApiClient(pair.primary.url, 64);
    // Warm-up (JIT, connections, the backup's first push), discarded.
    const warm = await client.createVault(pair.primary.adminToken);
    await client.fill(warm.owner_token, 100, 4);
    await sleep(500);
    for (const rate of plan.lagRates) {
      const v = await client.createVault(pair.primary.adminToken);
      const body = entryBody('lag');
      for (let i = 0; i < 600 && (await pair.primary.status()).replication.backlog > 0; i++) await sleep(50);
      const watcher = await startWatcher({ kind: 'clavitor-api', url: pair.backup.url, token: v.owner_token, minIntervalMs: POLL_MS, drainMs: POLLER_DRAIN_MS });
      process.stderr.write(`  clavitor lag at ${rate} writes/s for ${plan.lagSeconds} s…\n`);
      const run = await runLag(rate, plan.lagSeconds, {
        watcher,
        async write() {
          const r = await client.pool.request({ path: '/api/entries', method: 'POST', headers: { authorization: `Bearer ${v.owner_token}`, 'content-type': 'application/json' }, body });
          const j = (await r.body.json()) as { id: string; version: number };
          if (r.statusCode !== 201) throw new Error(`HTTP ${r.statusCode}`);
          return { head: j.version, key: j.id };
        },
        drainTimeoutMs: 600 * 50, // drained() polls at most 600 times, 50 ms apart
        async drained() {
          for (let i = 0; i < 600; i++) {
            if ((await pair.primary.status()).replication.backlog === 0) return;
            await sleep(50);
          }
        },
      });
      runs.push(run);
    }
    await client.close();
  } finally {
    await pair.cleanup();
  }
  return { runs };
}
