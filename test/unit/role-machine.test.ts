/**
 * The POP's role state machine (src/replication/role-machine.ts), without I/O: one test per row of
 * the table in its header, expected values from that table and DESIGN.md §4.3–4.5 (promotion =
 * highest seen + 1, §4.4.6; demotion reserves the successor's epoch and quarantines, §4.4.7; a
 * fenced or held primary refuses writes, §4.3 and §4.5), and a property over random event
 * sequences: epochs never go down, seen ≥ epoch, and a POP takes writes only as a settled primary.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  EPOCH_CHECK_TIMEOUT_MS, initialState, isFenced, reportedRole, step, writeRefusal,
  type RoleEffect, type RoleEvent, type RoleState, type StepResult, type WriteHold,
} from '../../src/replication/role-machine.js';

const ME = 'calgary-01';
const PEER = 'zurich-01';
const AT = '2026-11-30T12:00:00.000Z';
const URLS = { backupUrl: 'https://zurich.example:8443', primaryUrl: 'https://calgary.example:8443' };

/** A settled primary in epoch 1 (or a backup), overridable. */
function st(o: Partial<RoleState> = {}): RoleState {
  return { ...initialState({ role: 'primary', popId: ME, peerId: PEER, epoch: 1, seen: 1, lastRole: 'primary', hold: null }), ...o };
}
const backup = (o: Partial<RoleState> = {}): RoleState => st({ role: 'backup', lastRole: 'backup', ...o });
const kinds = (r: StepResult): string[] => r.effects.map((e) => e.kind);
function eff<K extends RoleEffect['kind']>(r: StepResult, kind: K): Extract<RoleEffect, { kind: K }> | undefined {
  return r.effects.find((e) => e.kind === kind) as Extract<RoleEffect, { kind: K }> | undefined;
}
const logs = (r: StepResult): Extract<RoleEffect, { kind: 'log' }>[] => r.effects.filter((e): e is Extract<RoleEffect, { kind: 'log' }> => e.kind === 'log');
const logEvent = (r: StepResult, event: string) => logs(r).find((l) => l.fields.event === event);
const alerts = (r: StepResult): string[] => r.effects.filter((e): e is Extract<RoleEffect, { kind: 'alert' }> => e.kind === 'alert').map((e) => e.reason);
const refusal = (s: RoleState, o: { nowMs?: number; controlPlane?: boolean } = {}) =>
  writeRefusal(s, { nowMs: o.nowMs ?? 0, controlPlane: o.controlPlane ?? false, retryAfterSeconds: 5, ...URLS });
const hold = (reason: WriteHold['reason'], cause: WriteHold['cause']): WriteHold => ({
  reason, cause, code: reason === 'peer_is_primary' ? 'CV-5017' : 'CV-5018', message: 'm', since: AT, peer: null, vaults: ['v1'],
});
const peer = (role: 'primary' | 'backup' | 'fenced', epoch: number) => ({ pop_id: PEER, role, epoch });
const boot = (s: RoleState, source: 'file' | 'control_plane' = 'file') => step(s, { kind: 'boot', source, fileRole: s.role === 'primary' ? 'backup' : 'primary' });

