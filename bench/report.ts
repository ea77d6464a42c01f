/**
 * Builds the report from the JSON files of a results directory: `latest.md` (every target of
 * issue 12 with its figure, the reference of the same run and pass/miss; every budget of issue 7
 * item 6 with the measured figure, pass/miss and the Redis ratio; then all measurements)
 * and `lag.svg`. Reads whatever results exist, so a partial re-run (`--only`) still reports all.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Machine } from './lib/machine.js';
import type { LagRun } from './replication/lag-run.js';
import type { CatchUpResult } from './replication/catch-up.js';
import type { RedisCatchUpResult } from './redis/redis-catch-up.js';
import type { WriteOverheadResult } from './replication/write-overhead.js';
import type { RedisWritesResult } from './redis/redis-writes.js';
import type { ClientApiResult } from './client/client-api.js';
import type { IdleResult } from './replication/idle.js';
import type { MemoryResult } from './replication/memory-backlog.js';
import type { ScaleRun } from './scale/scale.js';
import type { WriterThreadResult } from './client/writer-thread.js';
import { lagSvg } from './lib/lag-svg.js';

/** What every benchmark JSON file holds. */
export interface BenchFile<T> {
  name: string;
  mode: 'full' | 'quick';
  machine: Machine;
  /** Wall time of the benchmark, seconds. */
  seconds: number;
  result?: T;
  error?: string;
}

function read<T>(dir: string, name: string): BenchFile<T> | undefined {
  const f = join(dir, `${name}.json`);
  return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as BenchFile<T>) : undefined;
}

const n = (x: number | undefined, d = 1): string => (x === undefined || !Number.isFinite(x) ? '—' : x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }));
const ratio = (a: number | undefined, b: number | undefined): string => (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0 ? '—' : `${n(a / b, a / b >= 10 ? 0 : 2)}×`);
const verdict = (ok: boolean | undefined): string => (ok === undefined ? '—' : ok ? '**pass**' : '**miss**');

