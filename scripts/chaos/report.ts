/**
 * The chaos report: a JSON document with everything the run recorded and concluded, and a
 * readable Markdown summary of it (operations by outcome, faults by kind, acknowledged / lost /
 * quarantined / unknown writes, acknowledged writes quarantined per unplanned failover with their
 * share of the run's acknowledged writes and the crashed primary's backlog just before the crash,
 * unavailability windows with their causes, and each check).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { quarantineByFailover, type CheckResult, type FailoverQuarantine, type WriteFate } from './checks.js';
import { FAULT_KINDS, type FaultRecord, type OpRecord } from './types.js';

/** A period longer than the threshold in which no write succeeded. */
export interface UnavailabilityWindow {
  start: number;
  end: number;
  durationMs: number;
  /** Faults overlapping the window, or a note when none did. */
  causes: string[];
}

/** The report document (the JSON file). */
export interface ChaosReport {
  seed: number;
  seconds: number;
  startedAt: string;
  durationMs: number;
  passed: boolean;
  finalPrimary: string;
  operations: { total: number; byKind: Record<string, Record<string, number>>; byOutcome: Record<string, number>; refusals: Record<string, number>; serverErrors: number };
  faults: { total: number; byKind: Record<string, number>; incomplete: number; list: FaultRecord[] };
  writes: {
    acknowledged: number; present: number; lost: number; quarantined: number; unknown: number; quarantineReasons: Record<string, number>;
    /** Per unplanned failover: acknowledged writes its demotion quarantined, and their share of all acknowledged writes. */
    byFailover: FailoverQuarantine[];
  };
  unavailability: UnavailabilityWindow[];
  checks: CheckResult[];
  anomalies: string[];
  logErrors: Record<string, number>;
  runDir: string | null;
}

/** Periods of more than `thresholdMs` between successive acknowledged writes, with the faults that overlap them. */
export function unavailabilityWindows(ops: readonly OpRecord[], faults: readonly FaultRecord[], from: number, to: number, thresholdMs = 1000): UnavailabilityWindow[] {
  const oks = ops.filter((o) => o.outcome === 'ok').map((o) => o.end).sort((a, b) => a - b);
  const points = [from, ...oks, to];
  const out: UnavailabilityWindow[] = [];
  for (let i = 1; i < points.length; i++) {
    const [start, end] = [points[i - 1]!, points[i]!];
    if (end - start <= thresholdMs) continue;
    const causes = faults.filter((f) => f.start <= end && f.end >= start - 500).map((f) => `${f.kind} (${f.detail})`);
    out.push({ start, end, durationMs: end - start, causes: causes.length > 0 ? causes : ['no fault in progress (recovery after the previous fault, or load)'] });
  }
  return out;
}

/** Counts per key. */
function tally<T>(items: readonly T[], keyOf: (t: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const i of items) out[keyOf(i)] = (out[keyOf(i)] ?? 0) + 1;
  return out;
}

/** Assembles the report document. */
export function buildReport(r: {
  seed: number; seconds: number; startedAt: string; durationMs: number; finalPrimary: string;
  ops: readonly OpRecord[]; faults: readonly FaultRecord[]; fates: readonly WriteFate[]; checks: CheckResult[];
  anomalies: string[]; logErrors: Record<string, number>; workloadFrom: number; workloadTo: number; runDir: string | null;
  /** Wall-clock time (ms since 1970) of run time 0, to place quarantines in time. */
  wallT0: number;
}): ChaosReport {
  const byKind: Record<string, Record<string, number>> = {};
  for (const k of ['create', 'update', 'delete']) byKind[k] = { ok: 0, failed: 0, unknown: 0, ...tally(r.ops.filter((o) => o.kind === k), (o) => o.outcome) };
  const faultsByKind: Record<string, number> = Object.fromEntries(FAULT_KINDS.map((k) => [k, 0]));
  for (const f of r.faults) faultsByKind[f.kind]!++;
  const quarantined = r.fates.filter((f) => f.fate === 'quarantined');
  return {
    seed: r.seed,
    seconds: r.seconds,
    startedAt: r.startedAt,
    durationMs: Math.round(r.durationMs),
    passed: r.checks.every((c) => c.passed),
    finalPrimary: r.finalPrimary,
    operations: {
      total: r.ops.length,
      byKind,
      byOutcome: { ok: 0, failed: 0, unknown: 0, ...tally(r.ops, (o) => o.outcome) },
      refusals: tally(r.ops.filter((o) => o.outcome !== 'ok'), (o) => `${o.status ?? 'no response'} ${o.error ?? ''}`.trim()),
      serverErrors: r.ops.filter((o) => o.status !== null && o.status >= 500 && o.status !== 503).length,
    },
    faults: { total: r.faults.length, byKind: faultsByKind, incomplete: r.faults.filter((f) => !f.completed).length, list: [...r.faults] },
    writes: {
      acknowledged: r.fates.length,
      present: r.fates.filter((f) => f.fate === 'present').length,
      lost: r.fates.filter((f) => f.fate === 'lost').length,
      quarantined: quarantined.length,
      unknown: r.ops.filter((o) => o.outcome === 'unknown').length,
      quarantineReasons: tally(quarantined, (f) => f.revision?.quarantineReason ?? '?'),
      byFailover: quarantineByFailover(r.fates, r.faults, r.wallT0),
    },
    unavailability: unavailabilityWindows(r.ops, r.faults, r.workloadFrom, r.workloadTo),
    checks: r.checks,
    anomalies: r.anomalies,
    logErrors: r.logErrors,
    runDir: r.runDir,
  };
}

