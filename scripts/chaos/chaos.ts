/**
 * One chaos run (issue 8): provision and start the pair behind proxies, create the vaults, run the
 * workload, the nemesis and the role monitor for `seconds`, heal, wait for the final primary's
 * backlog to drain, run `verify`, stop both POPs, read their SQLite files read-only and check the
 * history. Returns the report; the caller writes it. The run directory (POP data and logs, the
 * operation history) is kept when a check fails or `keep` is set, and removed otherwise.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { request } from 'undici';
import { createCluster } from './cluster.js';
import { runCommercial } from '../../test/kit/pop.js';
import { runChecks } from './checks.js';
import { startMonitor } from './monitor.js';
import { startNemesis } from './nemesis.js';
import { buildReport, type ChaosReport } from './report.js';
import { createRng } from './rng.js';
import { readPopData } from './store-reader.js';
import { POPS, type FaultKind, type PopName } from './types.js';
import { startWorkload, type WorkloadVault } from './workload.js';

/** Settings of a run. */
export interface ChaosOptions {
  seconds: number;
  seed: number;
  clients?: number;
  vaults?: number;
  /** Scales fault durations and gaps; default 1 (0.5 suits a short run). */
  faultScale?: number;
  /** Restrict the nemesis to these fault kinds (default: every kind). */
  faults?: readonly FaultKind[];
  /** Keep the run directory even when every check passes. */
  keep?: boolean;
  /**
   * Fewest faults that must complete for the run to count (check h); default one per 15 s of run
   * time, at least 1. Faults that threw or were aborted do not count. The run goes on past
   * `seconds` (up to 3 × `seconds`) until this many completed.
   */
  minFaults?: number;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
}

/** Runs the whole experiment and returns its report. */
export async function runChaos(opts: ChaosOptions): Promise<ChaosReport> {
  const t0 = performance.now();
  const clock = (): number => Math.round(performance.now() - t0);
  const wallT0 = Date.now();
  const log = opts.log ?? (() => {});
  const startedAt = new Date().toISOString();
  const rng = createRng(opts.seed);
  const cluster = await createCluster({ clock });
  let passed = false;
  try {
    log(`run directory ${cluster.dir}`);
    await cluster.start('zurich-01');
    await cluster.start('calgary-01');
    const vaults: WorkloadVault[] = [];
    for (let i = 0; i < (opts.vaults ?? 3); i++) {
      const res = await request(`${cluster.url('calgary-01')}/api/vaults`, { method: 'POST', headers: { authorization: `Bearer ${cluster.procs['calgary-01'].adminToken()}` } });
      const json = (await res.body.json()) as { vault_id: string; owner_token: string };
      if (res.statusCode !== 201) throw new Error(`vault creation failed: HTTP ${res.statusCode}`);
      vaults.push({ id: json.vault_id, owner: json.owner_token });
    }

    const workloadFrom = clock();
    const deadline = workloadFrom + opts.seconds * 1000;
    // On a loaded machine fewer faults fit into the run: it goes on (up to 3 × seconds) until
    // `minFaults` completed, rather than failing check (h) for the machine's sake.
    const minFaults = opts.minFaults ?? Math.max(1, Math.floor(opts.seconds / 15));
    const hardDeadline = workloadFrom + 3 * opts.seconds * 1000;
    const monitor = startMonitor(cluster, clock);
    const workload = startWorkload({ clients: opts.clients ?? 4, vaults, url: cluster.url, popOfUrl: cluster.popOfUrl, rng: rng.fork(), clock, timeoutMs: 15_000, thinkMs: 20 });
    const nemesis = startNemesis({ cluster, rng: rng.fork(), clock, deadline: deadline - 2000, minFaults, hardDeadline: hardDeadline - 2000, scale: opts.faultScale ?? 1, ...(opts.faults ? { kinds: opts.faults } : {}) });
    const progress = setInterval(() => log(`${(clock() / 1000).toFixed(0)} s: ${workload.ops.length} operations, ${workload.ops.filter((o) => o.outcome === 'ok').length} ok`), 30_000);
    while (clock() < deadline || (nemesis.completed() < minFaults && clock() < hardDeadline)) await new Promise((r) => setTimeout(r, 200));
    if (clock() > deadline + 1000) log(`run extended to ${((clock() - workloadFrom) / 1000).toFixed(0)} s for ${minFaults} completed faults`);
    const nem = await nemesis.stop();
    await new Promise((r) => setTimeout(r, 1000)); // a last second of writes after the final heal
    const ops = await workload.stop();
    const workloadTo = clock();
    clearInterval(progress);
    const observations = await monitor.stop();
    log(`workload stopped: ${ops.length} operations; ${nem.faults.length} faults`);

    // Heal: every proxy forwards, both POPs run, the final primary's backlog drains.
    for (const pop of POPS) cluster.proxies[pop].setMode('forward');
    for (const pop of POPS) if (!cluster.running(pop)) await cluster.start(pop);
    const finalPrimary: PopName = cluster.primary();
    const backup = POPS.find((p) => p !== finalPrimary)!;
    const adminFile = join(cluster.procs[finalPrimary].dataDir, 'admin.token');
    await runCommercial(['resume', '--url', cluster.url(finalPrimary), '--admin-token-file', adminFile]);
    const anomalies = [...nem.anomalies];
    await cluster.waitStatus(finalPrimary, 'backlog 0', (s) => s.replication.backlog === 0, 180_000)
      .catch((e: Error) => anomalies.push(`final heal: ${e.message}`));
    const verify = await runCommercial(['verify', '--primary', cluster.url(finalPrimary), '--backup', cluster.url(backup), '--token-file', cluster.tokenFiles[finalPrimary]]);
    log(`verify: exit ${verify.code} ${verify.stdout.trim()}`);

    for (const pop of POPS) await cluster.stop(pop, 'SIGTERM');
    const data = { 'calgary-01': readPopData('calgary-01', cluster.procs['calgary-01'].dataDir), 'zurich-01': readPopData('zurich-01', cluster.procs['zurich-01'].dataDir) };
    const { checks, fates } = runChecks({
      ops, finalPrimary, data, observations,
      verify: { code: verify.code, output: verify.stdout + verify.stderr },
      fencingViolations: nem.violations,
      faults: nem.faults,
      wallT0,
      anomalies,
      minFaults,
      unexpectedExits: cluster.unexpectedExits.map((x) => `${(x.t / 1000).toFixed(1)} s: ${x.pop} exited (code ${x.code}, signal ${x.signal}): ${x.stderrTail.split('\n').filter(Boolean).slice(-3).join(' / ')}`),
    });
    const logErrors: Record<string, number> = {};
    for (const pop of POPS) for (const e of cluster.events[pop]) if (e.level >= 50) logErrors[`${pop} ${e.event}`] = (logErrors[`${pop} ${e.event}`] ?? 0) + 1;
    passed = checks.every((c) => c.passed);
    const keep = !passed || opts.keep === true;
    if (keep) {
      writeFileSync(join(cluster.dir, 'operations.jsonl'), ops.map((o) => JSON.stringify(o)).join('\n') + '\n');
      writeFileSync(join(cluster.dir, 'observations.jsonl'), observations.map((o) => JSON.stringify(o)).join('\n') + '\n');
    }
    return buildReport({ seed: opts.seed, seconds: opts.seconds, startedAt, durationMs: clock(), finalPrimary, ops, faults: nem.faults, fates, checks, anomalies, wallT0, logErrors, workloadFrom, workloadTo, runDir: keep ? cluster.dir : null });
  } finally {
    await cluster.close(!passed || opts.keep === true);
  }
}
