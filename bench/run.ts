/**
 * `npm run bench`: runs the benchmarks, writes `bench/results/<name>.json` and
 * `bench/results/latest.md` (a short table), and prints the table. Never part of `npm test`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { catchUp, singleWriteLag } from './replication-lag.js';

const OUT = resolve(import.meta.dirname, '../../bench/results');

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  const machine = { cpus: cpus().length, cpu_model: cpus()[0]?.model ?? 'unknown', memory_gib: Math.round(totalmem() / 2 ** 30), node: process.version, date: new Date().toISOString() };
  const results: Record<string, unknown> = { machine };
  const rows: string[] = [];
  process.stderr.write('single-write lag (200 sequential writes)…\n');
  const single = await singleWriteLag(200);
  results.single_write_lag = single;
  rows.push(`| single write, primary 201 → readable on backup | p50 ${single.p50_ms.toFixed(1)} ms, p99 ${single.p99_ms.toFixed(1)} ms, max ${single.max_ms.toFixed(1)} ms |`);
  process.stderr.write('catch-up of 10,000 queued writes…\n');
  const cu = await catchUp(10_000, 100);
  results.catch_up_10k = cu;
  rows.push(`| catch-up, ${cu.n} revisions queued, batch_size ${cu.batch_size} | ${cu.seconds.toFixed(2)} s (${Math.round(cu.revisions_per_second)} revisions/s); last write visible after ${cu.last_write_visible_ms.toFixed(0)} ms |`);
  const table = [`Machine: ${machine.cpus} × ${machine.cpu_model}, ${machine.memory_gib} GiB, Node ${machine.node}, ${machine.date}`, '', '| benchmark | result |', '| --- | --- |', ...rows].join('\n');
  writeFileSync(join(OUT, 'replication.json'), JSON.stringify(results, null, 2) + '\n');
  writeFileSync(join(OUT, 'latest.md'), table + '\n');
  process.stdout.write(table + '\n');
}

await main();
