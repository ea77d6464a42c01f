/**
 * Write latency and throughput with replication on vs. off (issue 7 item 5): autocannon POSTs
 * 1 KiB entries (`connections` connections, closed loop) for `loadSeconds` against
 *
 * - **off**: the community edition (`clavitor`), the same server without replication: no backlog
 *   intent, no sender, no backup. This is the honest baseline: a commercial primary whose backup
 *   is down still pays for replication (it writes a durable backlog intent before every commit
 *   and keeps a retry timer), so using it as "off" would hide most of the cost;
 * - **on**: a commercial primary with its backup up (intent + push + acknowledgement; the backup
 *   runs on the same 2 cores, as it would not in production — this overstates the overhead);
 * - **intent only**: a commercial primary whose backup is down, to split the overhead into the
 *   backlog intent and the rest;
 * - **reference** (issue 12 "Targets"): a bare fastify + better-sqlite3 server committing one row
 *   per fsync'd transaction (ref-server.ts `write`), the same body, the same load. Target:
 *   Clavitor's `POST /api/entries` (the community edition, "off") ≥ 1.0× the reference; the
 *   commercial primary with its backup up is given against it too.
 *
 * After a 1 s warm-up of each variant (discarded), variants are interleaved over `overheadRounds`
 * rounds and the median per variant is reported,
 * so that other load on the machine affects all three alike. Overhead % = (off − on) ÷ off × 100
 * on requests per second. Latency in milliseconds, throughput in writes per second.
 */
import { benchCommunity, benchPair, type BenchPop } from '../lib/pair.js';
import { ApiClient, entryBody } from '../lib/client.js';
import { load, type LoadResult } from '../lib/load.js';
import { median } from '../lib/stats.js';
import { startRefServer } from '../client/reference.js';
import type { BenchPlan } from '../lib/options.js';

/** Median figures of one variant over the rounds. */
export interface VariantResult {
  req_per_s: number;
  p50_ms: number;
  p99_ms: number;
  rounds: LoadResult[];
}

/** Result of the comparison. */
export interface WriteOverheadResult {
  off: VariantResult;
  on: VariantResult;
  intent_only: VariantResult;
  /** (off − on) ÷ off × 100, on median requests per second. */
  overhead_percent: number;
  /** (off − intent_only) ÷ off × 100. */
  intent_overhead_percent: number;
  /** Bare fastify + better-sqlite3, one fsync'd row per POST (absent in results from before issue 12). */
  reference?: VariantResult;
  /** off ÷ reference on median writes per second (target ≥ 1.0). */
  post_ratio_vs_reference?: number;
  /** on ÷ reference. */
  post_on_ratio_vs_reference?: number;
  connections: number;
  seconds: number;
}

async function target(pop: BenchPop): Promise<{ url: string; token: string }> {
  const c = new ApiClient(pop.url, 1);
  const v = await c.createVault(pop.adminToken);
  await c.close();
  return { url: pop.url, token: v.owner_token };
}

function medianOf(rounds: LoadResult[]): VariantResult {
  return { req_per_s: median(rounds.map((r) => r.req_per_s)), p50_ms: median(rounds.map((r) => r.latency_ms.p50)), p99_ms: median(rounds.map((r) => r.latency_ms.p99)), rounds };
}

/** Runs the three variants, interleaved. */
export async function writeOverhead(plan: BenchPlan): Promise<WriteOverheadResult> {
  const community = await benchCommunity();
  const on = await benchPair();
  const down = await benchPair();
  const ref = await startRefServer('write');
  try {
    await community.pop.start();
    await on.backup.start();
    await on.primary.start();
    await down.primary.start();
    const targets = { off: await target(community.pop), on: await target(on.primary), intent_only: await target(down.primary), reference: { url: ref.url, token: 'none' } };
    const rounds: Record<keyof typeof targets, LoadResult[]> = { off: [], on: [], intent_only: [], reference: [] };
    const variants = ['off', 'on', 'intent_only', 'reference'] as const;
    const body = entryBody('overhead');
    const run = (k: keyof typeof targets, duration: number) =>
      load({ url: `${targets[k].url}/api/entries`, method: 'POST', headers: { authorization: `Bearer ${targets[k].token}`, 'content-type': 'application/json' }, body, connections: plan.connections, duration });
    for (const k of variants) await run(k, 1); // warm-up (JIT, SQLite caches), discarded
    for (let r = 0; r < plan.overheadRounds; r++) {
      for (const k of variants) {
        process.stderr.write(`  writes, replication ${k}, round ${r + 1}/${plan.overheadRounds}…\n`);
        rounds[k].push(await run(k, plan.loadSeconds));
      }
    }
    const res = { off: medianOf(rounds.off), on: medianOf(rounds.on), intent_only: medianOf(rounds.intent_only), reference: medianOf(rounds.reference) };
    return {
      ...res,
      overhead_percent: ((res.off.req_per_s - res.on.req_per_s) / res.off.req_per_s) * 100,
      intent_overhead_percent: ((res.off.req_per_s - res.intent_only.req_per_s) / res.off.req_per_s) * 100,
      post_ratio_vs_reference: res.off.req_per_s / res.reference.req_per_s,
      post_on_ratio_vs_reference: res.on.req_per_s / res.reference.req_per_s,
      connections: plan.connections,
      seconds: plan.loadSeconds,
    };
  } finally {
    await community.cleanup();
    await on.cleanup();
    await down.cleanup();
    await ref.stop();
  }
}
