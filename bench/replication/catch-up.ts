/**
 * Catch-up (issue 7 item 5): a primary holds `n` revisions in its backlog, queued while its backup
 * was down (generated with the real write path, datagen.ts: 100 vaults, writes spread at random);
 * the backup starts empty; we time from the backup listening until it holds all `n` revisions:
 * its log position (LSN, GET /replication/v1/positions) reaches the primary's last one.
 * Revisions per second.
 *
 * Measurement error: completion is observed by polling the backup's position every 200 ms, so the
 * time is high by at most one poll interval plus one poll (≤ ~0.2 s). CPU seconds of each POP
 * during the catch-up are reported, to tell which side bounds the rate.
 */
import { benchPair } from '../lib/pair.js';
import { ApiClient } from '../lib/client.js';
import { generateBacklogData } from '../scale/datagen-run.js';
import { cpuSecondsOf } from '../lib/proc.js';
import { nowMs, sleep } from '../lib/stats.js';

/** Result of one catch-up; seconds, revisions per second. */
export interface CatchUpResult {
  revisions: number;
  vaults: number;
  batch_size: number;
  /** Backup listening → backup holds every revision. */
  seconds: number;
  revisions_per_second: number;
  /** Backup process spawn → listening (not part of `seconds`). */
  backup_startup_seconds: number;
  cpu_seconds: { primary: number; backup: number };
  generation_seconds: number;
}

/** Runs the catch-up of `revisions` revisions over `vaults` vaults. */
export async function catchUp(revisions: number, vaults = 100, batchSize = 100): Promise<CatchUpResult> {
  const pair = await benchPair({ batchSize });
  try {
    const gen = await generateBacklogData({ dataDir: pair.primary.data, configFile: pair.primary.config!, vaults, revisions });
    await pair.primary.start();
    const queued = (await pair.primary.status()).replication.backlog as number;
    const pc = new ApiClient(pair.primary.url, 1);
    const lastLsn = (await pc.positions(pair.replicationToken)).lsn;
    await pc.close();
    const cpuP0 = cpuSecondsOf(pair.primary.pid);
    await pair.backup.start();
    const t0 = pair.backup.listeningAt;
    const cpuB0 = cpuSecondsOf(pair.backup.pid);
    const client = new ApiClient(pair.backup.url, 1);
    for (;;) {
      const held = (await client.positions(pair.replicationToken)).lsn;
      if (held >= lastLsn) break;
      if (nowMs() - t0 > 1_800_000) throw new Error(`catch-up did not finish: lsn ${held} of ${lastLsn}`);
      await sleep(200);
    }
    const seconds = (nowMs() - t0) / 1000;
    const cpu = { primary: cpuSecondsOf(pair.primary.pid) - cpuP0, backup: cpuSecondsOf(pair.backup.pid) - cpuB0 };
    await client.close();
    return {
      revisions: queued, vaults, batch_size: batchSize, seconds, revisions_per_second: queued / seconds,
      backup_startup_seconds: (pair.backup.listeningAt - pair.backup.spawnedAt) / 1000,
      cpu_seconds: cpu, generation_seconds: gen.seconds,
    };
  } finally {
    await pair.cleanup();
  }
}
