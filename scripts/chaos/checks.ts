/**
 * The checkers: judge the recorded history against what the two POPs hold after the heal.
 *
 * (a) every acknowledged create/update is on the final primary as the revision it was acknowledged
 *     as (seq = version, subject = entry id, created_at = updated_at), or in a quarantine of either
 *     POP (counted, with its reason); every acknowledged delete has its tombstone there; else LOST.
 *     Quarantine is acceptable only for an unplanned failover: the quarantine must have been made
 *     while a failover fault demoted the crashed POP (a planned switchover must lose nothing, F2).
 * (b) no two POPs accepted writes in the same epoch: over every revision in every vault file and
 *     quarantine of both POPs, each epoch has a single origin_pop.
 * (c) the backup never accepted a client write: each acknowledged write's revision names the POP
 *     that answered it as origin, and that POP had not been seen as a backup (or fenced) in that
 *     epoch before the request started.
 * (d) the POPs converge: `clavitor-commercial verify` exited 0 (run by the caller).
 * (e) no revision is duplicated: per POP, no (vault, subject, created_at, epoch, origin_pop) at two seqs.
 * Plus: every old primary restarted after a failover came up fenced, and no POP exited on its own.
 * A run that observed too little proves nothing, so it fails (issue 17): (a) fails with no
 * acknowledged write, (c) with no role observation of either POP, and (h) when fewer than
 * `minFaults` faults completed (a fault that threw or was aborted does not count), when any fault
 * did not complete, or when the run hit an anomaly (a failed drain, heal or restart).
 */
import type { PopData } from './store-reader.js';
import { otherPop, type FaultKind, type FaultRecord, type OpRecord, type PopName, type RoleObservation, type StoredRevision } from './types.js';

/** One check's verdict. */
export interface CheckResult {
  id: string;
  name: string;
  passed: boolean;
  summary: string;
  /** First violations, for the report (all are counted in `summary`). */
  violations: string[];
}

/** Where an acknowledged write ended up. */
export interface WriteFate {
  op: OpRecord;
  fate: 'present' | 'quarantined' | 'lost';
  revision?: StoredRevision;
}

/** Inputs of the checkers. */
export interface CheckInput {
  ops: readonly OpRecord[];
  finalPrimary: PopName;
  data: Record<PopName, PopData>;
  observations: readonly RoleObservation[];
  verify: { code: number; output: string };
  fencingViolations: readonly string[];
  unexpectedExits: readonly string[];
  /** Faults injected (run times), and the wall-clock time (ms since 1970) of run time 0. */
  faults: readonly FaultRecord[];
  wallT0: number;
  /** Things that went wrong in the harness's own procedures (failed drain, heal, restart); each fails check (h). */
  anomalies: readonly string[];
  /** Fewest completed faults a meaningful run must have injected (check h). */
  minFaults: number;
}

/** Fault kinds that crash a primary, and which POP they crash: the only ones allowed to quarantine acknowledged writes. */
const UNPLANNED: Partial<Record<FaultKind, (f: FaultRecord) => PopName>> = {
  failover: (f) => f.target,
  'failover-restart': (f) => f.target,
  'switchover-crash': (f) => otherPop(f.target),
};

/**
 * The unplanned failover whose demotion of the POP it crashed set quarantined revision `r` aside
 * (the reason names the demoted POP; the quarantine time, wall clock minus `wallT0`, lies within
 * the fault's run-time window ± 1 s), or undefined when no such fault exists.
 */
export function unplannedFailoverOf(r: StoredRevision, faults: readonly FaultRecord[], wallT0: number): FaultRecord | undefined {
  const demoted = /when (\S+) was demoted/.exec(r.quarantineReason ?? '')?.[1];
  const at = Date.parse(r.quarantinedAt ?? '') - wallT0;
  return faults.find((f) => UNPLANNED[f.kind]?.(f) === demoted && at >= f.start - 1000 && at <= f.end + 1000);
}

/** Acknowledged writes one unplanned failover put into quarantine (for the report, issue 17 item 2). */
export interface FailoverQuarantine {
  fault: FaultRecord;
  /** The POP the failover crashed and later demoted. */
  demoted: PopName;
  /** Acknowledged writes this failover's demotion quarantined. */
  quarantined: number;
  /** `quarantined` divided by all acknowledged writes of the run (0..1; 0 when there were none). */
  fractionOfAcknowledged: number;
}

