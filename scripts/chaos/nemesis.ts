/**
 * The nemesis: injects one fault at a time on a seeded schedule, heals it, waits a few seconds and
 * picks the next. The first faults are a seeded permutation of every kind (so a long enough run
 * injects each kind at least once); then kinds are drawn by weight. Each procedure is the one
 * docs/operations.md gives an operator:
 *
 * | kind           | what happens                                                                  |
 * | -------------- | ----------------------------------------------------------------------------- |
 * | kill           | SIGKILL either POP, restart it with its file after a moment                   |
 * | pause          | SIGSTOP either POP, SIGCONT after a moment                                    |
 * | link-cut       | the proxy in front of a POP refuses connections for a while                  |
 * | link-blackhole | the proxy accepts and never answers for a while (peer timeouts)              |
 * | link-reset     | the proxy resets every live connection, a few times                           |
 * | link-delay     | the proxy delays every chunk for a while                                      |
 * | token-rotation | the 3-step two-line token file rotation, SIGHUP after each file              |
 * | switchover     | `drain` → swap both YAMLs → SIGHUP old primary, then the other                |
 * | failover       | SIGKILL primary → promote backup (YAML + SIGHUP) → restart old primary with   |
 * |                | its old file: it must come up fenced → demote it (YAML + SIGHUP)              |
 * | failover-      | as failover, but the operator edits the old primary's file to backup while    |
 * | restart        | it is down and simply starts it (DESIGN.md §4.5: "SIGHUP, or restart")         |
 * | switchover-    | switchover while the link into the old primary is down, then the new primary  |
 * | crash          | crashes before it could push and is failed over back to the old one (link     |
 * |                | healed before the crashed POP restarts with its old file)                     |
 *
 * Healing after each fault: every proxy forwards, both POPs run, the primary accepts writes.
 * Anything that should not happen (a reload refused, a heal that does not converge, an old
 * primary that is not fenced) is recorded; fencing failures are violations.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateToken } from '../../src/config/keygen.js';
import type { Cluster } from './cluster.js';
import { runCommercial } from '../../test/kit/pop.js';
import type { Rng } from './rng.js';
import { FAULT_KINDS, otherPop, POPS, type FaultKind, type FaultRecord, type PopName } from './types.js';

/** Relative weights of fault kinds after the first round. */
const WEIGHTS: Record<FaultKind, number> = { kill: 2, pause: 2, 'link-cut': 2, 'link-blackhole': 1, 'link-reset': 2, 'link-delay': 1, 'token-rotation': 1, switchover: 2, failover: 1, 'failover-restart': 1, 'switchover-crash': 1 };

/** Settings of the nemesis. */
export interface NemesisOptions {
  cluster: Cluster;
  rng: Rng;
  clock(): number;
  /** Run time (ms) after which no new fault starts (unless `minFaults` are not done yet). */
  deadline: number;
  /**
   * Keep injecting past `deadline` until this many faults completed (a loaded machine fits fewer
   * into the same time), but never past `hardDeadline` (run time, ms). Default 0.
   */
  minFaults?: number;
  hardDeadline?: number;
  /** Scales fault durations and gaps (1 for long runs, smaller for the short test). */
  scale: number;
  /** Only these kinds (default: all). */
  kinds?: readonly FaultKind[];
}