describe('start-up (rows 1–9)', () => {
  test('row 1: file primary, last role backup → pending promotion, last role stays backup, no epoch change', () => {
    const r = boot(st({ lastRole: 'backup', epoch: 1, seen: 2 }));
    assert.equal(r.state.pending, true);
    assert.equal(r.state.epoch, 1);
    assert.equal(eff(r, 'persistEpoch'), undefined);
    assert.deepEqual(eff(r, 'persistLastRole'), { kind: 'persistLastRole', role: 'backup' });
    assert.equal(isFenced(r.state), false, 'a pending promotion is not fenced');
  });
  test('row 2: fresh primary (epoch 0) takes epoch max(1, seen)', () => {
    const fresh = boot(st({ lastRole: null, epoch: 0, seen: 0 }));
    assert.equal(fresh.state.epoch, 1);
    assert.deepEqual(eff(fresh, 'persistEpoch'), { kind: 'persistEpoch', epoch: 1 });
    assert.deepEqual(eff(fresh, 'persistLastRole'), { kind: 'persistLastRole', role: 'primary' });
    const seen4 = boot(st({ lastRole: null, epoch: 0, seen: 4 }));
    assert.equal(seen4.state.epoch, 4);
  });
  test('row 3: primary with last role primary keeps its epoch, fenced across restarts when seen > epoch', () => {
    const r = boot(st({ epoch: 2, seen: 3 }));
    assert.equal(r.state.epoch, 2);
    assert.equal(eff(r, 'persistEpoch'), undefined);
    assert.equal(reportedRole(r.state), 'fenced');
    assert.equal(refusal(r.state)?.error, 'FENCED');
  });
  test('row 4: file backup, last role primary → demotion: seen = epoch + 1, backlog quarantined, hold dropped', () => {
    const r = boot(backup({ lastRole: 'primary', epoch: 2, seen: 2, hold: hold('backup_ahead', 'positions') }));
    assert.equal(r.state.seen, 3);
    assert.equal(r.state.epoch, 2);
    assert.deepEqual(eff(r, 'quarantineBacklog'), { kind: 'quarantineBacklog', popId: ME, epoch: 2 });
    assert.equal(r.state.hold, null);
    assert.deepEqual(eff(r, 'persistLastRole'), { kind: 'persistLastRole', role: 'backup' });
  });
  test('row 5: file backup, last role backup → no demotion, hold dropped', () => {
    const r = boot(backup({ hold: hold('backup_ahead', 'positions') }));
    assert.equal(eff(r, 'quarantineBacklog'), undefined);
    assert.equal(r.state.seen, 1);
    assert.equal(r.state.hold, null);
    assert.equal(reportedRole(r.state), 'backup');
  });
  test('row 6: role from a control-plane directive → CV-5020 warning, no role change', () => {
    const r = boot(st(), 'control_plane');
    const l = logEvent(r, 'pop.role_from_control_plane');
    assert.ok(l);
    assert.equal(l.level, 'warn');
    assert.equal(l.fields.code, 'CV-5020');
    assert.equal(r.state.role, 'primary');
    assert.equal(logEvent(boot(st()), 'pop.role_from_control_plane'), undefined);
  });
  test('row 7: start while fenced → sender stopped, waiters released, no new alert, no peer check', () => {
    const r = step(st({ epoch: 1, seen: 2 }), { kind: 'start' });
    assert.deepEqual(kinds(r), ['stopSender', 'releaseWaiters']);
    assert.deepEqual(eff(r, 'stopSender'), { kind: 'stopSender', discard: false });
    assert.equal(r.state.checking, false);
  });
  test('row 8: start as primary → checking (writes 503 CV-5012), peer asked', () => {
    const r = step(st(), { kind: 'start' });
    assert.deepEqual(kinds(r), ['checkPeer']);
    assert.equal(r.state.checking, true);
    assert.deepEqual(refusal(r.state), { error: 'STARTING', headers: { 'retry-after': '1' } });
  });
  test('row 9: start as backup → hello to the primary', () => {
    assert.deepEqual(kinds(step(backup(), { kind: 'start' })), ['sendHello']);
  });
});

