/**
 * Control-plane decisions (src/controlplane/server/decide.ts), the cases mutation testing found
 * unpinned (issue 17 item 3, docs/testing.md): rows of the state machine at their edges, the
 * lease-holder and lease-overlap rules, "same object when unchanged", and the texts an operator
 * reads. Expected values come from docs/control-plane.md (state table, "B fit", the timing rule,
 * "P's lease expired": now > last heartbeat + lease_ttl + safety_margin).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  absorbHeartbeat, answerHeartbeat, decideFailover, directiveFor, leaseEndsMs, leaseRefusal, maxHeartbeatIntervalSeconds, settingsOf, timingProblem,
  type DecideSettings,
} from '../../src/controlplane/server/decide.js';
import { emptyPair, pairMembers, type PairState, type PopRecord } from '../../src/controlplane/server/records.js';
import { CONTROL_DEFAULTS } from '../../src/controlplane/server/config.js';
import type { HeartbeatRequest } from '../../src/controlplane/protocol.js';

const S: DecideSettings = { leaseTtlMs: 10_000, safetyMarginMs: 1000, failoverAfterMissedHeartbeats: 3, maxLagOnFailover: 0 };
const P = 'calgary-01';
const B = 'zurich-01';
const T0 = 1_800_000_000_000;
const iso = (ms: number) => new Date(ms).toISOString();

function hb(pop: string, o: Partial<HeartbeatRequest> = {}): HeartbeatRequest {
  return {
    pop_id: pop, region: 'r', role: pop === P ? 'primary' : 'backup', epoch: 1, peer_id: pop === P ? B : P,
    position: 100, backlog: 0, lag_seconds: 0, healthy: true, heartbeat_interval_seconds: 1, ...o,
  };
}
const pair0 = (): PairState => emptyPair(pairMembers(P, B));
const rec = (h: HeartbeatRequest, atMs: number, leased = h.role === 'primary'): PopRecord =>
  ({ heartbeat: h, received_at_ms: atMs, lease: leased ? { received_at_ms: atMs, epoch: h.epoch, ttl_ms: S.leaseTtlMs } : null });
const serving = (): PairState => absorbHeartbeat(pair0(), hb(P), T0);

test('settings: lease_ttl_seconds in milliseconds, the rest as configured', () => {
  assert.deepEqual(settingsOf({ ...CONTROL_DEFAULTS, leaseTtlSeconds: 7, safetyMarginMs: 250, failoverAfterMissedHeartbeats: 4, maxLagOnFailover: 9 }),
    { leaseTtlMs: 7000, safetyMarginMs: 250, failoverAfterMissedHeartbeats: 4, maxLagOnFailover: 9 });
});

test('timing rule: the longest interval is capped at 3600 s; the refusal names the longest allowed (docs: "at most 5" for 10 s)', () => {
  assert.equal(maxHeartbeatIntervalSeconds(1e9), 3600);
  assert.equal(maxHeartbeatIntervalSeconds(10_000), 5);
  assert.equal(maxHeartbeatIntervalSeconds(2000), 1);
  assert.equal(maxHeartbeatIntervalSeconds(100), 0);
  assert.equal(timingProblem(5, 10_000), null);
  const t = timingProblem(6, 10_000);
  assert.ok(t !== null);
  assert.match(t, /^heartbeat_interval_seconds 6 breaks the timing rule for this control plane's lease of 10000 ms /);
  assert.match(t, /set control_plane\.heartbeat_interval to at most 5 on the POP, or raise lease_ttl_seconds on the control plane$/);
});

test('row 1: an EMPTY pair adopts a primary reporting exactly the epoch already seen', () => {
  const seen = absorbHeartbeat(pair0(), hb(B, { epoch: 4 }), T0);
  assert.equal(seen.epoch, 4);
  assert.equal(seen.primary_id, null);
  assert.equal(seen.last_decision?.kind, 'epoch');
  assert.match(seen.last_decision!.text, /zurich-01 reported epoch 4, above the pair's 0; the pair's epoch is now 4/);
  const adopted = absorbHeartbeat(seen, hb(P, { epoch: 4 }), T0 + 1);
  assert.equal(adopted.primary_id, P);
  assert.equal(adopted.last_decision?.kind, 'adopt');
  assert.equal(adopted.last_decision?.at_ms, T0 + 1);
  assert.match(adopted.last_decision!.text, /^calgary-01 recognised as primary in epoch 4 \(the first primary reported\)$/);
  assert.equal(absorbHeartbeat(seen, hb(P, { epoch: 3 }), T0 + 1).primary_id, null, 'below the epoch seen: not adopted');
});

test('row 5: the pair primary reporting a higher epoch raises the epoch (no re-adoption); the same epoch changes nothing', () => {
  const p = serving();
  const up = absorbHeartbeat(p, hb(P, { epoch: 2 }), T0 + 5);
  assert.equal(up.epoch, 2);
  assert.equal(up.last_decision?.kind, 'epoch');
  assert.equal(absorbHeartbeat(p, hb(B), T0 + 5), p, 'same object when nothing changes');
  assert.equal(absorbHeartbeat(p, hb(P), T0 + 5), p);
});

test('row 6: adoption by hand names the epochs', () => {
  const p = serving();
  const byHand = absorbHeartbeat(p, hb(B, { role: 'primary', epoch: 3 }), T0 + 5);
  assert.equal(byHand.primary_id, B);
  assert.match(byHand.last_decision!.text, /^zurich-01 recognised as primary in epoch 3 \(it reports epoch 3, above the pair's 1: a failover done by hand\)$/);
});

/** PROMOTING(B) in epoch 2 after P died. */
function promoting(): PairState {
  const v = decideFailover({ pair: serving(), primary: rec(hb(P), T0), primarySeenMs: T0, backup: rec(hb(B), T0 + 11_000), nowMs: T0 + 11_001, settings: S });
  assert.equal(v.kind, 'promote');
  assert.match(v.text, new RegExp(`^promoting zurich-01 to primary in epoch 2: calgary-01 last sent a heartbeat at ${iso(T0).replace(/\./g, '\\.')} and its lease has expired$`));
  assert.deepEqual(v.pair.promote, { pop_id: B, epoch: 2 });
  return v.pair;
}

