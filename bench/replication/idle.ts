/**
 * Idle (issue 7 item 5): a Clavitor pair and a Redis pair, each having taken a few writes and then
 * left alone for SETTLE_MS; over the same `idleSeconds` window that follows we count
 *
 * - **pushes**: `replication.pushes_sent` of the primary and `pushes_received` of the backup
 *   (GET /api/status before and after the window, on connections closed at once); for Redis, the
 *   replica's `master_repl_offset` advance in bytes (the primary PINGs its replicas every 10 s);
 * - **wake-ups**: voluntary context switches of each process's main thread (/proc/<pid>/status):
 *   the event loop blocks in epoll and is switched out; each wake-up (a timer, a signal, a
 *   socket) is one switch. All-thread totals are reported too (libuv pool, V8 platform threads);
 * - **timers**: JavaScript timers fired in each Clavitor process, by creating file (a preload,
 *   timer-probe.ts); the replication timers are those created under dist/src/replication/.
 *
 * Measurement error: the /proc reads and the probe's snapshot signal sit outside the window;
 * reading /proc does not wake the process. Counts are exact for the window.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BENCH_TMP, benchPair, type BenchPop } from '../lib/pair.js';
import { ApiClient } from '../lib/client.js';
import { redisFill, redisPair } from '../redis/redis.js';
import { switchesDelta, switchesOf, type SwitchCounts } from '../lib/proc.js';
import { sleep } from '../lib/stats.js';
import type { BenchPlan } from '../lib/options.js';

/** Per-process idle figures. */
export interface IdleProcess {
  wakeups: SwitchCounts;
  /** Timer callbacks fired in the window by creating file (Clavitor only). */
  timers_fired?: Record<string, number>;
  /** Fired timers created under dist/src/replication/ (Clavitor only). */
  replication_timers_fired?: number;
}

/** Result of the idle window. */
export interface IdleResult {
  seconds: number;
  clavitor: { pushes_sent: number; pushes_received: number; primary: IdleProcess; backup: IdleProcess };
  redis: { repl_offset_bytes: number; primary: IdleProcess; replica: IdleProcess };
}

/** Quiet time between the last write and the window, ms. */
export const SETTLE_MS = 5000;

const PROBE = pathToFileURL(resolve(import.meta.dirname, '../lib/timer-probe.js')).href;

type Fired = Record<string, { created: number; fired: number }>;

async function snapshot(pop: BenchPop, dir: string): Promise<Fired> {
  const file = join(dir, `timers-${pop.pid}.json`);
  rmSync(file, { force: true });
  pop.proc!.kill('SIGUSR2');
  for (let i = 0; i < 200; i++) {
    try {
      return JSON.parse(readFileSync(file, 'utf8')) as Fired;
    } catch {
      await sleep(10);
    }
  }
  throw new Error(`no timer snapshot from ${pop.name}`);
}

function firedDelta(a: Fired, b: Fired): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(b)) {
    const d = v.fired - (a[k]?.fired ?? 0);
    if (d > 0) out[k] = d;
  }
  return out;
}

/** Runs the idle window for both systems at once. */
export async function idle(plan: BenchPlan): Promise<IdleResult> {
  const probeDir = mkdtempSync(join(BENCH_TMP, 'clavitor-bench-probe-'));
  const pair = await benchPair();
  const redis = await redisPair();
  try {
    const start = { nodeArgs: ['--import', PROBE], env: { CLAVITOR_BENCH_TIMER_PROBE: probeDir } };
    await pair.backup.start(start);
    await pair.primary.start(start);
    const c = new ApiClient(pair.primary.url, 1);
    const v = await c.createVault(pair.primary.adminToken);
    for (let i = 0; i < 20; i++) await c.createEntry(v.owner_token, `idle ${i}`);
    await c.close();
    while ((await pair.primary.status()).replication.backlog > 0) await sleep(50);
    await redis.primary.start();
    await redis.replica.start(redis.primary.port);
    await redis.replica.waitLinkUp();
    const rc = redis.primary.client();
    await redisFill(rc, 'idle', 20);
    rc.disconnect();
    // Let start-up transients end before the window: the primary's 3 s epoch-check timer, the
    // 4 s keep-alive of its connection to the backup.
    await sleep(SETTLE_MS);

    const rr = redis.replica.client();
    const offset = async () => Number(/master_repl_offset:(\d+)/.exec(await rr.info('replication'))?.[1] ?? NaN);
    const off0 = await offset();
    const p0 = (await pair.primary.status()).replication.pushes_sent as number;
    const b0 = (await pair.backup.status()).replication.pushes_received as number;
    const t0 = { primary: await snapshot(pair.primary, probeDir), backup: await snapshot(pair.backup, probeDir) };
    await sleep(500);
    const pids = [pair.primary.pid, pair.backup.pid, redis.primary.pid, redis.replica.pid];
    const before = pids.map(switchesOf);
    process.stderr.write(`  idle window of ${plan.idleSeconds} s…\n`);
    await sleep(plan.idleSeconds * 1000);
    const after = pids.map(switchesOf);
    const t1 = { primary: await snapshot(pair.primary, probeDir), backup: await snapshot(pair.backup, probeDir) };
    const p1 = (await pair.primary.status()).replication.pushes_sent as number;
    const b1 = (await pair.backup.status()).replication.pushes_received as number;
    const off1 = await offset();
    rr.disconnect();
    const d = pids.map((_, i) => switchesDelta(before[i]!, after[i]!));
    const proc = (i: number, fired?: Record<string, number>): IdleProcess => ({
      wakeups: d[i]!,
      ...(fired ? { timers_fired: fired, replication_timers_fired: Object.entries(fired).filter(([k]) => k.includes('dist/src/replication/')).reduce((a, [, n]) => a + n, 0) } : {}),
    });
    return {
      seconds: plan.idleSeconds,
      clavitor: { pushes_sent: p1 - p0, pushes_received: b1 - b0, primary: proc(0, firedDelta(t0.primary, t1.primary)), backup: proc(1, firedDelta(t0.backup, t1.backup)) },
      redis: { repl_offset_bytes: off1 - off0, primary: proc(2), replica: proc(3) },
    };
  } finally {
    await pair.cleanup();
    await redis.cleanup();
    rmSync(probeDir, { recursive: true, force: true });
  }
}