describe('the start check (rows 10–15)', () => {
  const checking = (o: Partial<RoleState> = {}) => st({ checking: true, ...o });
  test('row 10: peer unreachable → accept in our own epoch: sender created, positions checked with the timeout', () => {
    const r = step(checking(), { kind: 'peerEpoch', info: null, error: 'timeout', atIso: AT });
    assert.equal(logEvent(r, 'pop.peer_epoch_unknown')?.level, 'warn');
    assert.ok(eff(r, 'createSender'));
    assert.deepEqual(eff(r, 'fetchPositions'), { kind: 'fetchPositions', phase: 'start', timeoutMs: EPOCH_CHECK_TIMEOUT_MS });
    assert.equal(EPOCH_CHECK_TIMEOUT_MS, 3000);
    assert.equal(r.state.epoch, 1);
    assert.equal(r.state.checking, true, 'still checking until the positions check ends');
  });
  test('row 10: pending and peer unreachable → promoted to seen + 1 (not held: issue 3 rule)', () => {
    const r = step(checking({ pending: true, lastRole: 'backup', epoch: 1, seen: 2 }), { kind: 'peerEpoch', info: null, error: 'timeout', atIso: AT });
    assert.equal(r.state.epoch, 3);
    assert.equal(r.state.pending, false);
    assert.equal(r.state.lastRole, 'primary');
    assert.ok(logEvent(r, 'pop.promoted'));
  });
  test('row 11: pending and the peer answers primary → held CV-5017, seen raised, alert, checking ends, no promotion', () => {
    const r = step(checking({ pending: true, lastRole: 'backup', epoch: 1, seen: 1 }), { kind: 'peerEpoch', info: peer('primary', 3), atIso: AT });
    assert.equal(r.state.seen, 3);
    assert.equal(r.state.epoch, 1);
    assert.equal(r.state.pending, true);
    assert.equal(r.state.hold?.reason, 'peer_is_primary');
    assert.equal(r.state.hold?.code, 'CV-5017');
    assert.equal(r.state.hold?.cause, 'peer_epoch');
    assert.equal(r.state.hold?.since, AT);
    assert.deepEqual(alerts(r), ['peer_is_primary']);
    assert.equal(r.state.checking, false);
    assert.equal(eff(r, 'persistHold'), undefined, 'a peer_is_primary hold is not persisted');
    assert.equal(reportedRole(r.state), 'fenced');
    const w = refusal(r.state);
    assert.equal(w?.error, 'PEER_IS_PRIMARY');
    assert.equal(w?.headers['x-primary-location'], URLS.backupUrl);
  });
  test('row 12: pending and the peer answers backup → CV-5017 hold cleared, promoted to seen + 1, positions checked', () => {
    const r = step(checking({ pending: true, lastRole: 'backup', hold: hold('peer_is_primary', 'peer_epoch') }), { kind: 'peerEpoch', info: peer('backup', 2), atIso: AT });
    assert.equal(r.state.seen, 3);
    assert.equal(r.state.epoch, 3);
    assert.equal(r.state.hold, null);
    assert.ok(logEvent(r, 'pop.hold_cleared'));
    assert.deepEqual(eff(r, 'persistEpoch'), { kind: 'persistEpoch', epoch: 3 });
    assert.deepEqual(eff(r, 'persistLastRole'), { kind: 'persistLastRole', role: 'primary' });
    assert.equal(eff(r, 'fetchPositions')?.phase, 'start');
  });
  test('row 13: not pending, the peer answers a higher epoch → fenced (CV-5002 alert), checking ends', () => {
    const r = step(checking(), { kind: 'peerEpoch', info: peer('backup', 2), atIso: AT });
    assert.equal(r.state.seen, 2);
    assert.equal(reportedRole(r.state), 'fenced');
    assert.deepEqual(alerts(r), ['fenced']);
    assert.equal(logEvent(r, 'pop.fenced')?.fields.code, 'CV-5002');
    assert.equal(logEvent(r, 'pop.fenced')?.level, 'error');
    assert.equal(r.state.checking, false);
    assert.equal(eff(r, 'fetchPositions'), undefined);
    assert.equal(refusal(r.state)?.headers['x-primary-location'], undefined, 'a backup in a higher epoch does not say who is primary');
  });
  test('row 13: not pending, the peer answers primary in our epoch → fenced at ours + 1; the peer is named as primary', () => {
    const r = step(checking(), { kind: 'peerEpoch', info: peer('primary', 1), atIso: AT });
    assert.equal(r.state.seen, 2);
    assert.equal(r.state.epoch, 1);
    const w = refusal(r.state);
    assert.equal(w?.error, 'FENCED');
    assert.equal(w?.headers['x-primary-location'], URLS.backupUrl);
    assert.equal(w?.headers['retry-after'], '5');
  });
  test('row 14: not pending, the peer answers backup in our epoch → sender created, positions checked', () => {
    const r = step(checking(), { kind: 'peerEpoch', info: peer('backup', 1), atIso: AT });
    assert.deepEqual(kinds(r), ['createSender', 'fetchPositions']);
    assert.equal(r.state.epoch, 1);
  });
  test('row 15: the answer arrives after a reload to backup → checking ends, nothing else', () => {
    const r = step(backup({ checking: true }), { kind: 'peerEpoch', info: peer('primary', 5), atIso: AT });
    assert.deepEqual(kinds(r), []);
    assert.equal(r.state.checking, false);
    assert.equal(r.state.seen, 1);
  });
});

