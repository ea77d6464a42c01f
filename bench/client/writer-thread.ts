/**
 * Worker-thread writer experiment (issue 12 item 2: "Measure whether running the writer on a
 * worker thread (reads stay on the main thread under WAL) improves throughput or read latency
 * under mixed load; keep it if it does"). `node dist/bench/client/writer-thread.js [--seconds=S]
 * [--rounds=N]` (also `npm run bench -- --only=writer-thread`).
 *
 * Two variants of the same server (writer-thread-server.ts, the product's group committer),
 * started one after the other in alternating rounds (main, worker, main, worker, …) so that
 * machine noise falls on both: the writer on the main thread, and on a worker_threads Worker with
 * its own connection. Each round is a mixed load of `connections` connections, half of them
 * writing (POST, one revision + audit row per request, group commit with fsync) and half reading
 * (GET of one of the seeded rows, decrypted), closed loop, `seconds` long, after a 1 s warm-up.
 *
 * Figures per variant, per round and as the median over rounds: writes per second, write latency
 * p50/p99, reads per second, read latency p50/p99 (ms), the server's CPU time per answer (µs,
 * all threads), the 1-minute load average at the round's start.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BENCH_TMP } from '../lib/pair.js';
import { freePort } from '../../test/kit/ports.js';
import { load, type LoadResult } from '../lib/load.js';
import { cpuSecondsOf } from '../lib/proc.js';
import { entryBody } from '../lib/client.js';
import { loadAverage1 } from '../scale/scale.js';
import { untilListening } from './reference.js';

/** One variant's figures in one round. */
export interface WriterThreadRound {
  mode: 'main' | 'worker';
  writes: LoadResult;
  reads: LoadResult;
  /** Server CPU (all threads) per answer, µs. */
  cpu_us_per_answer: number;
  load_average: number;
}

/** Result of the experiment: every round and the medians per variant. */
export interface WriterThreadResult {
  seconds: number;
  connections: number;
  rounds: WriterThreadRound[];
  median: Record<'main' | 'worker', { writes_per_s: number; write_p50_ms: number; write_p99_ms: number; reads_per_s: number; read_p50_ms: number; read_p99_ms: number; cpu_us_per_answer: number }>;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function startServer(mode: 'main' | 'worker'): Promise<{ url: string; pid: number; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(BENCH_TMP, `clavitor-bench-writer-${mode}-`));
  const port = await freePort();
  const prof = process.env.CLAVITOR_BENCH_CPU_PROF;
  const args = [...(prof ? ['--cpu-prof', '--cpu-prof-dir', join(prof, `writer-${mode}`)] : []), resolve(import.meta.dirname, 'writer-thread-server.js'), mode, join(dir, 'data'), String(port)];
  const p: ChildProcess = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  await untilListening(p, `writer-thread server (${mode})`);
  return {
    url: `http://127.0.0.1:${port}`,
    pid: p.pid ?? 0,
    async stop() {
      // SIGTERM lets --cpu-prof write its profile; SIGKILL otherwise.
      if (p.exitCode === null && p.signalCode === null) await new Promise<void>((r) => { p.once('exit', () => r()); p.kill(prof ? 'SIGTERM' : 'SIGKILL'); });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function round(mode: 'main' | 'worker', seconds: number, connections: number): Promise<WriterThreadRound> {
  const s = await startServer(mode);
  try {
    const half = Math.max(1, Math.floor(connections / 2));
    const body = entryBody('w');
    const w = (duration: number) => load({ url: `${s.url}/w`, method: 'POST', headers: { 'content-type': 'application/json' }, body, connections: half, duration });
    const r = (duration: number) => load({ url: `${s.url}/r/${1 + Math.floor(Math.random() * 1000)}`, method: 'GET', connections: connections - half, duration });
    await Promise.all([w(1), r(1)]); // warm-up, discarded
    const la = loadAverage1();
    const c0 = cpuSecondsOf(s.pid);
    const [writes, reads] = await Promise.all([w(seconds), r(seconds)]);
    const cpu = ((cpuSecondsOf(s.pid) - c0) * 1e6) / Math.max(1, writes.ok + reads.ok);
    return { mode, writes, reads, cpu_us_per_answer: cpu, load_average: la };
  } finally {
    await s.stop();
  }
}

/** Runs `rounds` alternating rounds of both variants. */
export async function writerThread(o: { seconds: number; rounds: number; connections: number }): Promise<WriterThreadResult> {
  const rounds: WriterThreadRound[] = [];
  for (let i = 0; i < o.rounds; i++) {
    const order: ('main' | 'worker')[] = i % 2 === 0 ? ['main', 'worker'] : ['worker', 'main'];
    for (const mode of order) {
      process.stderr.write(`  round ${i + 1}: writer on the ${mode} thread, ${o.seconds} s…\n`);
      rounds.push(await round(mode, o.seconds, o.connections));
    }
  }
  const med = (mode: 'main' | 'worker') => {
    const rs = rounds.filter((r) => r.mode === mode);
    return {
      writes_per_s: median(rs.map((r) => r.writes.req_per_s)), write_p50_ms: median(rs.map((r) => r.writes.latency_ms.p50)), write_p99_ms: median(rs.map((r) => r.writes.latency_ms.p99)),
      reads_per_s: median(rs.map((r) => r.reads.req_per_s)), read_p50_ms: median(rs.map((r) => r.reads.latency_ms.p50)), read_p99_ms: median(rs.map((r) => r.reads.latency_ms.p99)),
      cpu_us_per_answer: median(rs.map((r) => r.cpu_us_per_answer)),
    };
  };
  return { seconds: o.seconds, connections: o.connections, rounds, median: { main: med('main'), worker: med('worker') } };
}

if (process.argv[1]?.endsWith('writer-thread.js')) {
  const opt = (name: string, d: number) => Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? d);
  const res = await writerThread({ seconds: opt('seconds', 5), rounds: opt('rounds', 3), connections: 10 });
  process.stdout.write(JSON.stringify({ ...res, rounds: res.rounds.map((r) => ({ mode: r.mode, load: r.load_average, writes_per_s: r.writes.req_per_s, w_p99: r.writes.latency_ms.p99, reads_per_s: r.reads.req_per_s, r_p50: r.reads.latency_ms.p50, r_p99: r.reads.latency_ms.p99, cpu_us: r.cpu_us_per_answer })) }, null, 2) + '\n');
}