/** What the nemesis did and saw. */
export interface NemesisResult {
  faults: FaultRecord[];
  /** Safety failures seen while injecting (e.g. an old primary that was not fenced). */
  violations: string[];
  /** Things that went wrong without being safety failures (a drain that timed out, a slow heal). */
  anomalies: string[];
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Starts injecting faults; `completed()` counts those that completed; `stop()` ends after the current fault is healed. */
export function startNemesis(o: NemesisOptions): { completed(): number; stop(): Promise<NemesisResult> } {
  const { cluster, rng } = o;
  const res: NemesisResult = { faults: [], violations: [], anomalies: [] };
  let stopped = false;
  /** The crashed primary's backlog just before the last unplanned failover's SIGKILL. */
  let backlogAtCrash: number | null = null;
  /** SIGKILLs the primary `pop` for an unplanned failover, noting its backlog first. */
  async function crashPrimary(pop: PopName): Promise<void> {
    backlogAtCrash = (await cluster.status(pop, 1000).catch(() => undefined))?.replication.backlog ?? null;
    await cluster.stop(pop, 'SIGKILL');
  }
  const ms = (min: number, max: number): number => rng.int(Math.round(min * o.scale), Math.round(max * o.scale));
  const kinds = o.kinds ?? FAULT_KINDS;
  const firstRound = rng.shuffle(kinds);

  function nextKind(i: number): FaultKind {
    if (i < firstRound.length) return firstRound[i]!;
    const total = kinds.reduce((n, k) => n + WEIGHTS[k], 0);
    let r = rng.next() * total;
    for (const k of kinds) if ((r -= WEIGHTS[k]) < 0) return k;
    return kinds[0]!;
  }

  /** A POP for a link fault: usually the backup (its inbound link carries the pushes). */
  const linkTarget = (): PopName => (rng.next() < 0.7 ? otherPop(cluster.primary()) : cluster.primary());

  async function kill(target: PopName): Promise<string> {
    const down = ms(200, 2000);
    await cluster.stop(target, 'SIGKILL');
    await sleep(down);
    await cluster.start(target);
    return `SIGKILL ${target} (${cluster.fileRole[target]}), restarted after ${down} ms`;
  }

  async function pause(target: PopName): Promise<string> {
    const held = ms(500, 3000);
    cluster.signal(target, 'SIGSTOP');
    try {
      await sleep(held);
    } finally {
      cluster.signal(target, 'SIGCONT');
    }
    return `SIGSTOP ${target} (${cluster.fileRole[target]}) for ${held} ms`;
  }

  async function link(kind: 'link-cut' | 'link-blackhole' | 'link-delay', target: PopName): Promise<string> {
    const proxy = cluster.proxies[target];
    const held = kind === 'link-blackhole' ? ms(2000, 12000) : ms(1000, 5000);
    const delay = rng.int(100, 1500);
    proxy.setMode(kind === 'link-cut' ? 'refuse' : kind === 'link-blackhole' ? 'blackhole' : 'delay', delay);
    try {
      await sleep(held);
    } finally {
      proxy.setMode('forward');
      if (kind === 'link-delay') proxy.cutAll(); // connections accepted while delaying stay delayed
    }
    return `link into ${target} (${cluster.fileRole[target]}) ${kind === 'link-cut' ? 'refusing' : kind === 'link-blackhole' ? 'black-holed' : `delayed ${delay} ms per chunk`} for ${held} ms`;
  }

  async function reset(target: PopName): Promise<string> {
    const n = rng.int(1, 5);
    for (let i = 0; i < n; i++) {
      cluster.proxies[target].cutAll();
      await sleep(rng.int(200, 800));
    }
    return `reset every connection into ${target} (${cluster.fileRole[target]}) ${n} time(s)`;
  }

  async function rotate(): Promise<string> {
    const old = readFileSync(cluster.tokenFiles[cluster.primary()], 'utf8').split('\n')[0]!.trim();
    const fresh = generateToken();
    const order = [otherPop(cluster.primary()), cluster.primary()];
    for (const text of [`${old}\n${fresh}\n`, `${fresh}\n${old}\n`, `${fresh}\n`]) {
      for (const pop of order) {
        writeFileSync(cluster.tokenFiles[pop], text);
        await cluster.reload(pop);
      }
      await sleep(ms(200, 1000));
    }
    return `3-step rotation on ${order.join(' then ')}`;
  }

  async function switchover(): Promise<{ detail: string; completed: boolean }> {
    const old = cluster.primary();
    const next = otherPop(old);
    const adminFile = join(cluster.procs[old].dataDir, 'admin.token');
    const drain = await runCommercial(['drain', '--url', cluster.url(old), '--admin-token-file', adminFile, '--timeout-seconds', '30']);
    if (drain.code !== 0) {
      await runCommercial(['resume', '--url', cluster.url(old), '--admin-token-file', adminFile]);
      res.anomalies.push(`${(o.clock() / 1000).toFixed(1)} s: switchover aborted: drain of ${old} exited ${drain.code}: ${(drain.stdout + drain.stderr).trim()}`);
      return { detail: `drain of ${old} failed (exit ${drain.code}); resumed, no switch`, completed: false };
    }
    cluster.writeYaml(old, 'backup');
    cluster.writeYaml(next, 'primary');
    await cluster.reload(old);
    await cluster.waitStatus(old, 'role backup', (s) => s.role === 'backup');
    await cluster.reload(next);
    const s = await cluster.waitStatus(next, 'primary accepting writes', (st) => st.role === 'primary' && st.accepting_writes);
    return { detail: `${old} drained and demoted, ${next} promoted (epoch ${s.epoch})`, completed: true };
  }

  /** SIGKILLs primary `old`, promotes `next` by its file and SIGHUP, then lets 0.3–3 s pass; resolves with `next`'s status. */
  async function crashAndPromote(old: PopName, next: PopName): Promise<{ epoch: number }> {
    await crashPrimary(old);
    cluster.writeYaml(next, 'primary');
    await cluster.reload(next);
    const promoted = await cluster.waitStatus(next, 'promoted', (s) => s.role === 'primary');
    await sleep(ms(300, 3000));
    return promoted;
  }

  /** Unplanned failover; `beforeRestart` runs once the backup is promoted, before the old primary returns. */
  async function failover(beforeRestart?: () => void): Promise<string> {
    const old = cluster.primary();
    const next = otherPop(old);
    const promoted = await crashAndPromote(old, next);
    beforeRestart?.();
    await cluster.start(old); // with its old file, which still says primary
    const back = await cluster.status(old);
    if (back?.role !== 'fenced') {
      res.violations.push(`${(o.clock() / 1000).toFixed(1)} s: ${old} restarted with its old file after ${next} was promoted to epoch ${promoted.epoch} and was not fenced (role ${back?.role ?? '?'}, epoch ${back?.epoch ?? '?'}, accepting writes ${back?.accepting_writes ?? '?'})`);
    }
    cluster.writeYaml(old, 'backup');
    await cluster.reload(old);
    await cluster.waitStatus(old, 'role backup', (s) => s.role === 'backup');
    return `SIGKILL ${old}; ${next} promoted (epoch ${promoted.epoch}); ${old} restarted ${back?.role ?? '?'}, demoted to backup`;
  }

  /** Unplanned failover where the old primary restarts with a file already saying backup. */
  async function failoverRestart(): Promise<string> {
    const old = cluster.primary();
    const next = otherPop(old);
    const promoted = await crashAndPromote(old, next);
    cluster.writeYaml(old, 'backup');
    await cluster.start(old);
    await cluster.waitStatus(old, 'role backup', (s) => s.role === 'backup');
    return `SIGKILL ${old}; ${next} promoted (epoch ${promoted.epoch}); ${old} restarted with a backup file`;
  }

  /** Switchover with the link into the old primary down; the new primary crashes and is failed over back. */
  async function switchoverCrash(): Promise<{ detail: string; completed: boolean }> {
    const old = cluster.primary();
    const link = cluster.proxies[old];
    link.setMode('refuse');
    try {
      const sw = await switchover();
      if (!sw.completed) return sw;
      await sleep(ms(300, 1500)); // the new primary takes writes it cannot push
      const fo = await failover(() => link.setMode('forward'));
      return { detail: `link into ${old} refused; ${sw.detail}; then ${fo}`, completed: true };
    } finally {
      link.setMode('forward');
    }
  }

  async function inject(kind: FaultKind): Promise<FaultRecord> {
    const target = kind === 'switchover' || kind.startsWith('failover') || kind === 'switchover-crash' || kind === 'token-rotation' ? cluster.primary()
      : kind.startsWith('link-') ? linkTarget() : rng.pick(POPS);
    const rec: FaultRecord = { kind, target, start: o.clock(), end: 0, detail: '', completed: true };
    backlogAtCrash = null;
    try {
      if (kind === 'kill') rec.detail = await kill(target);
      else if (kind === 'pause') rec.detail = await pause(target);
      else if (kind === 'link-reset') rec.detail = await reset(target);
      else if (kind === 'link-cut' || kind === 'link-blackhole' || kind === 'link-delay') rec.detail = await link(kind, target);
      else if (kind === 'token-rotation') rec.detail = await rotate();
      else if (kind === 'switchover') Object.assign(rec, await switchover());
      else if (kind === 'switchover-crash') Object.assign(rec, await switchoverCrash());
      else if (kind === 'failover-restart') rec.detail = await failoverRestart();
      else rec.detail = await failover();
    } catch (e) {
      rec.completed = false;
      rec.detail += ` FAILED: ${(e as Error).message}`;
      res.anomalies.push(`${(o.clock() / 1000).toFixed(1)} s: ${kind} on ${target} failed: ${(e as Error).message}`);
    }
    rec.end = o.clock();
    if (kind === 'failover' || kind === 'failover-restart' || kind === 'switchover-crash') rec.backlogAtCrash = backlogAtCrash;
    return rec;
  }

  /** Every proxy forwards, both POPs run, the primary accepts writes. */
  async function heal(): Promise<void> {
    for (const pop of POPS) cluster.proxies[pop].setMode('forward');
    for (const pop of POPS) {
      if (cluster.running(pop)) continue;
      res.anomalies.push(`${(o.clock() / 1000).toFixed(1)} s: ${pop} was not running at heal; restarting it`);
      await cluster.start(pop).catch((e: Error) => res.anomalies.push(`restart of ${pop} failed: ${e.message}`));
    }
    const p = cluster.primary();
    await cluster.waitStatus(p, 'primary accepting writes', (s) => s.role === 'primary' && s.accepting_writes, 60_000)
      .catch((e: Error) => res.anomalies.push(`${(o.clock() / 1000).toFixed(1)} s: heal: ${e.message}`));
  }

  const completed = (): number => res.faults.filter((f) => f.completed).length;
  /** True while a new fault may start: before the deadline, or after it while too few completed. */
  const mayStart = (): boolean => o.clock() < o.deadline || (completed() < (o.minFaults ?? 0) && o.clock() < (o.hardDeadline ?? o.deadline));
  const loop = (async () => {
    for (let i = 0; !stopped && mayStart(); i++) {
      await sleep(ms(1000, 4000));
      if (stopped || !mayStart()) break;
      res.faults.push(await inject(nextKind(i)));
      await heal();
    }
  })();

  return {
    completed,
    async stop() {
      stopped = true;
      await loop;
      return res;
    },
  };
}