describe('positions check and reconcile (rows 16–21)', () => {
  test('row 16: positions unavailable → warn, sender started, start phase ends', () => {
    const r = step(st({ checking: true }), { kind: 'positionsFailed', phase: 'start', error: 'timeout' });
    assert.equal(logEvent(r, 'replication.positions_unavailable')?.level, 'warn');
    assert.ok(eff(r, 'startSender'));
    assert.equal(r.state.checking, false);
    assert.equal(refusal(r.state), undefined, 'writes accepted');
    const held = step(st({ hold: hold('backup_ahead', 'positions') }), { kind: 'positionsFailed', phase: 'later', error: 'x' });
    assert.equal(eff(held, 'startSender'), undefined, 'a held POP does not send');
  });
  test('row 17: positions answer in a higher epoch → fenced; the peer named when it says it is primary', () => {
    const r = step(st({ checking: true }), { kind: 'positionsAnswered', phase: 'start', epoch: 4, role: 'primary', positions: {} });
    assert.equal(r.state.seen, 4);
    assert.equal(reportedRole(r.state), 'fenced');
    assert.equal(r.state.checking, false);
    assert.equal(eff(r, 'reconcile'), undefined);
    assert.equal(refusal(r.state)?.headers['x-primary-location'], URLS.backupUrl);
  });
  test('row 18: positions answer in our epoch → reconcile with those positions', () => {
    const r = step(st(), { kind: 'positionsAnswered', phase: 'later', epoch: 1, role: 'backup', positions: { v1: 3 } });
    assert.deepEqual(r.effects, [{ kind: 'reconcile', phase: 'later', positions: { v1: 3 }, peerRole: 'backup', peerEpoch: 1 }]);
  });
  test('row 19: backup ahead → held CV-5018 (persisted), sender stopped and discarded, alert', () => {
    const r = step(st({ checking: true }), { kind: 'reconciled', phase: 'start', ahead: ['v1', 'v2'], revisions: 0, vaults: 0, peerRole: 'backup', peerEpoch: 1, atIso: AT });
    assert.equal(r.state.hold?.reason, 'backup_ahead');
    assert.equal(r.state.hold?.code, 'CV-5018');
    assert.equal(r.state.hold?.cause, 'positions');
    assert.deepEqual(r.state.hold?.vaults, ['v1', 'v2']);
    assert.deepEqual(r.state.hold?.peer, { pop_id: PEER, role: 'backup', epoch: 1 });
    assert.equal(eff(r, 'persistHold')?.hold?.reason, 'backup_ahead');
    assert.deepEqual(eff(r, 'stopSender'), { kind: 'stopSender', discard: true });
    assert.deepEqual(alerts(r), ['backup_ahead']);
    assert.equal(r.state.checking, false);
    assert.deepEqual(refusal(r.state), { error: 'BACKUP_AHEAD', headers: { 'retry-after': '5' } });
    const unknownRole = step(st(), { kind: 'reconciled', phase: 'later', ahead: ['v1'], revisions: 0, vaults: 0, peerEpoch: 1, atIso: AT });
    assert.equal(unknownRole.state.hold?.reason, 'backup_ahead', 'an older peer (no role) counts as a backup');
    const notBackup = step(st(), { kind: 'reconciled', phase: 'later', ahead: ['v1'], revisions: 0, vaults: 0, peerRole: 'primary', peerEpoch: 1, atIso: AT });
    assert.equal(notBackup.state.hold, null);
  });
  test('row 20: a positions/push-counter hold clears once the backup is no longer ahead; a diverged one does not', () => {
    for (const cause of ['positions', 'push_counter'] as const) {
      const r = step(st({ hold: hold('backup_ahead', cause) }), { kind: 'reconciled', phase: 'later', ahead: [], revisions: 0, vaults: 0, peerRole: 'backup', peerEpoch: 1, atIso: AT });
      assert.equal(r.state.hold, null, cause);
      assert.deepEqual(eff(r, 'persistHold'), { kind: 'persistHold', hold: null });
      assert.ok(eff(r, 'startSender'));
    }
    const d = step(st({ hold: hold('backup_ahead', 'diverged') }), { kind: 'reconciled', phase: 'later', ahead: [], revisions: 0, vaults: 0, peerRole: 'backup', peerEpoch: 1, atIso: AT });
    assert.equal(d.state.hold?.cause, 'diverged');
    assert.equal(eff(d, 'startSender'), undefined);
  });
  test('row 21: nothing ahead, revisions queued → resync noted, sender started', () => {
    const r = step(st(), { kind: 'reconciled', phase: 'later', ahead: [], revisions: 7, vaults: 2, peerRole: 'backup', peerEpoch: 1, atIso: AT });
    assert.deepEqual(kinds(r), ['noteResync', 'startSender']);
    assert.deepEqual(eff(r, 'noteResync'), { kind: 'noteResync', revisions: 7, vaults: 2 });
  });
});