/** Renders latest.md and lag.svg from the results in `dir`. */
export function report(dir: string): { markdown: string; svg: string } {
  const runFile = join(dir, 'run.json');
  const totalSeconds = existsSync(runFile) ? (JSON.parse(readFileSync(runFile, 'utf8')) as { seconds: number }).seconds : undefined;
  const lag = read<{ runs: LagRun[] }>(dir, 'replication-lag');
  const rlag = read<{ runs: LagRun[] }>(dir, 'redis-lag');
  const cu = read<CatchUpResult>(dir, 'catch-up');
  const rcu = read<RedisCatchUpResult>(dir, 'redis-catch-up');
  const wo = read<WriteOverheadResult>(dir, 'write-overhead');
  const rw = read<RedisWritesResult>(dir, 'redis-writes');
  const api = read<ClientApiResult>(dir, 'client-api');
  const idle = read<IdleResult>(dir, 'idle');
  const mem = read<MemoryResult>(dir, 'memory-backlog');
  const rmem = read<{ keys: number; rss_mib: number; peak_rss_mib: number; used_memory_mib: number }>(dir, 'redis-memory');
  const sc = read<{ runs: ScaleRun[] }>(dir, 'scale');
  const wt = read<WriterThreadResult>(dir, 'writer-thread');
  const files = [lag, rlag, cu, rcu, wo, rw, api, idle, mem, rmem, sc].filter((f) => f !== undefined) as BenchFile<unknown>[];
  const m = files[0]?.machine;
  const mode = files[0]?.mode ?? 'full';

  const at = (runs: LagRun[] | undefined, rate: number) => runs?.find((r) => r.rate === rate);
  const c200 = at(lag?.result?.runs, 200);
  const r200 = at(rlag?.result?.runs, 200);
  const mib = mem?.result ? Math.max(mem.result.after_startup.rss_mib, mem.result.after_first_attempt.rss_mib) : undefined;
  const big = sc?.result?.runs.at(-1);
  const small = sc?.result?.runs.find((r) => r.vaults === 20);
  const ip = idle?.result?.clavitor;
  const ir = idle?.result?.redis;
  const lines: string[] = [];
  lines.push(`# Benchmark results (${mode} run)`, '');
  if (m) lines.push(`Machine: ${m.cores} × ${m.cpu_model}, ${m.memory_gib} GiB, Node ${m.node}, Linux ${m.kernel}; load average at start ${m.load_average_at_start.join(' / ')}; ${m.date}${totalSeconds ? `; the benchmarks took ${n(totalSeconds / 60, 1)} min` : ''}.`, '');
  for (const f of files) if (f.error) lines.push(`- **${f.name} failed**: ${f.error}`);
  lines.push(...targetRows({ c200, r200, cu: cu?.result, rcu: rcu?.result, wo: wo?.result, api: api?.result, big, idle: ip, mib, backlog: mem?.result?.backlog, small }), '');
  lines.push('## Budgets (issue 7 item 6)', '');
  lines.push('| budget | Clavitor | pass/miss | Redis 7, same run | Clavitor ÷ Redis |', '| --- | --- | --- | --- | --- |');
  lines.push(`| replication lag p99 ≤ 20 ms at 200 writes/s | ${n(c200?.lag_ms.p99)} ms (p50 ${n(c200?.lag_ms.p50)}, max ${n(c200?.lag_ms.max)}; ${n(c200?.achieved_writes_per_s, 0)} writes/s achieved) | ${verdict(c200 && c200.lag_ms.p99 <= 20)} | ${n(r200?.lag_ms.p99)} ms | ${ratio(c200?.lag_ms.p99, r200?.lag_ms.p99)} |`);
  lines.push(`| catch-up ≥ 20,000 revisions/s (${n(cu?.result?.revisions, 0)} queued) | ${n(cu?.result?.revisions_per_second, 0)} revisions/s (${n(cu?.result?.seconds, 1)} s) | ${verdict(cu?.result && cu.result.revisions_per_second >= 20_000)} | ${n(rcu?.result?.keys_per_second, 0)} keys/s (${n(rcu?.result?.seconds, 1)} s) | ${ratio(cu?.result?.revisions_per_second, rcu?.result?.keys_per_second)} |`);
  const rOver = rw?.result?.overhead_percent;
  lines.push(`| replication overhead on write throughput ≤ 10 % | ${n(wo?.result?.overhead_percent)} % (${n(wo?.result?.off.req_per_s, 0)} → ${n(wo?.result?.on.req_per_s, 0)} writes/s) | ${verdict(wo?.result && wo.result.overhead_percent <= 10)} | ${n(rOver)} % (${n(rw?.result?.off.req_per_s, 0)} → ${n(rw?.result?.on.req_per_s, 0)} SET/s) | ${rOver !== undefined && rOver > 1 ? ratio(wo?.result?.overhead_percent, rOver) : '— (Redis ≈ 0 %)'} |`);
  lines.push(`| GET entry ≥ 6,000 req/s | ${n(api?.result?.get.req_per_s, 0)} req/s | ${verdict(api?.result && api.result.get.req_per_s >= 6000)} | ${n(rw?.result?.get.req_per_s, 0)} GET/s | ${ratio(api?.result?.get.req_per_s, rw?.result?.get.req_per_s)} |`);
  lines.push(`| GET entry p99 ≤ 10 ms | ${n(api?.result?.get.latency_ms.p99)} ms | ${verdict(api?.result && api.result.get.latency_ms.p99 <= 10)} | ${n(rw?.result?.get.latency_ms.p99, 2)} ms | ${ratio(api?.result?.get.latency_ms.p99, rw?.result?.get.latency_ms.p99)} |`);
  lines.push(`| idle: 0 pushes over ${idle?.result?.seconds ?? 60} s | ${ip ? `${ip.pushes_sent} sent, ${ip.pushes_received} received` : '—'} | ${verdict(ip && ip.pushes_sent === 0 && ip.pushes_received === 0)} | ${ir ? `${ir.repl_offset_bytes} bytes of replication stream (PINGs)` : '—'} | — |`);
  lines.push(`| idle: 0 wake-ups over ${idle?.result?.seconds ?? 60} s | ${ip ? `primary ${ip.primary.wakeups.main_voluntary}, backup ${ip.backup.wakeups.main_voluntary} (main thread); replication timers fired: ${ip.primary.replication_timers_fired ?? 0} + ${ip.backup.replication_timers_fired ?? 0}` : '—'} | ${verdict(ip && ip.primary.wakeups.main_voluntary === 0 && ip.backup.wakeups.main_voluntary === 0)} | ${ir ? `primary ${ir.primary.wakeups.main_voluntary}, replica ${ir.replica.wakeups.main_voluntary}` : '—'} | ${ratio(ip?.primary.wakeups.main_voluntary, ir?.primary.wakeups.main_voluntary)} |`);
  lines.push(`| RSS ≤ 256 MiB with a ${n(mem?.result?.backlog, 0)}-revision backlog | ${n(mib)} MiB (peak ${n(mem?.result?.after_first_attempt.peak_rss_mib)}; ${n(mem?.result?.during_catch_up.rss_mib)} MiB during catch-up) | ${verdict(mib !== undefined && mib <= 256)} | ${n(rmem?.result?.rss_mib)} MiB (its data set in memory) | ${ratio(mib, rmem?.result?.rss_mib)} |`);
  const checked = big?.resync_check === 'resync';
  lines.push(`| start-up with ${n(big?.vaults, 0)} vaults ≤ 10 s | ${big ? (checked ? `${n(big.primary.resync_checked_s, 2)} s to resync check done` : `resync check **failed** after ${n(big.primary.resync_checked_s, 2)} s (backup positions timed out)`) : '—'} (serving after ${n(big?.primary.serving_s, 2)} s) | ${verdict(big && checked && big.primary.resync_checked_s <= 10)} | — (no per-tenant files) | — |`);
  lines.push('');
  lines.push('## All measurements', '');
  lines.push('| measurement | Clavitor | Redis 7 | Clavitor ÷ Redis |', '| --- | --- | --- | --- |');
  for (const c of lag?.result?.runs ?? []) {
    const r = at(rlag?.result?.runs, c.rate);
    for (const [who, x] of [['Clavitor', c], ['Redis', r]] as const) {
      if (x && (x.failed > 0 || x.unseen > 0)) lines.push(`| lag at ${x.rate} writes/s (${who}): **${x.failed} write(s) failed, ${x.unseen} acknowledged but never seen on the replica** (counted in the percentiles as ≥ ${n(x.unseen_counted_as_ms ?? NaN, 0)} ms) | | | |`);
    }
    lines.push(`| lag at ${c.rate} writes/s offered, ${c.seconds} s: p50 / p99 / max (ms) | ${n(c.lag_ms.p50)} / ${n(c.lag_ms.p99)} / ${n(c.lag_ms.max)} (±${n(c.lag_error_ms.mean)}; ${n(c.achieved_writes_per_s, 0)} writes/s achieved, ack p99 ${n(c.write_latency_ms.p99, 0)} ms) | ${r ? `${n(r.lag_ms.p50)} / ${n(r.lag_ms.p99)} / ${n(r.lag_ms.max)} (${n(r.achieved_writes_per_s, 0)}/s)` : '—'} | ${ratio(c.lag_ms.p99, r?.lag_ms.p99)} (p99) |`);
  }
  if (cu?.result) lines.push(`| catch-up: ${n(cu.result.revisions, 0)} revisions over ${cu.result.vaults} vaults, batch ${cu.result.batch_size} | ${n(cu.result.seconds, 2)} s, ${n(cu.result.revisions_per_second, 0)}/s; CPU primary ${n(cu.result.cpu_seconds.primary)} s, backup ${n(cu.result.cpu_seconds.backup)} s | ${rcu?.result ? `${n(rcu.result.seconds, 2)} s, ${n(rcu.result.keys_per_second, 0)}/s` : '—'} | ${ratio(cu.result.seconds, rcu?.result?.seconds)} (time) |`);
  if (wo?.result) {
    const w = wo.result;
    lines.push(`| writes/s, replication off (community) | ${n(w.off.req_per_s, 0)} (p50 ${n(w.off.p50_ms, 0)} ms, p99 ${n(w.off.p99_ms, 0)} ms) | ${n(rw?.result?.off.req_per_s, 0)} (p99 ${n(rw?.result?.off.p99_ms, 2)} ms) | ${ratio(w.off.req_per_s, rw?.result?.off.req_per_s)} |`);
    lines.push(`| writes/s, replication on (backup up) | ${n(w.on.req_per_s, 0)} (p50 ${n(w.on.p50_ms, 0)} ms, p99 ${n(w.on.p99_ms, 0)} ms) | ${n(rw?.result?.on.req_per_s, 0)} (p99 ${n(rw?.result?.on.p99_ms, 2)} ms) | ${ratio(w.on.req_per_s, rw?.result?.on.req_per_s)} |`);
    if (w.reference) lines.push(`| writes/s, bare fastify + better-sqlite3, one fsync'd row per POST (reference) | ${n(w.reference.req_per_s, 0)} (p50 ${n(w.reference.p50_ms, 0)} ms, p99 ${n(w.reference.p99_ms, 0)} ms); Clavitor off ÷ reference ${ratio(w.off.req_per_s, w.reference.req_per_s)}, on ÷ reference ${ratio(w.on.req_per_s, w.reference.req_per_s)} | — | — |`);
    lines.push(`| writes/s, backlog intent only (backup down) | ${n(w.intent_only.req_per_s, 0)} (p99 ${n(w.intent_only.p99_ms, 0)} ms; ${n(w.intent_overhead_percent)} % below off) | — | — |`);
  }
  if (api?.result) {
    const a = api.result;
    lines.push(`| GET entry: req/s, p50 / p99 ms | ${n(a.get.req_per_s, 0)}, ${n(a.get.latency_ms.p50)} / ${n(a.get.latency_ms.p99)} | ${n(rw?.result?.get.req_per_s, 0)}, ${n(rw?.result?.get.latency_ms.p50, 2)} / ${n(rw?.result?.get.latency_ms.p99, 2)} | ${ratio(a.get.req_per_s, rw?.result?.get.req_per_s)} |`);
    if (a.reference_get) lines.push(`| GET entry, bare fastify + better-sqlite3 + AES-256-GCM (reference): req/s, p50 / p99 ms | ${n(a.reference_get.req_per_s, 0)}, ${n(a.reference_get.latency_ms.p50)} / ${n(a.reference_get.latency_ms.p99)}; Clavitor ÷ reference ${ratio(a.get.req_per_s, a.reference_get.req_per_s)} | — | — |`);
    if (a.cpu_us_per_request) lines.push(`| server CPU per answer (µs): GET Clavitor / GET reference / PUT Clavitor | ${n(a.cpu_us_per_request.get, 0)} / ${n(a.cpu_us_per_request.reference_get, 0)} / ${n(a.cpu_us_per_request.put, 0)}; reference ÷ Clavitor on GET ${ratio(a.cpu_us_per_request.reference_get, a.cpu_us_per_request.get)} | — | — |`);
    lines.push(`| PUT entry (Redis: SET): req/s, p50 / p99 ms | ${n(a.put.req_per_s, 0)}, ${n(a.put.latency_ms.p50)} / ${n(a.put.latency_ms.p99)} (${a.put.non_2xx} non-2xx) | ${n(rw?.result?.set.req_per_s, 0)}, ${n(rw?.result?.set.latency_ms.p50, 2)} / ${n(rw?.result?.set.latency_ms.p99, 2)} | ${ratio(a.put.req_per_s, rw?.result?.set.req_per_s)} |`);
  }
  if (ip && ir) lines.push(`| idle ${idle!.result!.seconds} s: wake-ups all threads (primary / backup) | ${ip.primary.wakeups.all_voluntary} / ${ip.backup.wakeups.all_voluntary}; JS timers fired: ${JSON.stringify(ip.primary.timers_fired)} / ${JSON.stringify(ip.backup.timers_fired)} | ${ir.primary.wakeups.all_voluntary} / ${ir.replica.wakeups.all_voluntary} | ${ratio(ip.primary.wakeups.all_voluntary, ir.primary.wakeups.all_voluntary)} |`);
  if (mem?.result) {
    const r = mem.result;
    lines.push(`| memory, ${n(r.backlog, 0)} backlog: RSS after start-up / after first push attempt / after ${r.during_catch_up.seconds} s of catch-up (MiB) | ${n(r.after_startup.rss_mib)} / ${n(r.after_first_attempt.rss_mib)} / ${n(r.during_catch_up.rss_mib)} (peak ${n(r.during_catch_up.peak_rss_mib)}); GET /api/status ${n(r.status_ms)} ms; start-up ${n(r.startup_seconds, 2)} s | ${n(rmem?.result?.rss_mib)} (${n(rmem?.result?.keys, 0)} keys) | ${ratio(r.after_first_attempt.rss_mib, rmem?.result?.rss_mib)} |`);
  }
  for (const s of sc?.result?.runs ?? []) {
    lines.push(`| ${n(s.vaults, 0)} vaults: primary listening / serving / resync check ${s.resync_check === 'resync' ? 'done' : 'FAILED'} (s) | ${n(s.primary.listening_s, 2)} / ${n(s.primary.serving_s, 2)} / ${n(s.primary.resync_checked_s, 2)}; backup start-up ${n(s.backup_startup_seconds, 2)} s${s.backup_positions_ms >= 0 ? `; backup positions scan ${n(s.backup_positions_ms, 0)} ms` : ''} | — | — |`);
    lines.push(`| ${n(s.vaults, 0)} vaults: replication of ${n(s.replication.revisions, 0)} revisions in random vaults${s.replication.completed ? '' : ' (INCOMPLETE at the deadline)'} | ${n(s.replication.revisions_per_second, 0)} revisions/s (${n(s.replication.seconds, 1)} s; CPU primary ${n(s.replication.cpu_seconds.primary)} s, backup ${n(s.replication.cpu_seconds.backup)} s)${s.data_dir_bytes ? `; data directories ${n(s.data_dir_bytes.primary / 2 ** 20, 1)} / ${n(s.data_dir_bytes.backup / 2 ** 20, 1)} MiB` : ''}${s.primary.first_write_s !== undefined ? `; first write accepted at ${n(s.primary.first_write_s, 2)} s` : ''}${s.load_average ? `; load ${n(s.load_average.start)} → ${n(s.load_average.end)}` : ''} | — | — |`);
  }
  if (wt?.result) {
    const w = wt.result;
    for (const mode of ['main', 'worker'] as const) {
      const m = w.median[mode];
      lines.push(`| writer on the ${mode} thread (experiment, issue 12 item 2; ${w.connections / 2} writing + ${w.connections / 2} reading connections, median of ${w.rounds.filter((r) => r.mode === mode).length} × ${w.seconds} s; load ${w.rounds.filter((r) => r.mode === mode).map((r) => n(r.load_average)).join(', ')}) | ${n(m.writes_per_s, 0)} writes/s (p99 ${n(m.write_p99_ms, 0)} ms), ${n(m.reads_per_s, 0)} reads/s (p50 ${n(m.read_p50_ms, 0)} / p99 ${n(m.read_p99_ms, 0)} ms), ${n(m.cpu_us_per_answer, 0)} µs CPU per answer | — | — |`);
    }
  }
  lines.push('', 'Plot of lag over time: [lag.svg](lag.svg). Method and measurement error of each figure: docs/performance.md.');
  const svg = lagSvg(lag?.result?.runs ?? [], rlag?.result?.runs ?? [], `Replication lag over time, ${mode} run (solid: Clavitor, dashed: Redis 7 appendfsync always)`);
  return { markdown: lines.join('\n') + '\n', svg };
}

