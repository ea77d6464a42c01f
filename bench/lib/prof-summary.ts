/**
 * `node dist/bench/lib/prof-summary.js <file.cpuprofile> [--from=S] [--to=S] [--top=N]`: summarises a V8
 * CPU profile (written by `node --cpu-prof`, e.g. with `CLAVITOR_BENCH_CPU_PROF=DIR npm run bench`)
 * by self time per function, and by total (inclusive) time of Clavitor's own functions (files
 * under `src/`), as percentages of the sampled time in the window [from, to] seconds since the
 * profile's start (default: the whole profile). Frames are grouped as `ours` (src/), `bench`,
 * `deps` (node_modules), `node` (node: internals) and `vm` (program, idle, GC, native).
 *
 * Benchmark-only code: never part of the product or of `npm test`.
 */
import { readFileSync } from 'node:fs';

interface CallFrame { functionName: string; url: string; lineNumber: number }
interface ProfileNode { id: number; callFrame: CallFrame; children?: number[] }
interface CpuProfile { nodes: ProfileNode[]; startTime: number; endTime: number; samples: number[]; timeDeltas: number[] }

/** One row of the summary: a function (name and place) and its share of the window, in percent. */
export interface ProfileRow { frame: string; group: string; percent: number; ms: number }

/** The group of a frame's script URL: ours, bench, deps, node or vm. */
function groupOf(url: string): string {
  if (url.includes('/node_modules/')) return 'deps';
  if (url.includes('/src/')) return 'ours';
  if (url.includes('/bench/')) return 'bench';
  if (url.startsWith('node:')) return 'node';
  return 'vm';
}

function label(f: CallFrame): string {
  const file = f.url ? f.url.replace(/^.*\/(node_modules\/(?:@[^/]+\/)?[^/]+|src|bench)\//, '$1/') : '';
  return `${f.functionName || '(anonymous)'}${file ? ` ${file}:${f.lineNumber + 1}` : ''}`;
}

/**
 * Summarises `profile` over [fromS, toS] seconds since its start: self time per function and
 * inclusive time per function of ours (each function counted once per sample, recursion aside),
 * both sorted by time, and the window's sampled milliseconds.
 */
export function summarise(profile: CpuProfile, fromS = 0, toS = Infinity): { windowMs: number; self: ProfileRow[]; oursTotal: ProfileRow[]; groups: Record<string, number> } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, { group: string; us: number }>();
  const total = new Map<string, number>();
  const groups: Record<string, number> = {};
  let t = 0;
  let windowUs = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = profile.timeDeltas[i] ?? 0;
    t += dt;
    if (t / 1e6 < fromS || t / 1e6 > toS) continue;
    const next = profile.timeDeltas[i + 1] ?? dt; // a sample stands for the time until the next one
    windowUs += next;
    const leaf = byId.get(profile.samples[i]!)!;
    const g = groupOf(leaf.callFrame.url);
    const key = label(leaf.callFrame);
    const s = self.get(key) ?? { group: g, us: 0 };
    s.us += next;
    self.set(key, s);
    groups[g] = (groups[g] ?? 0) + next;
    const seen = new Set<string>();
    for (let id: number | undefined = leaf.id; id !== undefined; id = parent.get(id)) {
      const f = byId.get(id)!.callFrame;
      if (groupOf(f.url) !== 'ours') continue;
      const k = label(f);
      if (seen.has(k)) continue;
      seen.add(k);
      total.set(k, (total.get(k) ?? 0) + next);
    }
  }
  const pct = (us: number) => (windowUs ? (100 * us) / windowUs : 0);
  return {
    windowMs: windowUs / 1000,
    self: [...self].map(([frame, v]) => ({ frame, group: v.group, percent: pct(v.us), ms: v.us / 1000 })).sort((a, b) => b.ms - a.ms),
    oursTotal: [...total].map(([frame, us]) => ({ frame, group: 'ours', percent: pct(us), ms: us / 1000 })).sort((a, b) => b.ms - a.ms),
    groups: Object.fromEntries(Object.entries(groups).map(([g, us]) => [g, pct(us)])),
  };
}

function main(): void {
  const args = process.argv.slice(2);
  const file = args.find((a) => !a.startsWith('--'));
  if (!file) throw new Error('usage: prof-summary.js <file.cpuprofile> [--from=S] [--to=S] [--top=N]');
  const opt = (name: string, d: number) => Number(args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? d);
  const top = opt('top', 25);
  const s = summarise(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, opt('from', 0), opt('to', Infinity));
  const line = (r: ProfileRow) => `${r.percent.toFixed(1).padStart(5)} % ${r.ms.toFixed(0).padStart(6)} ms  [${r.group}] ${r.frame}`;
  process.stdout.write(`window: ${s.windowMs.toFixed(0)} ms sampled; by group: ${Object.entries(s.groups).map(([g, p]) => `${g} ${p.toFixed(1)} %`).join(', ')}\n`);
  process.stdout.write(`\nself time, top ${top}:\n${s.self.slice(0, top).map(line).join('\n')}\n`);
  process.stdout.write(`\nours, inclusive, top ${top}:\n${s.oursTotal.slice(0, top).map(line).join('\n')}\n`);
}

if (process.argv[1]?.endsWith('prof-summary.js')) main();