describe('hello and pushes (rows 22–31)', () => {
  test('row 22: hello from a POP that is not the configured backup → ignored', () => {
    const r = step(st(), { kind: 'hello', peer: { pop_id: 'oslo-01', role: 'backup', epoch: 9 } });
    assert.equal(logEvent(r, 'replication.hello_ignored')?.level, 'warn');
    assert.equal(r.effects.length, 1);
    assert.equal(r.state.seen, 1);
  });
  test('row 23: pending and the backup says hello → the start check again', () => {
    const r = step(st({ pending: true, lastRole: 'backup', hold: hold('peer_is_primary', 'peer_epoch') }), { kind: 'hello', peer: peer('backup', 2) });
    assert.ok(eff(r, 'checkPeer'));
    assert.equal(r.state.checking, true);
  });
  test('row 24: hello with a higher epoch fences a primary, only raises seen on a backup', () => {
    const p = step(st(), { kind: 'hello', peer: peer('backup', 2) });
    assert.equal(reportedRole(p.state), 'fenced');
    assert.deepEqual(alerts(p), ['fenced']);
    assert.equal(eff(p, 'fetchPositions'), undefined);
    assert.equal(refusal(p.state)?.headers['x-primary-location'], undefined);
    const b = step(backup(), { kind: 'hello', peer: peer('backup', 2) });
    assert.equal(b.state.seen, 2);
    assert.deepEqual(alerts(b), []);
    assert.equal(reportedRole(b.state), 'backup');
  });
  test('row 25: hello in our epoch → positions check (resync, sender wake-up)', () => {
    const r = step(st(), { kind: 'hello', peer: peer('backup', 1) });
    assert.deepEqual(eff(r, 'fetchPositions'), { kind: 'fetchPositions', phase: 'later' });
  });
  test('row 26: the primary answers our hello with a higher epoch → seen raised, nothing else', () => {
    const r = step(backup(), { kind: 'helloAnswered', epoch: 3 });
    assert.deepEqual(r.effects, [{ kind: 'persistSeen', seen: 3 }]);
    assert.equal(r.state.epoch, 1);
  });
  test('row 27: a push from the peer in a higher epoch fences; the peer is named as primary', () => {
    const r = step(st(), { kind: 'higherEpoch', source: 'push', epoch: 2, peerIsPrimary: true });
    assert.equal(reportedRole(r.state), 'fenced');
    assert.deepEqual(kinds(r), ['persistSeen', 'stopSender', 'releaseWaiters', 'alert', 'log']);
    assert.equal(refusal(r.state)?.headers['x-primary-location'], URLS.backupUrl);
    assert.deepEqual(kinds(step(st(), { kind: 'higherEpoch', source: 'push', epoch: 1, peerIsPrimary: true })), [], 'not higher: nothing');
  });
  test('row 28: a backup adopts a push\'s higher epoch (persisted)', () => {
    const r = step(backup(), { kind: 'pushAdopted', epoch: 3 });
    assert.equal(r.state.epoch, 3);
    assert.equal(r.state.seen, 3);
    assert.deepEqual(r.effects, [{ kind: 'persistEpoch', epoch: 3 }]);
  });
  test('row 29: the sender learns a higher epoch → fenced; named only when the peer said NOT_A_BACKUP', () => {
    const r = step(st(), { kind: 'higherEpoch', source: 'sender', epoch: 2, peerIsPrimary: false });
    assert.equal(reportedRole(r.state), 'fenced');
    assert.equal(refusal(r.state)?.headers['x-primary-location'], undefined);
    const nb = step(st(), { kind: 'higherEpoch', source: 'sender', epoch: 2, peerIsPrimary: true });
    assert.equal(refusal(nb.state)?.headers['x-primary-location'], URLS.backupUrl);
    const again = step(r.state, { kind: 'higherEpoch', source: 'sender', epoch: 2, peerIsPrimary: false });
    assert.deepEqual(alerts(again), [], 'an epoch already seen raises no second alert');
  });
  test('row 30: a diverged push → held CV-5018 (cause diverged)', () => {
    const r = step(st(), { kind: 'pushDiverged', vaults: ['v1', 'v1', 'v2'], atIso: AT });
    assert.equal(r.state.hold?.cause, 'diverged');
    assert.deepEqual(r.state.hold?.vaults, ['v1', 'v2']);
    assert.equal(r.state.hold?.peer, null);
    assert.deepEqual(alerts(r), ['backup_ahead']);
    assert.deepEqual(kinds(step(backup(), { kind: 'pushDiverged', vaults: ['v1'], atIso: AT })), []);
  });
  test('row 31: push counter behind → positions check; none while fenced', () => {
    assert.deepEqual(step(st(), { kind: 'pushCounterBehind' }).effects, [{ kind: 'fetchPositions', phase: 'later' }]);
    assert.deepEqual(kinds(step(st({ seen: 2 }), { kind: 'pushCounterBehind' })), []);
  });
});