/** Per unplanned failover (in run order, those that quarantined nothing included), how many acknowledged writes it quarantined. */
export function quarantineByFailover(fates: readonly WriteFate[], faults: readonly FaultRecord[], wallT0: number): FailoverQuarantine[] {
  const counts = new Map<FaultRecord, number>();
  for (const f of fates) {
    if (f.fate !== 'quarantined' || !f.revision) continue;
    const fault = unplannedFailoverOf(f.revision, faults, wallT0);
    if (fault) counts.set(fault, (counts.get(fault) ?? 0) + 1);
  }
  return faults.filter((f) => UNPLANNED[f.kind] !== undefined).map((fault) => {
    const quarantined = counts.get(fault) ?? 0;
    return { fault, demoted: UNPLANNED[fault.kind]!(fault), quarantined, fractionOfAcknowledged: fates.length === 0 ? 0 : quarantined / fates.length };
  });
}

/** Outcome of all checks. */
export interface CheckOutput {
  checks: CheckResult[];
  fates: WriteFate[];
}

const MAX_LISTED = 25;
const key = (...parts: unknown[]): string => parts.map(String).join('|');

function result(id: string, name: string, violations: string[], okSummary: string, badSummary = `${violations.length} violation(s)`): CheckResult {
  return { id, name, passed: violations.length === 0, summary: violations.length === 0 ? okSummary : badSummary, violations: violations.slice(0, MAX_LISTED) };
}

/** Finds where each acknowledged write ended up (check a). */
export function writeFates(ops: readonly OpRecord[], primary: PopData, quarantined: readonly StoredRevision[]): WriteFate[] {
  const at = new Map<string, StoredRevision>();
  const tombstone = new Map<string, StoredRevision>();
  for (const r of primary.revisions) {
    at.set(key(r.vault, r.seq), r);
    if (r.kind === 'entry.delete') tombstone.set(key(r.vault, r.subject), r);
  }
  const qAt = new Map<string, StoredRevision>();
  const qTomb = new Map<string, StoredRevision>();
  for (const r of quarantined) {
    qAt.set(key(r.vault, r.seq, r.subject, r.createdAt), r);
    if (r.kind === 'entry.delete') qTomb.set(key(r.vault, r.subject), r);
  }
  return ops.filter((op) => op.outcome === 'ok').map((op): WriteFate => {
    if (op.kind === 'delete') {
      const p = tombstone.get(key(op.vault, op.entry));
      if (p) return { op, fate: 'present', revision: p };
      const q = qTomb.get(key(op.vault, op.entry));
      return q ? { op, fate: 'quarantined', revision: q } : { op, fate: 'lost' };
    }
    const p = at.get(key(op.vault, op.version));
    if (p && p.kind === 'entry.put' && p.subject === op.entry && p.createdAt === op.updatedAt) return { op, fate: 'present', revision: p };
    const q = qAt.get(key(op.vault, op.version, op.entry, op.updatedAt));
    return q ? { op, fate: 'quarantined', revision: q } : { op, fate: 'lost' };
  });
}

const describeOp = (op: OpRecord): string =>
  `op ${op.id} (client ${op.client}, ${op.kind} ${op.entry ?? '?'} in ${op.vault}${op.version !== undefined ? ` v${op.version}` : ''} via ${op.pop}, ${op.start}–${op.end} ms)`;

