/**
 * Runs the data generator (datagen.ts) in child processes, one part per core in parallel, then
 * merges the parts into a fresh primary database (one log) and, for the scale data set, gives the
 * backup its copy through the product's receiver. The primary's files are generated in a staging directory on tmpfs
 * (`/dev/shm`, when present) and copied to the pair's data directory on disk afterwards: creating
 * a SQLite file costs 15–40 ms on this machine's busy disk and ~1.5 ms on tmpfs. Generators also
 * run under `eatmydata` (Debian package; installed with apt-get when absent, as redis-server is)
 * so that fsyncs are no-ops when staging on disk. The result is `sync`ed before servers start.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { BENCH_TMP } from '../lib/pair.js';

const MAIN = resolve(import.meta.dirname, 'datagen-main.js');

let eatmydata: boolean | undefined;

/** True when eatmydata is available (installing it once if absent). */
function haveEatmydata(): boolean {
  if (eatmydata !== undefined) return eatmydata;
  const has = () => spawnSync('sh', ['-c', 'command -v eatmydata'], { stdio: 'ignore' }).status === 0;
  if (!has()) {
    process.stderr.write('  eatmydata is absent: apt-get install -y eatmydata…\n');
    spawnSync('apt-get', ['install', '-y', 'eatmydata'], { stdio: 'ignore' });
  }
  eatmydata = has();
  if (!eatmydata) process.stderr.write('  eatmydata unavailable: generating with fsync on (slower)\n');
  return eatmydata;
}

function runOne<T>(job: Record<string, unknown>): Promise<T> {
  const args = [process.execPath, MAIN, JSON.stringify(job)];
  const [cmd, ...rest] = haveEatmydata() ? ['eatmydata', ...args] : args;
  return new Promise((res, rej) => {
    const p = spawn(cmd!, rest, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.setEncoding('utf8');
    p.stdout.on('data', (d: string) => { out += d; });
    p.on('exit', (code) => {
      if (code !== 0) return rej(new Error(`datagen ${String(job.kind)} failed with status ${code}`));
      res(JSON.parse(out.trim().split('\n').at(-1)!) as T);
    });
  });
}

/** Splits `total` into `n` near-equal integers. */
const share = (total: number, n: number, k: number): number => Math.floor(total / n) + (k < total % n ? 1 : 0);

/** Data directories of `n` parts generated in parallel, under `stage`. */
function partDirs(stage: string, n: number): { dataDir: string }[] {
  return Array.from({ length: n }, (_, k) => ({ dataDir: join(stage, `part-${k}`) }));
}

const PARTS = Math.max(1, Math.min(cpus().length, 4));

/** A staging directory on tmpfs when available, else beside the benchmark data. */
function staging(): string {
  return mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : BENCH_TMP, 'clavitor-bench-gen-'));
}

/** Copies the staged data directory's contents into `dataDir` (on disk), then removes the stage. */
function unstage(stage: string, dataDir: string): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  execFileSync('cp', ['-r', ...readdirSync(stage).map((f) => join(stage, f)), dataDir]);
  rmSync(stage, { recursive: true, force: true });
}

/**
 * A primary with `revisions` revisions in its backlog over `vaults` vaults (backup never
 * acknowledged anything). Returns the backlog, the vault count and the generation time (s).
 */
export async function generateBacklogData(o: { dataDir: string; configFile: string; vaults: number; revisions: number }): Promise<{ backlog: number; vaults: number; seconds: number }> {
  const t0 = performance.now();
  const n = Math.min(PARTS, o.vaults);
  const stage = staging();
  const parts = partDirs(stage, n);
  await Promise.all(parts.map((p, k) => runOne({ kind: 'backlog', configFile: o.configFile, dataDir: p.dataDir, vaults: share(o.vaults, n, k), revisions: share(o.revisions, n, k) })));
  const merged = join(stage, 'data');
  const r = await runOne<{ backlog: number; vaults: number }>({ kind: 'merge', dataDir: merged, configFile: o.configFile, parts, marker: false });
  unstage(merged, o.dataDir);
  rmSync(stage, { recursive: true, force: true });
  execFileSync('sync');
  return { ...r, seconds: (performance.now() - t0) / 1000 };
}

/**
 * The scale data set in a pair's data directories: `vaults` vaults in sync on both POPs plus
 * `queued` revisions in the primary's backlog and the resync marker (see datagen.ts).
 */
export async function generateScaleData(o: { dataDir: string; backupDataDir: string; configFile: string; vaults: number; queued: number }): Promise<{ backlog: number; vaults: number; sample: { vault_id: string; owner_token: string }[]; seconds: number }> {
  const t0 = performance.now();
  const stage = staging();
  const parts = partDirs(stage, PARTS);
  const outs = await Promise.all(parts.map((p, k) => runOne<{ sample: { vault_id: string; owner_token: string }[] }>({ kind: 'scale-part', configFile: o.configFile, seed: k + 1, ...p, vaults: share(o.vaults, PARTS, k), queued: share(o.queued, PARTS, k) })));
  const merged = join(stage, 'data');
  const r = await runOne<{ backlog: number; vaults: number }>({ kind: 'merge', dataDir: merged, backupDataDir: o.backupDataDir, configFile: o.configFile, parts, marker: true });
  unstage(merged, o.dataDir);
  rmSync(stage, { recursive: true, force: true });
  execFileSync('sync');
  return { ...r, sample: outs.flatMap((x) => x.sample), seconds: (performance.now() - t0) / 1000 };
}