const s = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
const pct = (x: number): string => `${(x * 100).toFixed(2)} %`;

/** The readable summary. */
export function renderMarkdown(rep: ChaosReport): string {
  const o = rep.operations;
  const w = rep.writes;
  const lines = [
    `# Chaos run: seed ${rep.seed}, ${rep.seconds} s — ${rep.passed ? 'PASSED' : 'FAILED'}`,
    '',
    `Started ${rep.startedAt}, took ${s(rep.durationMs)}. Final primary: ${rep.finalPrimary}. Reproduce with \`npm run chaos -- --seconds ${rep.seconds} --seed ${rep.seed}\`.`,
    '',
    '## Checks',
    '',
    '| | check | result |',
    '| --- | --- | --- |',
    ...rep.checks.map((c) => `| ${c.id} | ${c.name} | ${c.passed ? 'pass' : '**FAIL**'}: ${c.summary} |`),
    '',
    ...rep.checks.filter((c) => !c.passed).flatMap((c) => [`### (${c.id}) violations`, '', ...c.violations.map((v) => `- ${v}`), '']),
    '## Writes',
    '',
    `- acknowledged (2xx): **${w.acknowledged}** — on the final primary ${w.present}, quarantined ${w.quarantined}, **lost ${w.lost}**`,
    `- outcome unknown (timeout or reset): ${w.unknown}`,
    ...Object.entries(w.quarantineReasons).map(([reason, n]) => `- quarantined because "${reason}": ${n}`),
    '',
    '### Quarantined per unplanned failover',
    '',
    ...(w.byFailover.length === 0 ? ['No unplanned failover in this run.'] : [
      '| at | kind | crashed and demoted | acknowledged writes quarantined | share of the run\'s acknowledged writes | its backlog just before the crash |',
      '| --- | --- | --- | --- | --- | --- |',
      ...w.byFailover.map((q) => `| ${s(q.fault.start)}–${s(q.fault.end)} | ${q.fault.kind} | ${q.demoted} | ${q.quarantined} | ${pct(q.fractionOfAcknowledged)} | ${q.fault.backlogAtCrash ?? '?'} |`),
      `| **all** | | | ${w.byFailover.reduce((n, q) => n + q.quarantined, 0)} of ${w.acknowledged} | ${pct(w.byFailover.reduce((n, q) => n + q.fractionOfAcknowledged, 0))} | |`,
    ]),
    '',
    '## Operations',
    '',
    '| kind | ok | failed | unknown |',
    '| --- | --- | --- | --- |',
    ...Object.entries(o.byKind).map(([k, v]) => `| ${k} | ${v.ok ?? 0} | ${v.failed ?? 0} | ${v.unknown ?? 0} |`),
    `| **all** | ${o.byOutcome.ok ?? 0} | ${o.byOutcome.failed ?? 0} | ${o.byOutcome.unknown ?? 0} |`,
    '',
    `Refusals and errors: ${Object.entries(o.refusals).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ×${n}`).join(', ') || 'none'}. Server errors (5xx other than 503): ${o.serverErrors}.`,
    '',
    '## Faults injected',
    '',
    `${rep.faults.total} faults: ${Object.entries(rep.faults.byKind).map(([k, n]) => `${k} ${n}`).join(', ')}${rep.faults.incomplete ? `; ${rep.faults.incomplete} could not complete` : ''}.`,
    '',
    '| at | kind | what |',
    '| --- | --- | --- |',
    ...rep.faults.list.map((f) => `| ${s(f.start)}–${s(f.end)} | ${f.kind} | ${f.detail}${f.completed ? '' : ' (incomplete)'} |`),
    '',
    '## Unavailability (more than 1 s without a successful write)',
    '',
    ...(rep.unavailability.length === 0 ? ['None.'] : [
      '| from | to | length | cause |',
      '| --- | --- | --- | --- |',
      ...rep.unavailability.map((u) => `| ${s(u.start)} | ${s(u.end)} | ${s(u.durationMs)} | ${u.causes.join('; ')} |`),
      '',
      `Total: ${s(rep.unavailability.reduce((n, u) => n + u.durationMs, 0))} in ${rep.unavailability.length} window(s).`,
    ]),
    '',
    '## Anomalies',
    '',
    ...(rep.anomalies.length === 0 ? ['None.'] : rep.anomalies.map((a) => `- ${a}`)),
    '',
    `Error-level log lines by event: ${Object.entries(rep.logErrors).map(([k, n]) => `${k} ×${n}`).join(', ') || 'none'}.`,
    '',
  ];
  return lines.join('\n');
}

/** Writes `<base>.json` and `<base>.md`. */
export function writeReport(base: string, rep: ChaosReport): { json: string; md: string } {
  const stem = base.replace(/\.(json|md)$/, '');
  mkdirSync(dirname(stem), { recursive: true });
  writeFileSync(`${stem}.json`, `${JSON.stringify(rep, null, 2)}\n`);
  writeFileSync(`${stem}.md`, renderMarkdown(rep));
  return { json: `${stem}.json`, md: `${stem}.md` };
}