describe('control plane and lease (rows 32–36)', () => {
  const answer = (o: Partial<Extract<RoleEvent, { kind: 'controlPlaneAnswer' }>> = {}): RoleEvent => ({ kind: 'controlPlaneAnswer', epoch: 1, leaseTtlMs: 0, directive: null, sentAtMs: 0, ...o });
  test('row 32: a promote directive to an epoch already seen is refused and logged', () => {
    const r = step(backup({ seen: 3 }), answer({ directive: { action: 'promote', epoch: 3 } }));
    assert.equal(logEvent(r, 'controlplane.directive_refused')?.level, 'error');
    assert.equal(eff(r, 'applyDirective'), undefined);
  });
  test('row 33: promote (backup) and demote (primary) directives are applied', () => {
    const p = step(backup(), answer({ directive: { action: 'promote', epoch: 2 } }));
    assert.deepEqual(p.effects, [{ kind: 'applyDirective', directive: { action: 'promote', epoch: 2 } }]);
    const d = step(st(), answer({ directive: { action: 'demote', epoch: 2, primary_id: PEER } }));
    assert.equal(eff(d, 'applyDirective')?.directive.action, 'demote');
    const wrongRole = step(st(), answer({ directive: { action: 'promote', epoch: 2 }, epoch: 2 }));
    assert.equal(eff(wrongRole, 'applyDirective'), undefined, 'a promote reaching a primary is not a role change');
  });
  test('row 34: an answer with a higher epoch fences a primary, raises seen on a backup', () => {
    const p = step(st(), answer({ epoch: 2, leaseTtlMs: 10_000 }));
    assert.equal(reportedRole(p.state), 'fenced');
    assert.equal(p.state.leaseUntilMs, 0, 'no lease for a fenced POP');
    assert.equal(refusal(p.state)?.headers['x-primary-location'], undefined, 'the control plane\'s epoch does not name the primary');
    const b = step(backup(), answer({ epoch: 2 }));
    assert.equal(b.state.seen, 2);
    assert.deepEqual(alerts(b), []);
  });
  test('row 35: lease renewal: until max(current, sent_at + ttl)', () => {
    const r = step(st({ leaseUntilMs: 0 }), answer({ leaseTtlMs: 10_000, sentAtMs: 500 }));
    assert.equal(r.state.leaseUntilMs, 10_500);
    const older = step(r.state, answer({ leaseTtlMs: 10_000, sentAtMs: 100 }));
    assert.equal(older.state.leaseUntilMs, 10_500, 'a late answer to an older heartbeat never shortens the lease');
    assert.equal(step(backup(), answer({ leaseTtlMs: 10_000, sentAtMs: 500 })).state.leaseUntilMs, 0, 'a backup holds no lease');
  });
  test('row 36: with a control plane, a write at or after the lease end is refused CV-5015', () => {
    const s = st({ leaseUntilMs: 10_500 });
    assert.equal(refusal(s, { controlPlane: true, nowMs: 10_499 }), undefined);
    assert.deepEqual(refusal(s, { controlPlane: true, nowMs: 10_500 }), { error: 'LEASE_EXPIRED', headers: { 'retry-after': '1' } });
    assert.equal(refusal(st(), { controlPlane: false, nowMs: 1e9 }), undefined, 'no control plane, no lease needed');
  });
});

