/**
 * The chaos checkers themselves (scripts/chaos/checks.ts): a harness whose checks cannot fail proves
 * nothing, so each check is shown to catch the fault it is for on a small hand-made history, every
 * branch of the checker included (creates, updates and deletes; present, quarantined and lost; an
 * empty or unobserved run; incomplete faults and anomalies; issue 17).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { quarantineByFailover, runChecks, unplannedFailoverOf, writeFates, type CheckInput } from '../../scripts/chaos/checks.js';
import { buildReport, renderMarkdown, unavailabilityWindows } from '../../scripts/chaos/report.js';
import type { FaultRecord, OpRecord, PopName, RoleObservation, StoredRevision } from '../../scripts/chaos/types.js';

const V = 'v_AAAAAAAAAAAAAAAAAAAAAA';
const rev = (seq: number, subject: string | null, epoch: number, origin: string, over: Partial<StoredRevision> = {}): StoredRevision =>
  ({ pop: 'calgary-01', vault: V, seq, kind: seq === 1 ? 'vault.create' : 'entry.put', subject, epoch, originPop: origin, createdAt: `t${seq}`, ...over });
const create = (id: number, entry: string, version: number, pop: PopName = 'calgary-01', start = id * 10): OpRecord =>
  ({ id, client: 0, kind: 'create', vault: V, entry, pop, start, end: start + 5, outcome: 'ok', status: 201, error: null, version, updatedAt: `t${version}` });
const del = (id: number, entry: string, pop: PopName = 'calgary-01', start = id * 10): OpRecord =>
  ({ id, client: 0, kind: 'delete', vault: V, entry, pop, start, end: start + 5, outcome: 'ok', status: 204, error: null });
const tomb = (seq: number, subject: string, over: Partial<StoredRevision> = {}): StoredRevision => rev(seq, subject, 1, 'calgary-01', { kind: 'entry.delete', ...over });
const fault = (kind: FaultRecord['kind'], target: PopName = 'calgary-01', start = 100, end = 200, completed = true): FaultRecord =>
  ({ kind, target, start, end, detail: `${kind} detail`, completed });
/** Quarantined by the demotion of `demoted` at run time `at` ms (wallT0 is 0 in these histories). */
const quarantinedBy = (demoted: PopName, at: number): Partial<StoredRevision> =>
  ({ pop: 'zurich-01', quarantineReason: `unacknowledged by the backup when ${demoted} was demoted in epoch 1`, quarantinedAt: new Date(at).toISOString() });

/** A check input whose lists the tests may push to. */
interface Input extends CheckInput { ops: OpRecord[]; observations: RoleObservation[] }

function base(): Input {
  const revisions = [rev(1, null, 1, 'calgary-01'), rev(2, 'e1', 1, 'calgary-01'), rev(3, 'e2', 1, 'calgary-01')];
  return {
    ops: [create(1, 'e1', 2), create(2, 'e2', 3)],
    finalPrimary: 'calgary-01',
    data: { 'calgary-01': { revisions, quarantine: [] }, 'zurich-01': { revisions: revisions.map((r) => ({ ...r, pop: 'zurich-01' as const })), quarantine: [] } },
    observations: [{ pop: 'calgary-01', t0: 0, t1: 1, role: 'primary', epoch: 1 }, { pop: 'zurich-01', t0: 0, t1: 1, role: 'backup', epoch: 1 }],
    verify: { code: 0, output: 'identical' },
    fencingViolations: [],
    unexpectedExits: [],
    faults: [fault('failover')],
    wallT0: 0,
    anomalies: [],
    minFaults: 1,
  };
}
const failed = (inp: CheckInput): string[] => runChecks(inp).checks.filter((c) => !c.passed).map((c) => c.id);
const check = (inp: CheckInput, id: string) => runChecks(inp).checks.find((c) => c.id === id)!;

