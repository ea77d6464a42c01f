/**
 * The chaos checkers (scripts/chaos/checks.ts), the cases mutation testing found unpinned (issue
 * 17 items 2 and 3, docs/testing.md): acknowledged deletes and their tombstones, quarantine
 * windows of every unplanned fault kind, origin and duplicate rules at their edges, and what
 * the report says. Expected values come from the checkers' contract in the head comment of
 * checks.ts (checks a–g) and docs/reliability, built by hand here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runChecks, writeFates, type CheckInput } from '../../scripts/chaos/checks.js';
import type { FaultKind, OpRecord, PopName, StoredRevision } from '../../scripts/chaos/types.js';

const V = 'v_BBBBBBBBBBBBBBBBBBBBBB';
const C: PopName = 'calgary-01';
const Z: PopName = 'zurich-01';
const rev = (seq: number, kind: string, subject: string | null, over: Partial<StoredRevision> = {}): StoredRevision =>
  ({ pop: C, vault: V, seq, kind, subject, epoch: 1, originPop: C, createdAt: `t${seq}`, ...over });
const op = (id: number, kind: OpRecord['kind'], entry: string, version: number | undefined, over: Partial<OpRecord> = {}): OpRecord =>
  ({ id, client: 0, kind, vault: V, entry, pop: C, start: id * 10, end: id * 10 + 5, outcome: 'ok', status: kind === 'create' ? 201 : 200, error: null, version, updatedAt: version !== undefined ? `t${version}` : undefined, ...over });

/** A run with a create, an update and a delete of e1, and a create of e2, all on calgary. */
function base(): CheckInput {
  const revisions = [rev(1, 'vault.create', null), rev(2, 'entry.put', 'e1'), rev(3, 'entry.put', 'e1'), rev(4, 'entry.delete', 'e1'), rev(5, 'entry.put', 'e2')];
  return {
    ops: [op(1, 'create', 'e1', 2), op(2, 'update', 'e1', 3), op(3, 'delete', 'e1', undefined), op(4, 'create', 'e2', 5)],
    finalPrimary: C,
    data: { [C]: { revisions, quarantine: [] }, [Z]: { revisions: revisions.map((r) => ({ ...r, pop: Z })), quarantine: [] } } as unknown as CheckInput['data'],
    observations: [{ pop: Z, t0: 0, t1: 1, role: 'backup', epoch: 1 }, { pop: C, t0: 0, t1: 1, role: 'primary', epoch: 1 }],
    verify: { code: 0, output: 'identical\n' },
    fencingViolations: [],
    unexpectedExits: [],
    faults: [{ kind: 'failover', target: C, start: 1000, end: 2000, detail: '', completed: true }],
    wallT0: 0,
    anomalies: [],
    minFaults: 1,
  };
}
const failed = (inp: CheckInput): string[] => runChecks(inp).checks.filter((c) => !c.passed).map((c) => c.id);
const check = (inp: CheckInput, id: string) => runChecks(inp).checks.find((c) => c.id === id)!;