describe('reload (rows 37–44)', () => {
  const reload = (role: 'primary' | 'backup', o: Partial<Extract<RoleEvent, { kind: 'reload' }>> = {}): RoleEvent => ({ kind: 'reload', role, popId: ME, peerId: PEER, source: 'file', fileRole: role, ...o });
  test('row 37: primary → backup: sender discarded, drain/resync/hold cleared, demotion, last role backup, hello', () => {
    const r = step(st({ epoch: 2, seen: 2, draining: true, hold: hold('backup_ahead', 'positions') }), reload('backup'));
    assert.equal(r.state.role, 'backup');
    assert.equal(r.state.draining, false);
    assert.equal(r.state.hold, null);
    assert.equal(r.state.seen, 3, 'the successor\'s epoch is reserved');
    assert.deepEqual(eff(r, 'quarantineBacklog'), { kind: 'quarantineBacklog', popId: ME, epoch: 2 });
    assert.deepEqual(eff(r, 'stopSender'), { kind: 'stopSender', discard: true });
    for (const k of ['releaseWaiters', 'clearResync', 'sendHello']) assert.ok(kinds(r).includes(k), k);
    assert.deepEqual(eff(r, 'persistLastRole'), { kind: 'persistLastRole', role: 'backup' });
    assert.equal(reportedRole(r.state), 'backup');
    const never = step(st({ pending: true, lastRole: 'backup', hold: hold('peer_is_primary', 'peer_epoch') }), reload('backup'));
    assert.equal(eff(never, 'quarantineBacklog'), undefined, 'never promoted: nothing of its own to set aside');
    assert.equal(never.state.pending, false);
  });
  test('row 38: backup → primary by a directive: exactly the assigned epoch, positions check, heartbeat now, lease 0', () => {
    const r = step(backup({ leaseUntilMs: 99 }), reload('primary', { source: 'control_plane', directive: { action: 'promote', epoch: 5 } }));
    assert.equal(r.state.epoch, 5);
    assert.equal(r.state.leaseUntilMs, 0);
    assert.equal(r.state.pending, false);
    assert.deepEqual(eff(r, 'fetchPositions'), { kind: 'fetchPositions', phase: 'later' });
    assert.equal(r.effects.at(-1)?.kind, 'beatNow');
    assert.equal(logEvent(r, 'pop.role_from_control_plane'), undefined);
  });
  test('row 39: backup → primary by the file: pending, the start check', () => {
    const r = step(backup(), reload('primary'));
    assert.equal(r.state.pending, true);
    assert.equal(r.state.checking, true);
    assert.deepEqual(kinds(r), ['checkPeer']);
    assert.equal(r.state.epoch, 1, 'no promotion before the peer answers');
  });
  test('row 40: reload as primary while fenced → stays fenced, no new alert', () => {
    const r = step(st({ seen: 2 }), reload('primary'));
    assert.deepEqual(kinds(r), ['stopSender', 'releaseWaiters']);
    assert.equal(reportedRole(r.state), 'fenced');
  });
  test('row 41: reload as primary → recheck (positions; start check when pending)', () => {
    assert.deepEqual(step(st(), reload('primary')).effects, [{ kind: 'fetchPositions', phase: 'later' }]);
    assert.deepEqual(kinds(step(st({ pending: true, lastRole: 'backup' }), reload('primary'))), ['checkPeer']);
  });
  test('row 42: reload as backup → last role backup, hello', () => {
    assert.deepEqual(kinds(step(backup(), reload('backup'))), ['persistLastRole', 'sendHello']);
  });
  test('row 43: a reload whose file disagrees with a directive → CV-5020 warning, directed role kept', () => {
    const r = step(st(), reload('primary', { source: 'control_plane', fileRole: 'backup' }));
    assert.equal(logEvent(r, 'pop.role_from_control_plane')?.fields.code, 'CV-5020');
    assert.equal(r.state.role, 'primary');
  });
  test('row 44: a demote directive: seen = its epoch, lease 0, demotion, heartbeat now', () => {
    const r = step(st({ epoch: 2, seen: 2, leaseUntilMs: 50 }), reload('backup', { source: 'control_plane', directive: { action: 'demote', epoch: 4, primary_id: PEER } }));
    assert.equal(r.state.seen, 4);
    assert.equal(r.state.leaseUntilMs, 0);
    assert.deepEqual(eff(r, 'quarantineBacklog'), { kind: 'quarantineBacklog', popId: ME, epoch: 2 });
    assert.equal(r.effects.at(-1)?.kind, 'beatNow');
  });
});

describe('operator actions (rows 45–49)', () => {
  test('row 45: drain → writes 503 CV-5008, sender woken; a fenced POP does not drain', () => {
    const r = step(st(), { kind: 'drain' });
    assert.equal(r.state.draining, true);
    assert.ok(eff(r, 'resumeSender'));
    assert.deepEqual(refusal(r.state), { error: 'DRAINING', headers: { 'retry-after': '5' } });
    assert.deepEqual(kinds(step(st({ seen: 2 }), { kind: 'drain' })), []);
  });
  test('row 46: resume ends a drain and wakes the sender; a held or pending POP re-checks', () => {
    const r = step(st({ draining: true }), { kind: 'resume' });
    assert.equal(r.state.draining, false);
    assert.deepEqual(kinds(r), ['resumeSender']);
    assert.deepEqual(kinds(step(st({ hold: hold('backup_ahead', 'positions') }), { kind: 'resume' })), ['fetchPositions']);
    assert.deepEqual(kinds(step(st({ pending: true, lastRole: 'backup', hold: hold('peer_is_primary', 'peer_epoch') }), { kind: 'resume' })), ['checkPeer']);
  });
  test('row 47: promote --force over a live peer → logged override, hold cleared, promoted to seen + 1', () => {
    const h: WriteHold = { ...hold('peer_is_primary', 'peer_epoch'), peer: peer('primary', 3) };
    const r = step(st({ pending: true, lastRole: 'backup', seen: 3, hold: h }), { kind: 'forcePromote' });
    assert.equal(logEvent(r, 'pop.force_promoted')?.level, 'error');
    assert.equal(r.state.hold, null);
    assert.equal(r.state.epoch, 4);
    assert.equal(reportedRole(r.state), 'primary');
    assert.deepEqual(eff(r, 'fetchPositions'), { kind: 'fetchPositions', phase: 'later' });
  });
  test('row 48: promote --force with nothing to force → NOTHING_TO_FORCE (CV-5021)', () => {
    for (const s of [st(), backup(), st({ hold: hold('backup_ahead', 'positions') }), st({ pending: true, lastRole: 'backup' })]) {
      const r = step(s, { kind: 'forcePromote' });
      assert.deepEqual(r.effects, [{ kind: 'reject', error: 'NOTHING_TO_FORCE' }]);
      assert.equal(r.state, s);
    }
  });
  test('row 49: a persisted hold is announced once per process, when the start check ends', () => {
    const s = st({ checking: true, hold: hold('backup_ahead', 'diverged') });
    const first = step(s, { kind: 'positionsFailed', phase: 'start', error: 'x' });
    assert.deepEqual(alerts(first), ['backup_ahead']);
    assert.equal(first.state.checking, false);
    const second = step({ ...first.state, checking: true }, { kind: 'positionsFailed', phase: 'start', error: 'x' });
    assert.deepEqual(alerts(second), []);
  });
});

