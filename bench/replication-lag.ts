/**
 * Replication lag (issue 7 item 5): paced client writes (1 KiB entries, POST /api/entries) at each
 * rate of the plan, open loop, on a real primary/backup pair; lag = the write's 201 received by
 * the client → the backup's vault file holding that write's seq (a reader thread polls it; see
 * head-watcher.ts). Milliseconds; p50/p99/max per rate.
 *
 * After a warm-up of 100 writes (discarded), each rate gets a fresh vault.
 *
 * Measurement error: each lag is an upper bound, too high by at most one poll interval plus one
 * poll's duration (reported per rate as `lag_error_ms` and `poll_interval_ms`); a write seen on
 * the backup before its 201 reached the client counts as 0. The client, the watcher and both POPs
 * share the machine's 2 cores, so CPU contention is included.
 */
import { join } from 'node:path';
import { benchPair } from './pair.js';
import { ApiClient, entryBody } from './client.js';
import { startWatcher } from './watcher.js';
import { runLag, type LagRun } from './lag-run.js';
import { sleep } from './stats.js';
import type { BenchPlan } from './options.js';

/** Watcher poll period, ms: at most one read of the backup's file per millisecond. */
export const POLL_MS = 1;

/** Runs every rate of the plan on one pair (a fresh vault per rate). */
export async function replicationLag(plan: BenchPlan): Promise<{ runs: (LagRun & { last_write_readable_via_backup_api: boolean })[] }> {
  const pair = await benchPair();
  const runs: (LagRun & { last_write_readable_via_backup_api: boolean })[] = [];
  try {
    await pair.backup.start();
    await pair.primary.start();
    const client = new ApiClient(pair.primary.url, 64);
    const backupClient = new ApiClient(pair.backup.url, 1);
    // Warm-up (JIT, connections, the backup's first push), discarded.
    const warm = await client.createVault(pair.primary.adminToken);
    await client.fill(warm.owner_token, 100, 4);
    await sleep(500);
    for (const rate of plan.lagRates) {
      let last = { id: '', version: 0 };
      const v = await client.createVault(pair.primary.adminToken);
      const body = entryBody('lag');
      const watcher = await startWatcher({ kind: 'clavitor', dbFile: join(pair.backup.data, 'clavitor.db'), vaultId: v.vault_id, minIntervalMs: POLL_MS });
      process.stderr.write(`  clavitor lag at ${rate} writes/s for ${plan.lagSeconds} s…\n`);
      const run = await runLag(rate, plan.lagSeconds, {
        watcher,
        async write() {
          const r = await client.pool.request({ path: '/api/entries', method: 'POST', headers: { authorization: `Bearer ${v.owner_token}`, 'content-type': 'application/json' }, body });
          const j = (await r.body.json()) as { id: string; version: number };
          if (r.statusCode !== 201) throw new Error(`HTTP ${r.statusCode}`);
          if (j.version > last.version) last = j;
          return j.version;
        },
        drainTimeoutMs: 600 * 50, // drained() polls at most 600 times, 50 ms apart
        async drained() {
          for (let i = 0; i < 600; i++) {
            if ((await pair.primary.status()).replication.backlog === 0) return;
            await sleep(50);
          }
        },
      });
      // Cross-check of the watcher's notion of "readable": the newest write through the backup's API.
      runs.push({ ...run, last_write_readable_via_backup_api: (await backupClient.getEntry(v.owner_token, last.id)) === 200 });
    }
    await client.close();
    await backupClient.close();
  } finally {
    await pair.cleanup();
  }
  return { runs };
}