test('a consistent run with deletes passes every check and each write is present', () => {
  const out = runChecks(base());
  assert.deepEqual(out.checks.map((c) => c.id), ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']);
  assert.deepEqual(out.checks.filter((c) => !c.passed).map((c) => c.id), []);
  assert.equal(out.fates.length, 4);
  assert.deepEqual(out.fates.map((f) => [f.op.id, f.fate, f.revision?.seq]), [[1, 'present', 2], [2, 'present', 3], [3, 'present', 4], [4, 'present', 5]]);
  assert.equal(check(base(), 'a').summary, '4 acknowledged writes: 4 on calgary-01, 0 quarantined by unplanned failovers, 0 lost');
  assert.equal(check(base(), 'b').summary, '1 epoch(s), one origin each: 1:calgary-01');
  assert.equal(check(base(), 'd').summary, 'identical');
  assert.equal(check(base(), 'e').summary, '5 revisions on calgary-01, none at two positions');
});

test('(a) an acknowledged delete without its tombstone is LOST', () => {
  const inp = base();
  inp.data[C].revisions = inp.data[C].revisions.filter((r) => r.kind !== 'entry.delete');
  assert.deepEqual(failed(inp), ['a']);
  const a = check(inp, 'a');
  assert.deepEqual(a.violations, [`LOST op 3 (client 0, delete e1 in ${V} via calgary-01, 30–35 ms)`]);
  assert.equal(a.summary, '1 of 4 acknowledged writes LOST, 0 quarantined outside an unplanned failover');
});

test('(a) a tombstone of another entry, or of the same entry in another vault, does not count', () => {
  const inp = base();
  inp.data[C].revisions[3] = rev(4, 'entry.delete', 'e2');
  assert.deepEqual(writeFates(inp.ops, inp.data[C], []).map((f) => f.fate), ['present', 'present', 'lost', 'present']);
  inp.data[C].revisions[3] = rev(4, 'entry.delete', 'e1', { vault: 'v_other' });
  assert.deepEqual(writeFates(inp.ops, inp.data[C], []).map((f) => f.fate), ['present', 'present', 'lost', 'present']);
  inp.data[C].revisions[3] = rev(4, 'entry.put', 'e1');
  assert.equal(writeFates(inp.ops, inp.data[C], [])[2]!.fate, 'lost', 'a put at the tombstone position is not a delete');
});

test('(a) a delete whose tombstone is in quarantine after an unplanned failover is quarantined, not lost', () => {
  const inp = base();
  inp.data[C].revisions = inp.data[C].revisions.filter((r) => r.kind !== 'entry.delete');
  inp.data[Z].quarantine.push(rev(4, 'entry.delete', 'e1', { pop: Z, quarantineReason: 'not acknowledged when calgary-01 was demoted', quarantinedAt: new Date(1500).toISOString() }));
  const out = runChecks(inp);
  assert.deepEqual(out.checks.filter((c) => !c.passed).map((c) => c.id), []);
  assert.deepEqual(out.fates.map((f) => f.fate), ['present', 'present', 'quarantined', 'present']);
  assert.equal(out.checks[0]!.summary, '4 acknowledged writes: 3 on calgary-01, 1 quarantined by unplanned failovers, 0 lost');
  inp.data[Z].quarantine[0] = { ...inp.data[Z].quarantine[0]!, kind: 'entry.put' };
  assert.deepEqual(failed(inp), ['a'], 'a quarantined put is not the tombstone');
});

test('(a) only failed-or-unknown writes are not judged', () => {
  const inp = base();
  inp.ops = [...inp.ops, op(5, 'create', 'e9', 9, { outcome: 'failed', status: 503 }), op(6, 'update', 'e9', 10, { outcome: 'unknown', status: 0 })];
  assert.equal(runChecks(inp).fates.length, 4);
  assert.deepEqual(failed(inp), []);
});

test('(a) a put is present only as the revision acknowledged: same seq, entry, kind and created_at', () => {
  for (const change of [{ subject: 'e2' }, { createdAt: 'other' }, { kind: 'entry.delete' }] as Partial<StoredRevision>[]) {
    const inp = base();
    inp.data[C].revisions[1] = { ...inp.data[C].revisions[1]!, ...change };
    assert.equal(runChecks(inp).fates[0]!.fate, 'lost', JSON.stringify(change));
  }
});

/** base() with e2's put (seq 5) moved from calgary to zurich's quarantine, set aside at run time `atMs` by the demotion of `demoted`. */
function quarantinedE2(atMs: number, demoted: PopName, faultKind: FaultKind, target: PopName): CheckInput {
  const inp = base();
  const e2 = inp.data[C].revisions.pop()!;
  inp.data[Z].revisions.pop();
  inp.data[Z].quarantine.push({ ...e2, pop: Z, quarantineReason: `unacknowledged when ${demoted} was demoted in epoch 2`, quarantinedAt: new Date(atMs).toISOString() });
  inp.faults = [{ kind: faultKind, target, start: 1000, end: 2000, detail: '', completed: true }];
  return inp;
}

test('(a) quarantine is accepted only within 1 s of an unplanned fault that crashed the demoted POP', () => {
  assert.deepEqual(failed(quarantinedE2(1500, C, 'failover', C)), []);
  assert.deepEqual(failed(quarantinedE2(1500, C, 'failover-restart', C)), []);
  assert.deepEqual(failed(quarantinedE2(1500, C, 'switchover-crash', Z)), [], 'a switchover-crash crashes the other POP');
  assert.deepEqual(failed(quarantinedE2(1500, C, 'switchover-crash', C)), ['a']);
  assert.deepEqual(failed(quarantinedE2(1500, C, 'kill', C)), ['a'], 'a kill is not a failover');
  assert.deepEqual(failed(quarantinedE2(1500, Z, 'failover', C)), ['a'], 'demoted POP is not the crashed one');
  assert.deepEqual(failed(quarantinedE2(-1, C, 'failover', C)), ['a'], 'more than 1 s before the fault');
  assert.deepEqual(failed(quarantinedE2(3001, C, 'failover', C)), ['a'], 'more than 1 s after');
  assert.deepEqual(failed(quarantinedE2(0, C, 'failover', C)), [], 'edge: start − 1 s');
  assert.deepEqual(failed(quarantinedE2(3000, C, 'failover', C)), [], 'edge: end + 1 s');
  const noReason = quarantinedE2(1500, C, 'failover', C);
  delete noReason.data[Z].quarantine[0]!.quarantineReason;
  assert.deepEqual(failed(noReason), ['a']);
  const a = check(quarantinedE2(3001, C, 'failover', C), 'a');
  assert.match(a.violations[0]!, /^QUARANTINED outside an unplanned failover: op 4 .* at 1970-01-01T00:00:03\.001Z \("unacknowledged when calgary-01 was demoted in epoch 2"\)$/);
  assert.equal(a.summary, '0 of 4 acknowledged writes LOST, 1 quarantined outside an unplanned failover');
});

test('(a) the quarantine window is measured from wallT0', () => {
  const inp = quarantinedE2(1500 + 10_000, C, 'failover', C);
  assert.deepEqual(failed(inp), ['a']);
  inp.wallT0 = 10_000;
  assert.deepEqual(failed(inp), []);
});

test('(b) one epoch per origin, revisions of both POPs and their quarantines; the summary lists epochs in order', () => {
  const inp = base();
  inp.data[Z].revisions.push(rev(6, 'entry.put', 'e3', { pop: Z, epoch: 3, originPop: Z }), rev(7, 'entry.put', 'e3', { pop: Z, epoch: 2, originPop: Z }));
  assert.deepEqual(failed(inp), []);
  assert.equal(check(inp, 'b').summary, '3 epoch(s), one origin each: 1:calgary-01, 2:zurich-01, 3:zurich-01');
  inp.data[C].quarantine.push(rev(8, 'entry.put', 'e4', { epoch: 3, originPop: C }));
  assert.deepEqual(failed(inp), ['b']);
  assert.equal(check(inp, 'b').violations.length, 1);
  assert.match(check(inp, 'b').violations[0]!, /^epoch 3 has revisions from (zurich-01 and calgary-01|calgary-01 and zurich-01)$/);
});

test('(c) origin mismatch and a backup role seen before the request are caught; one seen after is not', () => {
  const inp = base();
  inp.data[C].revisions[4] = { ...inp.data[C].revisions[4]!, originPop: Z };
  const c = check(inp, 'c');
  assert.equal(c.passed, false);
  assert.match(c.violations[0]!, /^op 4 .* answered by calgary-01 but its revision's origin is zurich-01 \(epoch 1\)$/);

  const seenBefore = base();
  seenBefore.observations = [{ pop: Z, t0: 0, t1: 1, role: 'backup', epoch: 1 }, { pop: C, t0: 30, t1: 39, role: 'fenced', epoch: 1 }];
  const v = check(seenBefore, 'c').violations;
  assert.equal(v.length, 1, 'only op 4 (start 40) started after the observation ended at 39');
  assert.match(v[0]!, /^op 4 .* acknowledged in epoch 1 although calgary-01 reported role fenced in that epoch at 30–39 ms$/);
  const atStart = base();
  atStart.observations = [{ pop: Z, t0: 0, t1: 1, role: 'backup', epoch: 1 }, { pop: C, t0: 30, t1: 40, role: 'backup', epoch: 1 }];
  assert.deepEqual(failed(atStart), [], 'an observation ending as the request starts is not before it');
  const otherEpoch = base();
  otherEpoch.observations = [{ pop: Z, t0: 0, t1: 1, role: 'backup', epoch: 1 }, { pop: C, t0: 0, t1: 1, role: 'backup', epoch: 2 }];
  assert.deepEqual(failed(otherEpoch), []);
  const otherPop = base();
  otherPop.observations = [{ pop: Z, t0: 0, t1: 1, role: 'backup', epoch: 1 }, { pop: C, t0: 0, t1: 1, role: 'primary', epoch: 1 }];
  assert.deepEqual(failed(otherPop), []);
});

test('(d) verify: the reason is its exit code and trimmed output', () => {
  const inp = base();
  inp.verify = { code: 3, output: '  1 vault(s) differ \n' };
  assert.deepEqual(check(inp, 'd').violations, ['verify exited 3: 1 vault(s) differ']);
});

test('(e) a duplicate is the same (vault, subject, created_at, epoch, origin) at two seqs, on either POP', () => {
  for (const pop of [C, Z]) {
    const inp = base();
    inp.data[pop].revisions.push(rev(9, 'entry.put', 'e2', { pop, createdAt: 't5' }));
    assert.deepEqual(failed(inp), ['e'], pop);
    assert.deepEqual(check(inp, 'e').violations, [`${pop}: entry.put of e2 in ${V} (epoch 1, calgary-01, t5) at seq 5 and 9`]);
  }
  for (const change of [{ vault: 'v_x' }, { subject: 'e9' }, { epoch: 2 }, { originPop: Z }] as Partial<StoredRevision>[]) {
    const inp = base();
    inp.data[Z].revisions.push(rev(9, 'entry.put', 'e2', { pop: Z, createdAt: 't5', ...change }));
    assert.ok(check(inp, 'e').passed, JSON.stringify(change));
  }
  const same = base();
  same.data[C].revisions.push({ ...same.data[C].revisions[4]! });
  assert.ok(check(same, 'e').passed, 'the same revision read twice is not a duplicate');
});

test('violations are listed up to 25, but all are counted', () => {
  const inp = base();
  inp.unexpectedExits = Array.from({ length: 30 }, (_, i) => `exit ${i}`);
  const g = check(inp, 'g');
  assert.equal(g.violations.length, 25);
  assert.equal(g.summary, '30 violation(s)');
  inp.fencingViolations = ['calgary-01 came up primary'];
  assert.deepEqual(check(inp, 'f').violations, ['calgary-01 came up primary']);
  assert.equal(check(base(), 'f').summary, 'every restarted old primary was fenced');
  assert.equal(check(base(), 'g').summary, 'no unexpected exit');
});

test('(a) with several faults, one matching unplanned failover is enough; a lost put names its version', () => {
  const inp = quarantinedE2(1500, C, 'failover', C);
  inp.faults = [{ kind: 'kill', target: Z, start: 100, end: 200, detail: 'SIGKILL', completed: true }, ...inp.faults];
  assert.deepEqual(failed(inp), []);
  const lost = base();
  lost.data[C].revisions.pop();
  assert.deepEqual(check(lost, 'a').violations, [`LOST op 4 (client 0, create e2 in ${V} v5 via calgary-01, 40–45 ms)`]);
});
