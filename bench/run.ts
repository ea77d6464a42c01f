/**
 * `npm run bench [-- --quick] [-- --only=name,name | --report-only]`: runs the benchmarks of issue 7 item 5, each
 * writing `<results>/<name>.json`, then writes `<results>/latest.md` (budgets of item 6 with the
 * measured figure, pass/miss and the Redis ratio, then every measurement) and `<results>/lag.svg`.
 * Results go to bench/results/ (full run) or bench/results/quick/ (`--quick`: the same code paths
 * with shorter durations and smaller sizes, a smoke test of a few minutes). A full run also
 * refreshes the results block of docs/performance.md. `--report-only` rebuilds the report from the
 * results on disk without running anything. Never part of `npm test`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { machine } from './lib/machine.js';
import { FULL, QUICK } from './lib/options.js';
import { replicationLag } from './replication/replication-lag.js';
import { redisLag } from './redis/redis-lag.js';
import { catchUp } from './replication/catch-up.js';
import { redisCatchUp } from './redis/redis-catch-up.js';
import { writeOverhead } from './replication/write-overhead.js';
import { redisWrites } from './redis/redis-writes.js';
import { clientApi } from './client/client-api.js';
import { idle } from './replication/idle.js';
import { memoryBacklog } from './replication/memory-backlog.js';
import { redisMemory } from './redis/redis-memory.js';
import { scale, type ScaleRun } from './scale/scale.js';
import { writerThread } from './client/writer-thread.js';
import { ensureRedisServer } from './redis/redis.js';
import { writeReport, type BenchFile } from './report.js';
import { nowMs } from './lib/stats.js';

const ROOT = resolve(import.meta.dirname, '../..');
const quick = process.argv.includes('--quick');
const reportOnly = process.argv.includes('--report-only');
const only = reportOnly ? [] : process.argv.find((a) => a.startsWith('--only='))?.slice(7).split(',');
const plan = quick ? QUICK : FULL;
const OUT = join(ROOT, 'bench/results', quick ? 'quick' : '');

const BENCHMARKS: [string, () => Promise<unknown>][] = [
  ['replication-lag', () => replicationLag(plan)],
  ['redis-lag', () => redisLag(plan)],
  ['write-overhead', () => writeOverhead(plan)],
  ['redis-writes', () => redisWrites(plan)],
  ['client-api', () => clientApi(plan)],
  ['idle', () => idle(plan)],
  ['catch-up', () => catchUp(plan.catchUpRevisions)],
  ['redis-catch-up', () => redisCatchUp(plan.catchUpRevisions)],
  ['memory-backlog', () => memoryBacklog(plan)],
  ['redis-memory', () => redisMemory(plan.memoryBacklog)],
  ['writer-thread', () => writerThread(plan.quick ? { seconds: 2, rounds: 1, connections: plan.connections } : { seconds: 5, rounds: 3, connections: plan.connections })],
  ['scale', async () => {
    const runs: ScaleRun[] = [];
    for (const v of plan.scaleVaults) runs.push(await scale(v, plan.scaleRevisions));
    return { runs };
  }],
];

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  if (quick) writeFileSync(join(OUT, '.gitignore'), '# smoke-test results are not kept\n*\n');
  const m = machine();
  if (!reportOnly) process.stderr.write(`${ensureRedisServer()}\n`);
  const t0 = nowMs();
  for (const [name, run] of BENCHMARKS) {
    if (only && !only.includes(name)) continue;
    process.stderr.write(`${name}…\n`);
    const s = nowMs();
    const file: BenchFile<unknown> = { name, mode: quick ? 'quick' : 'full', machine: m, seconds: 0 };
    try {
      file.result = await run();
    } catch (e) {
      file.error = (e as Error).stack ?? String(e);
      process.stderr.write(`  ${name} failed: ${file.error}\n`);
    }
    file.seconds = (nowMs() - s) / 1000;
    writeFileSync(join(OUT, `${name}.json`), JSON.stringify(file, null, 2) + '\n');
    process.stderr.write(`  ${name}: ${file.seconds.toFixed(1)} s\n`);
  }
  const total = (nowMs() - t0) / 1000;
  // The whole run's duration, kept for reports rebuilt by a later `--only` run.
  if (!only) writeFileSync(join(OUT, 'run.json'), JSON.stringify({ mode: quick ? 'quick' : 'full', seconds: total, machine: m }, null, 2) + '\n');
  const markdown = writeReport(OUT, { docs: quick ? undefined : join(ROOT, 'docs/performance.md') });
  process.stdout.write(markdown);
  process.stderr.write(`bench: ${(total / 60).toFixed(1)} min; results in ${OUT}\n`);
}

await main();