/** Runs every check. */
export function runChecks(inp: CheckInput): CheckOutput {
  const all = [...inp.data['calgary-01'].quarantine, ...inp.data['zurich-01'].quarantine];
  const fates = writeFates(inp.ops, inp.data[inp.finalPrimary], all);
  const checks: CheckResult[] = [];

  const lost = fates.filter((f) => f.fate === 'lost');
  const quarantined = fates.filter((f) => f.fate === 'quarantined').length;
  const misplaced = fates.filter((f) => f.fate === 'quarantined' && !unplannedFailoverOf(f.revision!, inp.faults, inp.wallT0));
  checks.push(result('a', 'every acknowledged write is on the final primary (or, after an unplanned failover, in quarantine)',
    [...(fates.length === 0 ? ['no acknowledged write in the whole run: there was nothing to check'] : []), ...lost.map((f) => `LOST ${describeOp(f.op)}`), ...misplaced.map((f) => `QUARANTINED outside an unplanned failover: ${describeOp(f.op)} at ${f.revision!.quarantinedAt} ("${f.revision!.quarantineReason}")`)],
    `${fates.length} acknowledged writes: ${fates.length - quarantined} on ${inp.finalPrimary}, ${quarantined} quarantined by unplanned failovers, 0 lost`,
    `${lost.length} of ${fates.length} acknowledged writes LOST, ${misplaced.length} quarantined outside an unplanned failover`));

  const origins = new Map<number, Set<string>>();
  for (const pop of ['calgary-01', 'zurich-01'] as const) {
    for (const r of [...inp.data[pop].revisions, ...inp.data[pop].quarantine]) {
      const s = origins.get(r.epoch) ?? new Set<string>();
      s.add(r.originPop);
      origins.set(r.epoch, s);
    }
  }
  const split = [...origins].filter(([, s]) => s.size > 1).map(([e, s]) => `epoch ${e} has revisions from ${[...s].join(' and ')}`);
  checks.push(result('b', 'no two POPs accepted writes in the same epoch', split, `${origins.size} epoch(s), one origin each: ${[...origins].sort((x, y) => x[0] - y[0]).map(([e, s]) => `${e}:${[...s][0]}`).join(', ')}`));

  const backupWrites: string[] = [];
  for (const pop of ['calgary-01', 'zurich-01'] as const) {
    if (!inp.observations.some((o) => o.pop === pop)) backupWrites.push(`no role observation of ${pop}: the role monitor saw nothing to judge writes against`);
  }
  for (const f of fates) {
    const r = f.revision;
    if (!r) continue;
    if (r.originPop !== f.op.pop) backupWrites.push(`${describeOp(f.op)} answered by ${f.op.pop} but its revision's origin is ${r.originPop} (epoch ${r.epoch})`);
    const before = inp.observations.find((o) => o.pop === f.op.pop && o.epoch === r.epoch && o.role !== 'primary' && o.t1 < f.op.start);
    if (before) backupWrites.push(`${describeOp(f.op)} acknowledged in epoch ${r.epoch} although ${f.op.pop} reported role ${before.role} in that epoch at ${before.t0}–${before.t1} ms`);
  }
  checks.push(result('c', 'the backup never accepted a client write', backupWrites, `every acknowledged write was written by the POP that answered it, while it was primary in that epoch (${inp.observations.length} role observations)`));

  checks.push(result('d', 'both POPs converge (clavitor-commercial verify)', inp.verify.code === 0 ? [] : [`verify exited ${inp.verify.code}: ${inp.verify.output.trim()}`], inp.verify.output.trim()));

  const dup: string[] = [];
  for (const pop of ['calgary-01', 'zurich-01'] as const) {
    const seen = new Map<string, number>();
    for (const r of inp.data[pop].revisions) {
      const k = key(r.vault, r.subject, r.createdAt, r.epoch, r.originPop);
      const prev = seen.get(k);
      if (prev !== undefined && prev !== r.seq) dup.push(`${pop}: ${r.kind} of ${r.subject ?? '-'} in ${r.vault} (epoch ${r.epoch}, ${r.originPop}, ${r.createdAt}) at seq ${prev} and ${r.seq}`);
      else seen.set(k, r.seq);
    }
  }
  checks.push(result('e', 'no revision is duplicated', dup, `${inp.data[inp.finalPrimary].revisions.length} revisions on ${inp.finalPrimary}, none at two positions`));

  checks.push(result('f', 'an old primary restarted after a failover comes up fenced', [...inp.fencingViolations], 'every restarted old primary was fenced'));
  checks.push(result('g', 'no POP exited unless the nemesis stopped it', [...inp.unexpectedExits], 'no unexpected exit'));

  const completed = inp.faults.filter((f) => f.completed).length;
  const observed = [
    ...(completed < inp.minFaults ? [`only ${completed} of ${inp.faults.length} injected fault(s) completed; a run needs at least ${inp.minFaults}`] : []),
    ...inp.faults.filter((f) => !f.completed).map((f) => `${f.kind} on ${f.target} at ${f.start}–${f.end} ms did not complete: ${f.detail}`),
    ...inp.anomalies.map((a) => `anomaly: ${a}`),
  ];
  checks.push(result('h', 'the run injected enough faults, each completed, and hit no anomaly', observed,
    `${completed} fault(s) completed (at least ${inp.minFaults} required), no anomaly`));
  return { checks, fates };
}