test('rows 14–15: the promote is cleared only by B reporting primary in the promote epoch or later', () => {
  const pr = promoting();
  assert.deepEqual(absorbHeartbeat(pr, hb(B, { epoch: 2 }), T0 + 20_000).promote, { pop_id: B, epoch: 2 }, 'B reports backup in epoch 2');
  assert.deepEqual(absorbHeartbeat(pr, hb(B, { role: 'primary', epoch: 1 }), T0 + 20_000).promote, { pop_id: B, epoch: 2 }, 'B reports primary below the promote epoch');
  assert.deepEqual(absorbHeartbeat(pr, hb(P, { role: 'primary', epoch: 2 }), T0 + 20_000).promote, { pop_id: B, epoch: 2 }, 'another POP reports primary');
  const applied = absorbHeartbeat(pr, hb(B, { role: 'primary', epoch: 2 }), T0 + 20_000);
  assert.equal(applied.promote, null);
  assert.equal(applied.last_decision?.kind, 'applied');
  assert.equal(applied.last_decision?.text, 'zurich-01 reports primary in epoch 2: promotion applied');
});

test('directives: promote only to the promoted POP; demote only to a non-primary member reporting primary or fenced below e', () => {
  const pr = promoting();
  assert.deepEqual(directiveFor(pr, hb(B, { epoch: 1 })), { action: 'promote', epoch: 2 });
  assert.deepEqual(directiveFor(pr, hb(P, { epoch: 1 })), { action: 'demote', epoch: 2, primary_id: B }, 'the old primary is demoted, not promoted');
  assert.equal(directiveFor(pr, hb(P, { role: 'backup', epoch: 1 })), null);
  const seen = absorbHeartbeat(pair0(), hb(B, { epoch: 3 }), T0);
  assert.equal(directiveFor(seen, hb(P, { role: 'fenced', epoch: 1 })), null, 'EMPTY: nobody to demote to');
  const s = absorbHeartbeat(serving(), hb(B, { epoch: 3 }), T0);
  assert.equal(directiveFor(s, hb(P, { epoch: 1 })), null, 'the pair primary itself below e gets lease 0, not a demote');
  assert.deepEqual(directiveFor({ ...s, primary_id: B }, hb(P, { role: 'fenced', epoch: 1 })), { action: 'demote', epoch: 3, primary_id: B });
});

test('lease end in the control plane view is received + ttl + margin; 0 without a lease', () => {
  assert.equal(leaseEndsMs(rec(hb(P), T0), S), T0 + 10_000 + 1000);
  assert.equal(leaseEndsMs(rec(hb(B), T0), S), 0);
  assert.equal(leaseEndsMs(null, S), 0);
});

test('lease refusals: reasons, the lease holder of this epoch, and no overlap with the peer lease (its last millisecond included)', () => {
  assert.equal(leaseRefusal(pair0(), hb(P), null, T0, S), 'no primary recognised yet');
  assert.equal(leaseRefusal(serving(), hb(B, { role: 'primary' }), null, T0, S), "calgary-01 is the pair's primary");
  assert.equal(leaseRefusal(serving(), hb(B), null, T0, S), 'reports role backup');
  assert.equal(leaseRefusal(serving(), hb(P), null, T0, S), null, 'no peer record');
  const e2 = { ...serving(), epoch: 2 };
  assert.equal(leaseRefusal(e2, hb(P, { epoch: 2 }), null, T0, S), null);
  assert.equal(leaseRefusal({ ...e2, lease_holder: { pop_id: B, epoch: 1 } }, hb(P, { epoch: 2 }), null, T0, S), null, 'a holder of an older epoch does not block');
  assert.equal(leaseRefusal({ ...e2, lease_holder: { pop_id: B, epoch: 2 } }, hb(P, { epoch: 2 }), null, T0, S), 'zurich-01 already held a lease in epoch 2');
  const peer = rec(hb(B, { role: 'primary' }), T0, true);
  const end = leaseEndsMs(peer, S);
  assert.equal(leaseRefusal(e2, hb(P, { epoch: 2 }), peer, end, S), `zurich-01's lease runs until ${iso(end)} in the control plane's view`);
  assert.equal(leaseRefusal(e2, hb(P, { epoch: 2 }), peer, end + 1, S), null);
});