describe('writeRefusal (DESIGN.md §4.3)', () => {
  test('a backup refuses with CV-5001 and names its primary', () => {
    assert.deepEqual(refusal(backup()), { error: 'READ_ONLY_BACKUP', headers: { 'retry-after': '5', 'x-primary-location': URLS.primaryUrl } });
  });
  test('a settled primary accepts', () => {
    assert.equal(refusal(st()), undefined);
  });
});

describe('invariants over random event sequences', () => {
  const ev: fc.Arbitrary<RoleEvent> = fc.oneof(
    fc.constant<RoleEvent>({ kind: 'start' }),
    fc.record({ role: fc.constantFrom('primary' as const, 'backup' as const, 'fenced' as const), epoch: fc.nat(6) }).map((p): RoleEvent => ({ kind: 'peerEpoch', info: { pop_id: PEER, ...p }, atIso: AT })),
    fc.constant<RoleEvent>({ kind: 'peerEpoch', info: null, error: 'timeout', atIso: AT }),
    fc.record({ epoch: fc.nat(6), phase: fc.constantFrom('start' as const, 'later' as const) }).map((p): RoleEvent => ({ kind: 'positionsAnswered', ...p, role: 'backup', positions: {} })),
    fc.record({ ahead: fc.boolean(), phase: fc.constantFrom('start' as const, 'later' as const) }).map((p): RoleEvent => ({ kind: 'reconciled', phase: p.phase, ahead: p.ahead ? ['v'] : [], revisions: 0, vaults: 0, peerRole: 'backup', peerEpoch: 1, atIso: AT })),
    fc.nat(6).map((e): RoleEvent => ({ kind: 'hello', peer: { pop_id: PEER, role: 'backup', epoch: e } })),
    fc.nat(6).map((e): RoleEvent => ({ kind: 'higherEpoch', source: 'push', epoch: e, peerIsPrimary: true })),
    fc.nat(6).map((e): RoleEvent => ({ kind: 'pushAdopted', epoch: e })),
    fc.record({ epoch: fc.nat(6), ttl: fc.nat(10_000), promote: fc.option(fc.nat(8)) }).map((p): RoleEvent => ({ kind: 'controlPlaneAnswer', epoch: p.epoch, leaseTtlMs: p.ttl, directive: p.promote === null ? null : { action: 'promote', epoch: p.promote }, sentAtMs: 0 })),
    fc.record({ role: fc.constantFrom('primary' as const, 'backup' as const), directive: fc.option(fc.nat(8)) }).map((p): RoleEvent => ({
      kind: 'reload', role: p.role, popId: ME, peerId: PEER, source: 'file', fileRole: p.role,
      ...(p.directive === null ? {} : { directive: p.role === 'primary' ? { action: 'promote' as const, epoch: p.directive } : { action: 'demote' as const, epoch: p.directive, primary_id: PEER } }),
    })),
    fc.constantFrom<RoleEvent>({ kind: 'drain' }, { kind: 'resume' }, { kind: 'forcePromote' }, { kind: 'pushCounterBehind' }, { kind: 'pushDiverged', vaults: ['v'], atIso: AT }),
  );
  test('seen ≥ epoch, seen never decreases, and writes are accepted only by an unfenced, unheld, settled primary', () => {
    fc.assert(fc.property(fc.constantFrom<'primary' | 'backup'>('primary', 'backup'), fc.array(ev, { minLength: 1, maxLength: 40 }), (role, events) => {
      let s = boot(st({ role, lastRole: null, epoch: 0, seen: 0 })).state;
      for (const e of events) {
        const before = s;
        s = step(s, e).state;
        assert.ok(s.seen >= s.epoch, 'seen ≥ epoch');
        assert.ok(s.seen >= before.seen, 'seen never decreases');
        if (refusal(s) === undefined) {
          assert.equal(reportedRole(s), 'primary');
          assert.equal(s.checking, false);
          assert.equal(s.hold, null);
          assert.equal(isFenced(s), false);
        }
      }
    }), { numRuns: 300 });
  });
});
