/**
 * Memory (issue 7 item 5): RSS of a primary holding a backlog of `memoryBacklog` revisions
 * (1,000,000 in the full run), generated with the real write path (datagen.ts: 100 vaults, 1 KiB
 * entries) while its backup is down. The primary is started on that data with the backup still
 * down, and RSS (and peak RSS, VmHWM) is read from /proc in MiB
 *
 * - after start-up (accepting writes: the 3 s epoch check timed out),
 * - after the sender has tried once (status shows its first failed push),
 * - after `catchUpSeconds` of catch-up once the backup is started (push buffers in use).
 *
 * Also reported: the time of one GET /api/status with that backlog (it counts the backlog), ms.
 */
import { benchPair } from '../lib/pair.js';
import { generateBacklogData } from '../scale/datagen-run.js';
import { memoryOf } from '../lib/proc.js';
import { nowMs, sleep } from '../lib/stats.js';
import type { BenchPlan } from '../lib/options.js';

/** Memory figures in MiB. */
export interface MemoryResult {
  backlog: number;
  after_startup: { rss_mib: number; peak_rss_mib: number };
  after_first_attempt: { rss_mib: number; peak_rss_mib: number };
  during_catch_up: { rss_mib: number; peak_rss_mib: number; seconds: number; revisions_sent: number };
  startup_seconds: number;
  status_ms: number;
  generation_seconds: number;
}

/** Runs the memory benchmark. */
export async function memoryBacklog(plan: BenchPlan, catchUpSeconds = plan.quick ? 2 : 10): Promise<MemoryResult> {
  const pair = await benchPair();
  try {
    process.stderr.write(`  generating ${plan.memoryBacklog} revisions…\n`);
    const gen = await generateBacklogData({ dataDir: pair.primary.data, configFile: pair.primary.config!, vaults: 100, revisions: plan.memoryBacklog });
    await pair.primary.start();
    const afterStartup = memoryOf(pair.primary.pid);
    const startup = (nowMs() - pair.primary.spawnedAt) / 1000;
    let s = await pair.primary.status();
    while (!s.replication.last_error) {
      await sleep(100);
      s = await pair.primary.status();
    }
    const afterAttempt = memoryOf(pair.primary.pid);
    const t = nowMs();
    s = await pair.primary.status();
    const statusMs = nowMs() - t;
    const backlog = s.replication.backlog as number;
    await pair.backup.start();
    await sleep(catchUpSeconds * 1000);
    const during = memoryOf(pair.primary.pid);
    const left = (await pair.primary.status()).replication.backlog as number;
    return {
      backlog,
      after_startup: afterStartup,
      after_first_attempt: afterAttempt,
      during_catch_up: { ...during, seconds: catchUpSeconds, revisions_sent: backlog - left },
      startup_seconds: startup,
      status_ms: statusMs,
      generation_seconds: gen.seconds,
    };
  } finally {
    await pair.cleanup();
  }
}
