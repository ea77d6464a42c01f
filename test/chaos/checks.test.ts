/**
 * The chaos checkers themselves (scripts/chaos/checks.ts): a harness whose checks cannot fail proves
 * nothing, so each check is shown to catch the fault it is for on a small hand-made history.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runChecks, type CheckInput } from '../../scripts/chaos/checks.js';
import { unavailabilityWindows } from '../../scripts/chaos/report.js';
import type { OpRecord, StoredRevision } from '../../scripts/chaos/types.js';

const V = 'v_AAAAAAAAAAAAAAAAAAAAAA';
const rev = (seq: number, subject: string | null, epoch: number, origin: string, over: Partial<StoredRevision> = {}): StoredRevision =>
  ({ pop: 'calgary-01', vault: V, seq, kind: seq === 1 ? 'vault.create' : 'entry.put', subject, epoch, originPop: origin, createdAt: `t${seq}`, ...over });
const create = (id: number, entry: string, version: number, pop: 'calgary-01' | 'zurich-01' = 'calgary-01', start = id * 10): OpRecord =>
  ({ id, client: 0, kind: 'create', vault: V, entry, pop, start, end: start + 5, outcome: 'ok', status: 201, error: null, version, updatedAt: `t${version}` });

function base(): CheckInput {
  const revisions = [rev(1, null, 1, 'calgary-01'), rev(2, 'e1', 1, 'calgary-01'), rev(3, 'e2', 1, 'calgary-01')];
  return {
    ops: [create(1, 'e1', 2), create(2, 'e2', 3)],
    finalPrimary: 'calgary-01',
    data: { 'calgary-01': { revisions, quarantine: [] }, 'zurich-01': { revisions: revisions.map((r) => ({ ...r, pop: 'zurich-01' as const })), quarantine: [] } },
    observations: [{ pop: 'zurich-01', t0: 0, t1: 1, role: 'backup', epoch: 1 }],
    verify: { code: 0, output: 'identical' },
    fencingViolations: [],
    unexpectedExits: [],
    faults: [{ kind: 'failover', target: 'calgary-01', start: 100, end: 200, detail: '', completed: true }],
    wallT0: 0,
  };
}
const failed = (inp: CheckInput): string[] => runChecks(inp).checks.filter((c) => !c.passed).map((c) => c.id);

test('a consistent history passes every check', () => {
  assert.deepEqual(failed(base()), []);
});

test('(a) an acknowledged write missing everywhere is LOST; one in quarantine is counted', () => {
  const inp = base();
  inp.data['calgary-01'].revisions.pop();
  assert.deepEqual(failed(inp), ['a']);
  const q = { pop: 'zurich-01' as const, quarantineReason: 'unacknowledged by the backup when calgary-01 was demoted in epoch 1', quarantinedAt: new Date(150).toISOString() };
  inp.data['zurich-01'].quarantine.push(rev(3, 'e2', 1, 'calgary-01', q));
  const out = runChecks(inp);
  assert.deepEqual(out.checks.filter((c) => !c.passed).map((c) => c.id), []);
  assert.deepEqual(out.fates.map((f) => f.fate), ['present', 'quarantined']);
  // Quarantined by a planned switchover (no unplanned failover demoted calgary then): a violation.
  inp.faults = [{ kind: 'switchover', target: 'calgary-01', start: 100, end: 200, detail: '', completed: true }];
  assert.deepEqual(failed(inp), ['a']);
  inp.faults = [{ kind: 'failover', target: 'zurich-01', start: 100, end: 200, detail: '', completed: true }];
  assert.deepEqual(failed(inp), ['a']);
  inp.faults = [{ kind: 'failover', target: 'calgary-01', start: 100, end: 200, detail: '', completed: true }];
  // Same seq and subject but another revision (different created_at) is not the acknowledged one.
  inp.data['zurich-01'].quarantine[0] = rev(3, 'e2', 1, 'calgary-01', { createdAt: 'other' });
  assert.deepEqual(failed(inp), ['a']);
});

test('(b) two origins in one epoch, quarantine included, is a split brain', () => {
  const inp = base();
  inp.data['zurich-01'].quarantine.push(rev(4, 'e9', 1, 'zurich-01'));
  assert.deepEqual(failed(inp), ['b']);
});

test('(c) a write answered by a POP already seen as backup in that epoch, or written elsewhere, is caught', () => {
  const inp = base();
  inp.observations = [{ pop: 'calgary-01', t0: 0, t1: 12, role: 'backup', epoch: 1 }];
  assert.deepEqual(failed(inp), ['c']);
  const other = base();
  other.ops = [other.ops[0]!, { ...other.ops[1]!, pop: 'zurich-01' }];
  assert.deepEqual(failed(other), ['c']);
});

test('(d) verify, (e) duplicates, fencing and unexpected exits fail their checks', () => {
  const inp = base();
  inp.verify = { code: 1, output: '1 vault(s) differ' };
  inp.data['calgary-01'].revisions.push(rev(4, 'e2', 1, 'calgary-01', { createdAt: 't3' }));
  inp.fencingViolations = ['not fenced'];
  inp.unexpectedExits = ['zurich-01 exited'];
  assert.deepEqual(failed(inp), ['d', 'e', 'f', 'g']);
});

test('unavailability windows are gaps of more than 1 s between acknowledged writes, with overlapping faults', () => {
  const ops = [create(1, 'a', 2, 'calgary-01', 100), create(2, 'b', 3, 'calgary-01', 2000), create(3, 'c', 4, 'calgary-01', 2500)];
  const w = unavailabilityWindows(ops, [{ kind: 'kill', target: 'calgary-01', start: 300, end: 1800, detail: 'SIGKILL', completed: true }], 0, 3000);
  assert.deepEqual(w.map((x) => [x.start, x.end, x.causes.length]), [[105, 2005, 1]]);
});
