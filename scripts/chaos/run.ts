/**
 * `npm run chaos -- --seconds N --seed S [--report PATH] [--keep] [--faults k1,k2]`: a
 * fault-injection run against a real POP pair (issue 8). `--faults` restricts the nemesis to some
 * kinds (see nemesis.ts), e.g. to reproduce a failure faster. Writes `PATH.json` and `PATH.md` (default
 * `docs/reliability/chaos-<seed>`), prints the summary, and exits 1 when any check fails (the run
 * directory with both POPs' data and logs is then kept and named in the report) — also when the
 * run observed too little (no acknowledged write, no role observation, too few completed faults) or
 * hit an anomaly — and 2 on a usage or harness error.
 */
import { relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { runChaos } from './chaos.js';
import { renderMarkdown, writeReport } from './report.js';
import { FAULT_KINDS, type FaultKind } from './types.js';

const ROOT = resolve(import.meta.dirname, '../..');

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    seed: { type: 'string', default: '1' },
    report: { type: 'string' },
    keep: { type: 'boolean', default: false },
    faults: { type: 'string' },
  },
});
const seconds = Number(values.seconds);
const seed = Number(values.seed);
if (!Number.isInteger(seconds) || seconds < 5 || !Number.isInteger(seed) || seed < 0) {
  process.stderr.write('usage: npm run chaos -- --seconds N (≥ 5) --seed S (integer ≥ 0) [--report PATH] [--keep] [--faults k1,k2]\n');
  process.exit(2);
}
const faults = values.faults?.split(',').map((k) => k.trim()) as FaultKind[] | undefined;
const unknownKind = faults?.find((k) => !FAULT_KINDS.includes(k));
if (unknownKind !== undefined) {
  process.stderr.write(`unknown fault kind "${unknownKind}"; kinds: ${FAULT_KINDS.join(', ')}\n`);
  process.exit(2);
}
const base = resolve(values.report ?? `${ROOT}/docs/reliability/chaos-${seed}`);

try {
  const report = await runChaos({ seconds, seed, keep: values.keep, ...(faults ? { faults } : {}), log: (l) => process.stderr.write(`chaos: ${l}\n`) });
  const out = writeReport(base, report);
  process.stdout.write(renderMarkdown(report));
  process.stderr.write(`chaos: report written to ${relative(process.cwd(), out.json)} and ${relative(process.cwd(), out.md)}\n`);
  process.exit(report.passed ? 0 : 1);
} catch (e) {
  process.stderr.write(`chaos: harness error: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(2);
}