test('answers: the pair object is unchanged when the holder is; the holder moves to the current epoch', () => {
  const p = serving();
  const first = answerHeartbeat(p, hb(P), null, null, T0, S);
  assert.deepEqual(first.pair.lease_holder, { pop_id: P, epoch: 1 });
  const again = answerHeartbeat(first.pair, hb(P), first.record, null, T0 + 1000, S);
  assert.equal(again.pair, first.pair, 'same object');
  assert.equal(again.response.lease_ttl_ms, 10_000);
  const up = { ...first.pair, epoch: 2 };
  const moved = answerHeartbeat(up, hb(P, { epoch: 2 }), again.record, null, T0 + 2000, S);
  assert.deepEqual(moved.pair.lease_holder, { pop_id: P, epoch: 2 });
  const refused = answerHeartbeat(up, hb(P, { epoch: 1 }), moved.record, null, T0 + 3000, S);
  assert.equal(refused.pair, up);
  assert.equal(refused.response.lease_ttl_ms, 0);
  assert.deepEqual(refused.record.lease, moved.record.lease, 'the last lease is kept');
});

test('failover verdicts: no primary, no backup, no record; B silent exactly the lease ttl is still fit; the wait names when', () => {
  assert.deepEqual(decideFailover({ pair: pair0(), primary: null, primarySeenMs: T0, backup: null, nowMs: T0, settings: S }).kind, 'wait');
  assert.equal(decideFailover({ pair: pair0(), primary: null, primarySeenMs: T0, backup: null, nowMs: T0, settings: S }).text, 'no member of this pair has reported itself primary yet');
  const single = absorbHeartbeat(emptyPair(pairMembers(P, null)), hb(P, { peer_id: null }), T0);
  const alone = decideFailover({ pair: single, primary: rec(hb(P, { peer_id: null }), T0), primarySeenMs: T0, backup: null, nowMs: T0 + 1e6, settings: S });
  assert.deepEqual([alone.kind, alone.text], ['ok', 'calgary-01 has no backup: nothing to fail over to']);
  const noRec = decideFailover({ pair: serving(), primary: null, primarySeenMs: T0, backup: null, nowMs: T0 + 1e6, settings: S });
  assert.deepEqual([noRec.kind, noRec.text], ['wait', "calgary-01 is the pair's primary but has no heartbeat on record"]);

  const now = T0 + 11_001;
  const fit = decideFailover({ pair: serving(), primary: rec(hb(P), T0), primarySeenMs: T0, backup: rec(hb(B), now - 10_000), nowMs: now, settings: S });
  assert.equal(fit.kind, 'promote', 'B heartbeated exactly lease ttl ago: within it');

  const waiting = decideFailover({ pair: serving(), primary: rec(hb(P, { heartbeat_interval_seconds: 5 }), T0), primarySeenMs: T0, backup: rec(hb(B), T0), nowMs: T0 + 10_001 + 1, settings: S });
  assert.equal(waiting.kind, 'wait');
  assert.equal(waiting.text, `calgary-01 has missed heartbeats since ${iso(T0)}; no failover before ${iso(T0 + 15_000)} (lease expired in the control plane's view and 3 heartbeats missed)`);
  const leaseLater = decideFailover({ pair: serving(), primary: rec(hb(P), T0), primarySeenMs: T0, backup: rec(hb(B), T0), nowMs: T0 + 5000, settings: S });
  assert.equal(leaseLater.text, `calgary-01 has missed heartbeats since ${iso(T0)}; no failover before ${iso(T0 + 11_001)} (lease expired in the control plane's view and 3 heartbeats missed)`, 'lease expired means strictly after received + ttl + margin');
  const ok = decideFailover({ pair: serving(), primary: rec(hb(P, { epoch: 1 }), T0), primarySeenMs: T0, backup: rec(hb(B), T0), nowMs: T0 + 1000, settings: S });
  assert.deepEqual([ok.kind, ok.text], ['ok', 'calgary-01 is primary in epoch 1 and sending heartbeats']);
  const pr = promoting();
  const pending = decideFailover({ pair: pr, primary: rec(hb(B, { role: 'backup' }), T0 + 20_000), primarySeenMs: T0 + 20_000, backup: rec(hb(P), T0), nowMs: T0 + 20_001, settings: S });
  assert.deepEqual([pending.kind, pending.text], ['wait', 'waiting for zurich-01 to report primary in epoch 2 (promote directive issued)']);
});