/** What `targetRows` reads: the parsed results (any may be missing). */
interface TargetInputs {
  c200: LagRun | undefined;
  r200: LagRun | undefined;
  cu: CatchUpResult | undefined;
  rcu: RedisCatchUpResult | undefined;
  wo: WriteOverheadResult | undefined;
  api: ClientApiResult | undefined;
  big: ScaleRun | undefined;
  /** The same scale run over 20 vaults (reference of the 100,000-vault replication rate). */
  small: ScaleRun | undefined;
  idle: IdleResult['clavitor'] | undefined;
  mib: number | undefined;
  backlog: number | undefined;
}

/**
 * The table of issue 12's targets ("Targets"), each with its figure, the reference measured in
 * the same run, and pass/miss. A target this run did not measure says so (no verdict).
 */
export function targetRows(x: TargetInputs): string[] {
  const rows: string[] = ['## Targets (issue 12)', '', '| target | Clavitor | reference, same run | ratio | pass/miss |', '| --- | --- | --- | --- | --- |'];
  const wo = x.wo;
  const ref = wo?.reference;
  rows.push(`| \`POST /api/entries\` ≥ 1.0× bare fastify + better-sqlite3, one fsync'd row per commit (${wo?.connections ?? 10} connections) | ${n(wo?.off.req_per_s, 0)} writes/s (community) | ${n(ref?.req_per_s, 0)} writes/s | ${ratio(wo?.off.req_per_s, ref?.req_per_s)} | ${verdict(wo && ref ? wo.off.req_per_s / ref.req_per_s >= 1.0 : undefined)} |`);
  const a = x.api;
  const rg = a?.reference_get;
  rows.push(`| \`GET /api/entries/{id}\` ≥ 0.5× bare fastify + better-sqlite3 + AES-256-GCM (${rg?.connections ?? 10} connections) | ${n(a?.get.req_per_s, 0)} req/s (commercial primary, backup up) | ${n(rg?.req_per_s, 0)} req/s | ${ratio(a?.get.req_per_s, rg?.req_per_s)} | ${verdict(a && rg ? a.get.req_per_s / rg.req_per_s >= 0.5 : undefined)} |`);
  rows.push(`| write throughput, replication on ≥ 0.9× the community edition | ${n(wo?.on.req_per_s, 0)} writes/s | ${n(wo?.off.req_per_s, 0)} writes/s (community) | ${ratio(wo?.on.req_per_s, wo?.off.req_per_s)} | ${verdict(wo ? wo.on.req_per_s / wo.off.req_per_s >= 0.9 : undefined)} |`);
  const c = x.c200;
  const r = x.r200;
  rows.push(`| lag p99 at 200 writes/s through the backup's client API, one poller: ≤ 3× Redis and ≤ 20 ms | ${n(c?.lag_ms.p99)} ms (p50 ${n(c?.lag_ms.p50)}) | Redis 7, appendfsync always, same method: ${n(r?.lag_ms.p99)} ms | ${ratio(c?.lag_ms.p99, r?.lag_ms.p99)} | ${verdict(c && r ? c.lag_ms.p99 <= 3 * r.lag_ms.p99 && c.lag_ms.p99 <= 20 : undefined)} |`);
  rows.push(`| catch-up of ${n(x.cu?.revisions, 0)} revisions ≤ 5× Redis's full sync of the same count | ${n(x.cu?.seconds, 2)} s | ${n(x.rcu?.seconds, 2)} s | ${ratio(x.cu?.seconds, x.rcu?.seconds)} | ${verdict(x.cu && x.rcu ? x.cu.seconds <= 5 * x.rcu.seconds : undefined)} |`);
  const big = x.big;
  const firstWrite = big?.primary.first_write_s ?? big?.primary.serving_s;
  const la = (s: ScaleRun | undefined) => (s?.load_average ? `; load ${n(s.load_average.start)} → ${n(s.load_average.end)}` : '');
  rows.push(`| ${n(big?.vaults, 0)} vaults: start-up to first accepted write ≤ 2 s | ${n(firstWrite, 2)} s${big?.primary.first_write_s === undefined ? ' (first GET answered)' : ''}${la(big)} | — | — | ${verdict(big && firstWrite !== undefined && big.vaults >= 100_000 ? firstWrite <= 2 : undefined)}${big && big.vaults < 100_000 ? ' (not at 100,000 vaults)' : ''} |`);
  const small = x.small;
  const mibOf = (b: number | undefined) => (b === undefined ? '—' : `${n(b / 2 ** 20, 1)} MiB`);
  const size = big?.data_dir_bytes ? `; data directory ${mibOf(big.data_dir_bytes.primary)} (primary), ${mibOf(big.data_dir_bytes.backup)} (backup)` : '; data directory size not measured';
  const bigRate = big?.replication.revisions_per_second;
  const smallRate = small?.replication.revisions_per_second;
  rows.push(`| writes at random over 100,000 vaults replicate at ≥ 0.8× the rate over 20 vaults; data directory size | ${n(bigRate, 0)} revisions/s over ${n(big?.vaults, 0)} vaults${size}${la(big)} | ${small ? `${n(smallRate, 0)} revisions/s over 20 vaults${la(small)}` : 'not measured by this run (no 20-vault run)'} | ${ratio(bigRate, smallRate)} | ${verdict(big && small && bigRate !== undefined && smallRate !== undefined && big.vaults >= 100_000 ? bigRate >= 0.8 * smallRate : undefined)} |`);
  rows.push(`| RSS ≤ 256 MiB with a 1,000,000-revision backlog | ${n(x.mib)} MiB (${n(x.backlog, 0)} backlog) | — | — | ${verdict(x.mib !== undefined && x.backlog !== undefined && x.backlog >= 1_000_000 ? x.mib <= 256 : undefined)} |`);
  rows.push(`| an idle pair sends nothing | ${x.idle ? `${x.idle.pushes_sent} pushes sent, ${x.idle.pushes_received} received` : '—'} | — | — | ${verdict(x.idle ? x.idle.pushes_sent === 0 && x.idle.pushes_received === 0 : undefined)} |`);
  return rows;
}

/**
 * Writes `latest.md` and `lag.svg` into `dir` and, when `docs` names docs/performance.md,
 * replaces its block between the bench markers with the table and the plot. Returns the markdown.
 */
export function writeReport(dir: string, opts: { docs?: string } = {}): string {
  const { markdown, svg } = report(dir);
  writeFileSync(join(dir, 'latest.md'), markdown);
  writeFileSync(join(dir, 'lag.svg'), svg);
  if (opts.docs && existsSync(opts.docs)) {
    const text = readFileSync(opts.docs, 'utf8');
    const start = '<!-- bench:results:start -->';
    const end = '<!-- bench:results:end -->';
    const i = text.indexOf(start);
    const j = text.indexOf(end);
    if (i >= 0 && j > i) {
      const body = markdown.replace(/^# .*\n\n/, '').replace('[lag.svg](lag.svg)', '[bench/results/lag.svg](../bench/results/lag.svg)').replace(/^## /gm, '### ');
      writeFileSync(opts.docs, `${text.slice(0, i + start.length)}\n${body}\n![Replication lag over time](../bench/results/lag.svg)\n\n${text.slice(j)}`);
    }
  }
  return markdown;
}