test('a consistent history passes every check, and every check (a–h) is reported', () => {
  const out = runChecks(base());
  assert.deepEqual(out.checks.map((c) => c.id), ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']);
  assert.deepEqual(failed(base()), []);
  assert.deepEqual(out.fates.map((f) => f.fate), ['present', 'present']);
});

test('(a) an acknowledged write missing everywhere is LOST; one in quarantine is counted', () => {
  const inp = base();
  inp.data['calgary-01'].revisions.pop();
  assert.deepEqual(failed(inp), ['a']);
  inp.data['zurich-01'].quarantine.push(rev(3, 'e2', 1, 'calgary-01', quarantinedBy('calgary-01', 150)));
  const out = runChecks(inp);
  assert.deepEqual(out.checks.filter((c) => !c.passed).map((c) => c.id), []);
  assert.deepEqual(out.fates.map((f) => f.fate), ['present', 'quarantined']);
  // Quarantined by a planned switchover (no unplanned failover demoted calgary then): a violation.
  inp.faults = [fault('switchover')];
  assert.deepEqual(failed(inp), ['a']);
  inp.faults = [fault('failover', 'zurich-01')];
  assert.deepEqual(failed(inp), ['a']);
  inp.faults = [fault('failover')];
  // Same seq and subject but another revision (different created_at) is not the acknowledged one.
  inp.data['zurich-01'].quarantine[0] = rev(3, 'e2', 1, 'calgary-01', { ...quarantinedBy('calgary-01', 150), createdAt: 'other' });
  assert.deepEqual(failed(inp), ['a']);
  // Same seq and created_at but another subject is not it either.
  inp.data['zurich-01'].quarantine[0] = rev(3, 'e9', 1, 'calgary-01', quarantinedBy('calgary-01', 150));
  assert.deepEqual(failed(inp), ['a']);
});

test('(a) a create/update is present only as the very revision acknowledged: seq, kind, subject and created_at', () => {
  const variants: [string, Partial<StoredRevision>][] = [
    ['another subject at that seq', { subject: 'e9' }],
    ['another created_at at that seq', { createdAt: 'later' }],
    ['a tombstone at that seq', { kind: 'entry.delete' }],
    ['another vault', { vault: 'v_BBBBBBBBBBBBBBBBBBBBBB' }],
  ];
  for (const [what, over] of variants) {
    const inp = base();
    inp.data['calgary-01'].revisions[2] = { ...inp.data['calgary-01'].revisions[2]!, ...over };
    const fates = runChecks(inp).fates;
    assert.deepEqual(fates.map((f) => f.fate), ['present', 'lost'], what);
  }
  // On the other POP only (not the final primary): lost.
  const inp = base();
  inp.data['calgary-01'].revisions.pop();
  assert.equal(inp.data['zurich-01'].revisions.length, 3);
  assert.deepEqual(runChecks(inp).fates.map((f) => f.fate), ['present', 'lost']);
});

test('(a) an acknowledged delete counts only with its tombstone: on the final primary, in quarantine, or LOST', () => {
  const inp = base();
  inp.ops.push(del(3, 'e1'));
  // No tombstone anywhere, although the entry's put revision is there: the delete is LOST.
  let out = runChecks(inp);
  assert.deepEqual(out.fates.map((f) => [f.op.kind, f.fate]), [['create', 'present'], ['create', 'present'], ['delete', 'lost']]);
  assert.deepEqual(failed(inp), ['a']);
  assert.match(check(inp, 'a').violations[0]!, /^LOST op 3 .*delete e1/);
  // A tombstone of another entry does not count.
  inp.data['calgary-01'].revisions.push(tomb(4, 'e2'));
  assert.deepEqual(runChecks(inp).fates.map((f) => f.fate), ['present', 'present', 'lost']);
  // A tombstone of that entry in another vault does not count.
  inp.data['calgary-01'].revisions.push(tomb(5, 'e1', { vault: 'v_BBBBBBBBBBBBBBBBBBBBBB' }));
  assert.deepEqual(runChecks(inp).fates.map((f) => f.fate), ['present', 'present', 'lost']);
  // A tombstone on the other POP only (not the final primary) does not count.
  inp.data['zurich-01'].revisions.push({ ...tomb(6, 'e1'), pop: 'zurich-01' });
  assert.deepEqual(runChecks(inp).fates.map((f) => f.fate), ['present', 'present', 'lost']);
  // Its tombstone on the final primary: present, whatever its seq.
  inp.data['calgary-01'].revisions.push(tomb(7, 'e1'));
  out = runChecks(inp);
  assert.deepEqual(out.fates.map((f) => f.fate), ['present', 'present', 'present']);
  assert.equal(out.fates[2]!.revision?.seq, 7);
  assert.deepEqual(failed(inp), []);
});

test('(a) a quarantined tombstone counts only after an unplanned failover; a quarantined put is not a tombstone', () => {
  const inp = base();
  inp.ops.push(del(3, 'e1'));
  inp.data['zurich-01'].quarantine.push(rev(4, 'e1', 1, 'calgary-01', quarantinedBy('calgary-01', 150)));
  assert.deepEqual(runChecks(inp).fates.map((f) => f.fate), ['present', 'present', 'lost'], 'a quarantined put of the entry is not its delete');
  inp.data['zurich-01'].quarantine.push(tomb(4, 'e1', quarantinedBy('calgary-01', 150)));
  const out = runChecks(inp);
  assert.deepEqual(out.fates.map((f) => f.fate), ['present', 'present', 'quarantined']);
  assert.equal(out.fates[2]!.revision?.kind, 'entry.delete');
  assert.deepEqual(failed(inp), []);
  inp.faults = [fault('switchover')];
  assert.deepEqual(failed(inp), ['a'], 'a tombstone quarantined outside an unplanned failover');
  assert.match(check(inp, 'a').violations[0]!, /QUARANTINED outside an unplanned failover: op 3/);
});

test('(a) only acknowledged operations are judged; no acknowledged write at all fails the run', () => {
  const inp = base();
  inp.ops.push({ ...create(3, 'e3', 4), outcome: 'failed', status: 503 }, { ...del(4, 'e1'), outcome: 'unknown', status: null });
  assert.deepEqual(runChecks(inp).fates.map((f) => f.op.id), [1, 2]);
  assert.deepEqual(failed(inp), []);
  inp.ops = inp.ops.map((o) => ({ ...o, outcome: 'failed' as const }));
  assert.deepEqual(failed(inp), ['a']);
  assert.match(check(inp, 'a').violations[0]!, /no acknowledged write/);
  inp.ops = [];
  assert.deepEqual(failed(inp), ['a'], 'an empty history fails');
});

test('(a) violations listed are capped at 25, the summary counts all', () => {
  const inp = base();
  for (let i = 0; i < 30; i++) inp.ops.push(create(10 + i, `x${i}`, 100 + i));
  const a = check(inp, 'a');
  assert.equal(a.passed, false);
  assert.equal(a.violations.length, 25);
  assert.match(a.summary, /^30 of 32 acknowledged writes LOST/);
});

test('unplannedFailoverOf: the demoted POP, the fault kind and a ±1 s window decide', () => {
  const r = (demoted: PopName, at: number, reason?: string): StoredRevision =>
    rev(3, 'e2', 1, 'calgary-01', reason === undefined ? quarantinedBy(demoted, at) : { quarantineReason: reason, quarantinedAt: new Date(at).toISOString() });
  const f = fault('failover', 'calgary-01', 5000, 6000);
  assert.equal(unplannedFailoverOf(r('calgary-01', 5500), [f], 0), f);
  assert.equal(unplannedFailoverOf(r('calgary-01', 4000), [f], 0), f, 'window starts 1 s early');
  assert.equal(unplannedFailoverOf(r('calgary-01', 3999), [f], 0), undefined);
  assert.equal(unplannedFailoverOf(r('calgary-01', 7000), [f], 0), f, 'window ends 1 s late');
  assert.equal(unplannedFailoverOf(r('calgary-01', 7001), [f], 0), undefined);
  assert.equal(unplannedFailoverOf(r('calgary-01', 105_500), [f], 100_000), f, 'wall time is taken relative to wallT0');
  assert.equal(unplannedFailoverOf(r('zurich-01', 5500), [f], 0), undefined, 'another POP was demoted');
  assert.equal(unplannedFailoverOf(r('calgary-01', 5500, 'diverged'), [f], 0), undefined, 'a reason naming no demotion');
  assert.equal(unplannedFailoverOf(r('calgary-01', 5500, 'unacknowledged by the backup when calgary-01 was demoted'), [{ ...f, kind: 'kill' }], 0), undefined, 'kill is not a failover');
  assert.equal(unplannedFailoverOf(r('calgary-01', 5500), [{ ...f, kind: 'switchover' }], 0), undefined, 'a planned switchover never excuses a quarantine');
  assert.ok(unplannedFailoverOf(r('calgary-01', 5500), [{ ...f, kind: 'failover-restart' }], 0));
  // switchover-crash targets the old primary; the POP it crashes and demotes is the other one.
  assert.equal(unplannedFailoverOf(r('calgary-01', 5500), [{ ...f, kind: 'switchover-crash' }], 0), undefined);
  assert.ok(unplannedFailoverOf(r('zurich-01', 5500), [{ ...f, kind: 'switchover-crash' }], 0));
});

test('quarantine per unplanned failover: counts and share of the run\'s acknowledged writes, in the report', () => {
  const inp = base();
  const f1 = { ...fault('failover', 'calgary-01', 100, 200), backlogAtCrash: 7 };
  const f2 = fault('switchover-crash', 'zurich-01', 4000, 4200);
  const f3 = fault('failover-restart', 'zurich-01', 8000, 8100);
  inp.faults = [fault('kill', 'zurich-01', 10, 20), f1, fault('switchover', 'calgary-01', 500, 600), f2, f3];
  for (let i = 0; i < 6; i++) inp.ops.push(create(10 + i, `q${i}`, 10 + i));
  for (let i = 0; i < 6; i++) inp.data['zurich-01'].quarantine.push(rev(10 + i, `q${i}`, 1, 'calgary-01', quarantinedBy('calgary-01', i < 4 ? 150 : 4100)));
  const out = runChecks(inp);
  assert.deepEqual(out.fates.map((f) => f.fate), ['present', 'present', 'quarantined', 'quarantined', 'quarantined', 'quarantined', 'quarantined', 'quarantined']);
  const by = quarantineByFailover(out.fates, inp.faults, inp.wallT0);
  assert.deepEqual(by.map((q) => [q.fault.kind, q.demoted, q.quarantined, q.fractionOfAcknowledged]),
    [['failover', 'calgary-01', 4, 4 / 8], ['switchover-crash', 'calgary-01', 2, 2 / 8], ['failover-restart', 'zurich-01', 0, 0]]);
  assert.deepEqual(quarantineByFailover([], inp.faults, 0).map((q) => q.fractionOfAcknowledged), [0, 0, 0], 'no acknowledged write: share 0, not NaN');
  const rep = buildReport({ seed: 1, seconds: 5, startedAt: 'x', durationMs: 1, finalPrimary: 'calgary-01', ops: inp.ops, faults: inp.faults, fates: out.fates, checks: out.checks, anomalies: [], logErrors: {}, workloadFrom: 0, workloadTo: 5000, runDir: null, wallT0: 0 });
  assert.deepEqual(rep.writes.byFailover.map((q) => q.quarantined), [4, 2, 0]);
  const md = renderMarkdown(rep);
  assert.match(md, /\| 0\.1 s–0\.2 s \| failover \| calgary-01 \| 4 \| 50\.00 % \|/);
  assert.match(md, /\| 4\.0 s–4\.2 s \| switchover-crash \| calgary-01 \| 2 \| 25\.00 % \|/);
  assert.match(md, /\| \*\*all\*\* \| \| \| 6 of 8 \| 75\.00 % \|/);
  // The crashed primary's backlog just before the crash, '?' when not recorded.
  assert.match(md, /\| failover \| calgary-01 \| 4 \| 50\.00 % \| 7 \|/);
  assert.match(md, /\| switchover-crash \| calgary-01 \| 2 \| 25\.00 % \| \? \|/);
  const none = renderMarkdown({ ...rep, writes: { ...rep.writes, byFailover: [] } });
  assert.match(none, /No unplanned failover in this run\./);
});

test('(b) two origins in one epoch, quarantine included, is a split brain', () => {
  const inp = base();
  inp.data['zurich-01'].quarantine.push(rev(4, 'e9', 1, 'zurich-01'));
  assert.deepEqual(failed(inp), ['b']);
  assert.match(check(inp, 'b').violations[0]!, /epoch 1 has revisions from calgary-01 and zurich-01/);
  const other = base();
  other.data['zurich-01'].revisions.push({ ...rev(4, 'e9', 1, 'zurich-01'), pop: 'zurich-01' });
  assert.deepEqual(failed(other), ['b'], 'in the other POP\'s revisions');
  const ok = base();
  ok.data['calgary-01'].revisions.push(rev(4, 'e9', 2, 'zurich-01'));
  ok.ops = [];
  ok.ops.push(create(1, 'e1', 2), create(2, 'e2', 3));
  assert.ok(!failed(ok).includes('b'), 'another POP in another epoch is fine');
  assert.match(check(ok, 'b').summary, /2 epoch\(s\), one origin each: 1:calgary-01, 2:zurich-01/);
});

test('(c) a write answered by a POP already seen as backup in that epoch, or written elsewhere, is caught', () => {
  const inp = base();
  inp.observations.push({ pop: 'calgary-01', t0: 0, t1: 12, role: 'backup', epoch: 1 });
  assert.deepEqual(failed(inp), ['c']);
  const fenced = base();
  fenced.observations.push({ pop: 'calgary-01', t0: 0, t1: 12, role: 'fenced', epoch: 1 });
  assert.deepEqual(failed(fenced), ['c'], 'fenced counts like backup');
  const other = base();
  other.ops = [other.ops[0]!, { ...other.ops[1]!, pop: 'zurich-01' }];
  assert.deepEqual(failed(other), ['c']);
  assert.match(check(other, 'c').violations[0]!, /answered by zurich-01 but its revision's origin is calgary-01/);
});

test('(c) observations that do not precede the write, or are of another epoch or POP, or a primary, are fine', () => {
  const cases: [string, RoleObservation][] = [
    ['seen as backup only after the request started', { pop: 'calgary-01', t0: 0, t1: 20, role: 'backup', epoch: 1 }],
    ['backup in another epoch', { pop: 'calgary-01', t0: 0, t1: 5, role: 'backup', epoch: 2 }],
    ['the other POP as backup', { pop: 'zurich-01', t0: 0, t1: 5, role: 'backup', epoch: 1 }],
    ['primary in that epoch', { pop: 'calgary-01', t0: 0, t1: 5, role: 'primary', epoch: 1 }],
  ];
  for (const [what, o] of cases) {
    const inp = base();
    inp.observations.push(o);
    assert.deepEqual(failed(inp), [], what);
  }
  // A lost write has no revision to judge: only (a) fails.
  const lost = base();
  lost.data['calgary-01'].revisions.pop();
  lost.observations.push({ pop: 'calgary-01', t0: 0, t1: 12, role: 'backup', epoch: 1 });
  assert.deepEqual(failed(lost), ['a']);
});

test('(c) a run in which the role monitor saw nothing, or only one POP, fails', () => {
  const inp = base();
  inp.observations = [];
  assert.deepEqual(failed(inp), ['c']);
  assert.equal(check(inp, 'c').violations.length, 2);
  inp.observations = [{ pop: 'calgary-01', t0: 0, t1: 1, role: 'primary', epoch: 1 }];
  assert.deepEqual(failed(inp), ['c']);
  assert.match(check(inp, 'c').violations[0]!, /no role observation of zurich-01/);
  inp.observations = [{ pop: 'zurich-01', t0: 0, t1: 1, role: 'backup', epoch: 1 }];
  assert.match(check(inp, 'c').violations[0]!, /no role observation of calgary-01/);
});

test('(d) verify, (e) duplicates, fencing and unexpected exits fail their checks', () => {
  const inp = base();
  inp.verify = { code: 1, output: '1 vault(s) differ' };
  inp.data['calgary-01'].revisions.push(rev(4, 'e2', 1, 'calgary-01', { createdAt: 't3' }));
  inp.fencingViolations = ['not fenced'];
  inp.unexpectedExits = ['zurich-01 exited'];
  assert.deepEqual(failed(inp), ['d', 'e', 'f', 'g']);
  assert.deepEqual(check(inp, 'd').violations, ['verify exited 1: 1 vault(s) differ']);
});

test('(e) the same revision read twice is not a duplicate; one duplicated on the other POP is', () => {
  const inp = base();
  inp.data['calgary-01'].revisions.push(inp.data['calgary-01'].revisions[2]!);
  assert.deepEqual(failed(inp), []);
  const other = base();
  other.data['zurich-01'].revisions.push({ ...rev(4, 'e2', 1, 'calgary-01', { createdAt: 't3' }), pop: 'zurich-01' });
  assert.deepEqual(failed(other), ['e']);
  assert.match(check(other, 'e').violations[0]!, /^zurich-01: entry.put of e2 .* at seq 3 and 4/);
  const diff = base();
  diff.data['calgary-01'].revisions.push(rev(4, 'e2', 2, 'calgary-01', { createdAt: 't3' }));
  assert.ok(!failed(diff).includes('e'), 'another epoch is another revision');
});

test('(h) too few completed faults, a fault that threw or was aborted, or an anomaly fails the run', () => {
  const inp = base();
  inp.minFaults = 2;
  assert.deepEqual(failed(inp), ['h']);
  assert.match(check(inp, 'h').violations[0]!, /only 1 of 1 injected fault\(s\) completed; a run needs at least 2/);
  inp.faults = [fault('failover'), { ...fault('kill', 'zurich-01', 300, 400, false), detail: 'SIGKILL FAILED: did not start' }];
  const h = check(inp, 'h');
  assert.equal(h.passed, false, 'a fault that threw does not count toward the minimum');
  assert.deepEqual(h.violations, ['only 1 of 2 injected fault(s) completed; a run needs at least 2', 'kill on zurich-01 at 300–400 ms did not complete: SIGKILL FAILED: did not start']);
  inp.faults = [fault('failover'), fault('kill', 'zurich-01', 300, 400)];
  assert.deepEqual(failed(inp), []);
  inp.anomalies = ['12.0 s: heal: timed out waiting for primary accepting writes'];
  assert.deepEqual(failed(inp), ['h']);
  assert.deepEqual(check(inp, 'h').violations, ['anomaly: 12.0 s: heal: timed out waiting for primary accepting writes']);
  const none = base();
  none.faults = [];
  assert.deepEqual(failed(none), ['h'], 'no fault at all');
});

test('writeFates alone: quarantine from either POP is looked up by vault, seq, subject and created_at', () => {
  const ops = [create(1, 'e1', 2), del(2, 'e1')];
  const q = [rev(2, 'e1', 1, 'calgary-01', { pop: 'calgary-01' }), tomb(3, 'e1', { pop: 'calgary-01' })];
  assert.deepEqual(writeFates(ops, { revisions: [], quarantine: [] }, q).map((f) => f.fate), ['quarantined', 'quarantined']);
  assert.deepEqual(writeFates(ops, { revisions: [], quarantine: [] }, []).map((f) => f.fate), ['lost', 'lost']);
});

test('unavailability windows are gaps of more than 1 s between acknowledged writes, with overlapping faults', () => {
  const ops = [create(1, 'a', 2, 'calgary-01', 100), create(2, 'b', 3, 'calgary-01', 2000), create(3, 'c', 4, 'calgary-01', 2500)];
  const w = unavailabilityWindows(ops, [{ kind: 'kill', target: 'calgary-01', start: 300, end: 1800, detail: 'SIGKILL', completed: true }], 0, 3000);
  assert.deepEqual(w.map((x) => [x.start, x.end, x.causes.length]), [[105, 2005, 1]]);
});
