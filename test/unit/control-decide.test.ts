/**
 * The control plane's decisions (src/controlplane/server/decide.ts), without I/O: every row of the
 * state machine table, every refusal reason, the timing rule, and — as properties over random
 * heartbeat sequences — that epochs never go down or get reused and that no two POPs ever hold a
 * lease in the same epoch or at the same time in the control plane's view.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  absorbHeartbeat, answerHeartbeat, decideFailover, directiveFor, leaseRefusal, maxHeartbeatIntervalSeconds, positionGap, timingProblem,
  type DecideSettings, type Verdict,
} from '../../src/controlplane/server/decide.js';
import { emptyPair, pairMembers, type PairState, type PopRecord } from '../../src/controlplane/server/records.js';
import { createObserver } from '../../src/controlplane/server/observer.js';
import { timingRuleHolds, type HeartbeatRequest } from '../../src/controlplane/protocol.js';

const S: DecideSettings = { leaseTtlMs: 10_000, safetyMarginMs: 1000, failoverAfterMissedHeartbeats: 3, maxLagOnFailover: 0 };
const P = 'calgary-01';
const B = 'zurich-01';
const T0 = 1_800_000_000_000;

function hb(pop: string, o: Partial<HeartbeatRequest> = {}): HeartbeatRequest {
  return {
    pop_id: pop, region: 'r', role: pop === P ? 'primary' : 'backup', epoch: 1, peer_id: pop === P ? B : P,
    position: 100, backlog: 0, lag_seconds: 0, healthy: true, heartbeat_interval_seconds: 1, ...o,
  };
}
const pair0 = (): PairState => emptyPair(pairMembers(P, B));
function rec(h: HeartbeatRequest, atMs: number, leased = h.role === 'primary'): PopRecord {
  return { heartbeat: h, received_at_ms: atMs, lease: leased ? { received_at_ms: atMs, epoch: h.epoch, ttl_ms: S.leaseTtlMs } : null };
}
/** P primary in epoch 1 since T0, B its backup. */
function serving(): PairState {
  return absorbHeartbeat(pair0(), hb(P), T0);
}
function failover(pair: PairState, p: PopRecord | null, b: PopRecord | null, nowMs: number, s = S): Verdict {
  return decideFailover({ pair, primary: p, primarySeenMs: p?.received_at_ms ?? nowMs, backup: b, nowMs, settings: s });
}
/** The moment P's lease has expired and 3 heartbeats are missed (both: max of the two). */
const EXPIRED = T0 + S.leaseTtlMs + S.safetyMarginMs + 1;

describe('state machine rows', () => {
  test('row 1: EMPTY, a POP reports primary → adopted, epoch taken, lease granted', () => {
    const pair = absorbHeartbeat(pair0(), hb(P, { epoch: 3 }), T0);
    assert.equal(pair.primary_id, P);
    assert.equal(pair.epoch, 3);
    assert.equal(pair.last_decision?.kind, 'adopt');
    const a = answerHeartbeat(pair, hb(P, { epoch: 3 }), null, null, T0, S);
    assert.deepEqual(a.response, { lease_ttl_ms: 10_000, epoch: 3, directive: null });
    assert.deepEqual(a.pair.lease_holder, { pop_id: P, epoch: 3 });
    assert.deepEqual(a.record.lease, { received_at_ms: T0, epoch: 3, ttl_ms: 10_000 });
  });

  test('row 1: a primary below an epoch already seen is not adopted and gets no lease', () => {
    const seen = absorbHeartbeat(pair0(), hb(B, { epoch: 5 }), T0);
    const pair = absorbHeartbeat(seen, hb(P, { epoch: 4 }), T0);
    assert.equal(pair.primary_id, null);
    assert.equal(answerHeartbeat(pair, hb(P, { epoch: 4 }), null, null, T0, S).response.lease_ttl_ms, 0);
  });

  test('row 2: EMPTY, a backup or fenced POP reports → epoch raised, nobody primary, lease 0', () => {
    for (const role of ['backup', 'fenced'] as const) {
      const pair = absorbHeartbeat(pair0(), hb(B, { role, epoch: 2 }), T0);
      assert.equal(pair.primary_id, null);
      assert.equal(pair.epoch, 2);
      assert.deepEqual(answerHeartbeat(pair, hb(B, { role, epoch: 2 }), null, null, T0, S).response, { lease_ttl_ms: 0, epoch: 2, directive: null });
    }
  });

  test('row 3: SERVING, the primary reports in the pair epoch → lease renewed on every heartbeat', () => {
    let pair = serving();
    let own: PopRecord | null = null;
    for (let i = 0; i < 5; i++) {
      const a = answerHeartbeat(absorbHeartbeat(pair, hb(P), T0 + i * 1000), hb(P), own, null, T0 + i * 1000, S);
      assert.equal(a.response.lease_ttl_ms, 10_000);
      pair = a.pair;
      own = a.record;
    }
    assert.equal(own?.lease?.received_at_ms, T0 + 4000);
  });

  test('row 4: lease 0 for the pair primary reporting below the pair epoch, backup or fenced', () => {
    const pair = { ...serving(), epoch: 2 };
    assert.match(leaseRefusal(pair, hb(P, { epoch: 1 }), null, T0, S)!, /below the pair's 2/);
    assert.match(leaseRefusal(serving(), hb(P, { role: 'backup' }), null, T0, S)!, /role backup/);
    assert.match(leaseRefusal(serving(), hb(P, { role: 'fenced' }), null, T0, S)!, /role fenced/);
  });

  test('row 5: any member reporting a higher epoch raises the pair epoch (never lowers it)', () => {
    const up = absorbHeartbeat(serving(), hb(B, { epoch: 7 }), T0);
    assert.equal(up.epoch, 7);
    assert.equal(up.primary_id, P);
    assert.equal(up.last_decision?.kind, 'epoch');
    assert.equal(absorbHeartbeat(up, hb(B, { epoch: 2 }), T0).epoch, 7);
  });

  test('row 6: another POP reporting primary above the pair epoch is adopted; its lease waits for the old one', () => {
    const base = { ...serving(), promote: { pop_id: P, epoch: 9 } };
    const pair = absorbHeartbeat(base, hb(B, { role: 'primary', epoch: 2 }), T0 + 500);
    assert.equal(pair.primary_id, B);
    assert.equal(pair.epoch, 2);
    assert.equal(pair.promote, null, 'a pending promote is dropped');
    const pRec = rec(hb(P), T0);
    const early = answerHeartbeat(pair, hb(B, { role: 'primary', epoch: 2 }), null, pRec, T0 + 500, S);
    assert.equal(early.response.lease_ttl_ms, 0);
    assert.match(early.noLease!, /calgary-01's lease runs until/);
    const late = answerHeartbeat(pair, hb(B, { role: 'primary', epoch: 2 }), null, pRec, T0 + S.leaseTtlMs + S.safetyMarginMs + 1, S);
    assert.equal(late.response.lease_ttl_ms, 10_000);
  });

  test('row 7: the old primary (primary or fenced, below the pair epoch) is told to demote until it reports backup', () => {
    const pair = { ...serving(), epoch: 2, primary_id: B };
    for (const role of ['primary', 'fenced'] as const) {
      const a = answerHeartbeat(pair, hb(P, { role, epoch: 1 }), null, null, T0, S);
      assert.deepEqual(a.response, { lease_ttl_ms: 0, epoch: 2, directive: { action: 'demote', epoch: 2, primary_id: B } });
    }
    assert.equal(directiveFor(pair, hb(P, { role: 'backup', epoch: 1 })), null, 'reported backup: the demotion is applied');
  });

  test('row 8: a second primary in the same epoch gets neither lease nor directive', () => {
    const pair = serving();
    const a = answerHeartbeat(absorbHeartbeat(pair, hb(B, { role: 'primary', epoch: 1 }), T0), hb(B, { role: 'primary', epoch: 1 }), null, null, T0, S);
    assert.deepEqual(a.response, { lease_ttl_ms: 0, epoch: 1, directive: null });
    assert.match(a.noLease!, /calgary-01 is the pair's primary/);
  });

  test('row 9: a silent primary whose lease has not expired in the control plane view → wait, never promote', () => {
    const p = rec(hb(P), T0);
    const b = rec(hb(B), T0 + 10_900, false);
    assert.equal(failover(serving(), p, b, T0 + 1500).kind, 'ok');
    const v = failover(serving(), p, b, T0 + 10_999);
    assert.equal(v.kind, 'wait');
    assert.match(v.text, /missed heartbeats since/);
    assert.equal(failover(serving(), p, rec(hb(B), T0 + 11_000, false), T0 + 11_000).kind, 'wait', 'at exactly ttl + margin the lease still runs');
    assert.equal(failover(serving(), p, rec(hb(B), T0 + 11_001, false), T0 + 11_001).kind, 'promote');
  });

  test('row 9: lease expired but fewer than N heartbeats missed → wait', () => {
    const p = rec(hb(P, { heartbeat_interval_seconds: 5 }), T0); // N × interval = 15 s > ttl + margin = 11 s
    const v = failover(serving(), p, rec(hb(B), T0 + 12_000, false), T0 + 12_000);
    assert.equal(v.kind, 'wait');
    assert.equal(failover(serving(), p, rec(hb(B), T0 + 15_000, false), T0 + 15_000).kind, 'promote');
  });

  test('row 10: the primary heartbeating again → ok, lease', () => {
    const p = rec(hb(P), EXPIRED - 100);
    assert.equal(failover(serving(), p, rec(hb(B), EXPIRED, false), EXPIRED).kind, 'ok');
  });

  test('row 11: promotion: epoch = max of every epoch seen + 1, B primary, promote pending, decision recorded', () => {
    const pair = { ...serving(), epoch: 4 };
    const v = failover(pair, rec(hb(P, { epoch: 4 }), T0), rec(hb(B, { epoch: 6 }), EXPIRED, false), EXPIRED);
    assert.equal(v.kind, 'promote');
    assert.equal(v.pair.epoch, 7);
    assert.equal(v.pair.primary_id, B);
    assert.deepEqual(v.pair.promote, { pop_id: B, epoch: 7 });
    assert.equal(v.pair.last_decision?.kind, 'promote');
    assert.match(v.text, /^promoting zurich-01 to primary in epoch 7/);
    const a = answerHeartbeat(v.pair, hb(B, { epoch: 6 }), null, rec(hb(P), T0), EXPIRED, S);
    assert.deepEqual(a.response, { lease_ttl_ms: 0, epoch: 7, directive: { action: 'promote', epoch: 7 } });
  });

  test('rows 12–13: REFUSING while the backup is unfit; promotion as soon as the reason clears', () => {
    const p = rec(hb(P), T0);
    const refused = failover(serving(), p, rec(hb(B, { healthy: false }), EXPIRED, false), EXPIRED);
    assert.equal(refused.kind, 'refuse');
    assert.equal(refused.text, 'not promoting zurich-01: zurich-01 reports itself unhealthy');
    assert.equal(refused.pair.promote, null);
    const cleared = failover(refused.pair, p, rec(hb(B), EXPIRED + 1000, false), EXPIRED + 1000);
    assert.equal(cleared.kind, 'promote');
    assert.equal(cleared.pair.epoch, 2);
  });

  test('row 14: PROMOTING: the directive repeats while B reports backup, and nothing else is decided', () => {
    const v = failover(serving(), rec(hb(P), T0), rec(hb(B), EXPIRED, false), EXPIRED);
    let pair = v.pair;
    for (let i = 1; i <= 3; i++) {
      pair = absorbHeartbeat(pair, hb(B), EXPIRED + i * 1000);
      assert.deepEqual(directiveFor(pair, hb(B)), { action: 'promote', epoch: 2 });
      // The pair's primary is now zurich-01 (heartbeating as backup); calgary-01 is the other member.
      const again = failover(pair, rec(hb(B), EXPIRED + i * 1000, false), rec(hb(P), T0), EXPIRED + i * 1000);
      assert.equal(again.kind, 'wait');
      assert.match(again.text, /waiting for zurich-01 to report primary in epoch 2/);
      assert.equal(again.pair.epoch, 2, 'no second promotion, no new epoch');
    }
  });

  test('row 15: B reports primary in the new epoch → applied, lease granted, old primary demoted', () => {
    const promoted = failover(serving(), rec(hb(P), T0), rec(hb(B), EXPIRED, false), EXPIRED).pair;
    const after = absorbHeartbeat(promoted, hb(B, { role: 'primary', epoch: 2 }), EXPIRED + 100);
    assert.equal(after.promote, null);
    assert.equal(after.last_decision?.kind, 'applied');
    const a = answerHeartbeat(after, hb(B, { role: 'primary', epoch: 2 }), null, rec(hb(P), T0), EXPIRED + 100, S);
    assert.deepEqual(a.response, { lease_ttl_ms: 10_000, epoch: 2, directive: null });
    assert.deepEqual(directiveFor(after, hb(P)), { action: 'demote', epoch: 2, primary_id: B });
  });

  test('row 16: a promoted backup that dies before taking over: the other member is promoted in a new epoch after the window', () => {
    const promoted = failover(serving(), rec(hb(P), T0), rec(hb(B), EXPIRED, false), EXPIRED).pair;
    const demoted = hb(P, { role: 'backup', epoch: 2, peer_id: B });
    const pair = absorbHeartbeat(promoted, demoted, EXPIRED + 100);
    const bLast = rec(hb(B), EXPIRED, false); // zurich-01's last heartbeat: still backup, never applied
    const early = failover(pair, bLast, rec(demoted, EXPIRED + 5000, false), EXPIRED + 5000);
    assert.equal(early.kind, 'wait');
    assert.match(early.text, /waiting for zurich-01 to report primary in epoch 2/);
    const at = EXPIRED + S.leaseTtlMs + S.safetyMarginMs + 1;
    const v = failover(pair, bLast, rec(demoted, at, false), at);
    assert.equal(v.kind, 'promote');
    assert.deepEqual(v.pair.promote, { pop_id: P, epoch: 3 });
    assert.equal(v.pair.primary_id, P);
  });

  test('a singleton (no peer) primary gets its lease and is never failed over', () => {
    const pair = absorbHeartbeat(emptyPair([P]), hb(P, { peer_id: null }), T0);
    assert.equal(answerHeartbeat(pair, hb(P, { peer_id: null }), null, null, T0, S).response.lease_ttl_ms, 10_000);
    assert.equal(failover(pair, rec(hb(P), T0), null, T0 + 60_000).kind, 'ok');
  });

  test('no primary known → wait (the control plane cannot vouch for a lease it never saw)', () => {
    assert.equal(failover(absorbHeartbeat(pair0(), hb(B), T0), null, rec(hb(B), T0, false), T0 + 60_000).kind, 'wait');
  });

  test('a lease granted under an earlier, longer ttl still blocks promotion for its own length', () => {
    const p: PopRecord = { ...rec(hb(P), T0), lease: { received_at_ms: T0, epoch: 1, ttl_ms: 30_000 } };
    assert.equal(failover(serving(), p, rec(hb(B), T0 + 20_000, false), T0 + 20_000).kind, 'wait');
    assert.equal(failover(serving(), p, rec(hb(B), T0 + 31_001, false), T0 + 31_001).kind, 'promote');
  });
});

describe('refusal reasons (expired primary, backup not fit)', () => {
  const p = rec(hb(P), T0);
  const refuse = (pRec: PopRecord, b: PopRecord | null, s = S) => {
    const v = failover(serving(), pRec, b, EXPIRED, s);
    assert.equal(v.kind, 'refuse');
    assert.equal(v.pair.epoch, 1, 'a refusal changes nothing');
    return v.text;
  };
  test('backup never reported', () => assert.equal(refuse(p, null), 'not promoting zurich-01: zurich-01 has never sent a heartbeat'));
  test('backup reports another role', () => assert.match(refuse(p, rec(hb(B, { role: 'fenced' }), EXPIRED, false)), /zurich-01 reports role fenced, not backup/));
  test('backup names another primary', () => assert.match(refuse(p, rec(hb(B, { peer_id: 'other-01' }), EXPIRED, false)), /names other-01 as its primary/));
  test('primary named another backup', () => assert.match(refuse(rec(hb(P, { peer_id: 'other-01' }), T0), rec(hb(B), EXPIRED, false)), /calgary-01 last named other-01 as its backup/));
  test('backup silent for more than the lease ttl', () => assert.match(refuse(p, rec(hb(B), EXPIRED - 10_001, false)), /zurich-01 has not sent a heartbeat within the lease ttl/));
  test('backup unhealthy', () => assert.match(refuse(p, rec(hb(B, { healthy: false }), EXPIRED, false)), /zurich-01 reports itself unhealthy/));
  test('primary backlog above max_lag_on_failover', () => {
    assert.equal(refuse(rec(hb(P, { backlog: 12 }), T0), rec(hb(B), EXPIRED, false)),
      'not promoting zurich-01: calgary-01 last reported 12 unreplicated revisions (max_lag_on_failover is 0)');
    const ok = failover(serving(), rec(hb(P, { backlog: 12, position: 112 }), T0), rec(hb(B, { position: 100 }), EXPIRED, false), EXPIRED, { ...S, maxLagOnFailover: 12 });
    assert.equal(ok.kind, 'promote', 'within max_lag_on_failover it promotes');
  });
  test('backup position behind what the primary last reported', () => {
    assert.match(refuse(rec(hb(P, { position: 110 }), T0), rec(hb(B, { position: 100 }), EXPIRED, false)),
      /zurich-01 reports position 100 but calgary-01 last reported 110: 10 revisions it cannot vouch for/);
  });
  // Issue 12 item 3: positions are (epoch, LSN) pairs; the expected gaps follow the log-matching
  // rule (DESIGN.md §4.4.2): one primary writes an epoch, a backup holds a prefix of its log.
  test('(epoch, LSN) positions: B behind in the same epoch cannot vouch for the difference', () => {
    assert.match(refuse(rec(hb(P, { position: 110, position_epoch: 2 }), T0), rec(hb(B, { position: 100, position_epoch: 2 }), EXPIRED, false)),
      /zurich-01 reports position lsn 100 \(epoch 2\) but calgary-01 last reported lsn 110 \(epoch 2\): 10 revisions it cannot vouch for/);
    assert.equal(failover(serving(), rec(hb(P, { position: 110, position_epoch: 2 }), T0), rec(hb(B, { position: 110, position_epoch: 2 }), EXPIRED, false), EXPIRED).kind, 'promote');
  });
  test('(epoch, LSN) positions: B whose last entry is from an older epoch lacks at least P\'s last entry, whatever its LSN', () => {
    assert.match(refuse(rec(hb(P, { position: 50, position_epoch: 3 }), T0), rec(hb(B, { position: 80, position_epoch: 2 }), EXPIRED, false)),
      /: 1 revisions it cannot vouch for/);
  });
  test('(epoch, LSN) positions: B at a later epoch than P\'s last report is the more advanced', () => {
    assert.equal(failover(serving(), rec(hb(P, { position: 90, position_epoch: 1 }), T0), rec(hb(B, { position: 60, position_epoch: 2 }), EXPIRED, false), EXPIRED).kind, 'promote');
  });
  test('a revision count (POP from before log positions) and an (epoch, LSN) pair are not compared: no promotion', () => {
    assert.match(refuse(rec(hb(P, { position: 100 }), T0), rec(hb(B, { position: 100, position_epoch: 1 }), EXPIRED, false)),
      /zurich-01 and calgary-01 report positions that cannot be compared \(calgary-01 reports a revision count/);
    assert.match(refuse(rec(hb(P, { position: 100, position_epoch: 1 }), T0), rec(hb(B, { position: 100 }), EXPIRED, false)),
      /cannot be compared \(zurich-01 reports a revision count/);
  });
});

describe('positionGap (table in decide.ts)', () => {
  const rows: [string, { position: number; position_epoch?: number }, { position: number; position_epoch?: number }, number | null][] = [
    ['B at a later epoch', { position: 90, position_epoch: 1 }, { position: 10, position_epoch: 2 }, 0],
    ['same epoch, B behind', { position: 90, position_epoch: 2 }, { position: 70, position_epoch: 2 }, 20],
    ['same epoch, B level', { position: 90, position_epoch: 2 }, { position: 90, position_epoch: 2 }, 0],
    ['same epoch, B past P\'s last report', { position: 90, position_epoch: 2 }, { position: 95, position_epoch: 2 }, 0],
    ['B at an older epoch, behind', { position: 90, position_epoch: 3 }, { position: 70, position_epoch: 2 }, 20],
    ['B at an older epoch, past P\'s LSN', { position: 90, position_epoch: 3 }, { position: 120, position_epoch: 2 }, 1],
    ['two revision counts', { position: 90 }, { position: 70 }, 20],
    ['count and pair', { position: 90 }, { position: 70, position_epoch: 1 }, null],
    ['pair and count', { position: 90, position_epoch: 1 }, { position: 70 }, null],
  ];
  for (const [name, p, b, gap] of rows) test(name, () => assert.equal(positionGap(p, b), gap));
});

describe('timing rule', () => {
  test('interval + 2 × request timeout ≤ lease, checked at the heartbeat', () => {
    assert.equal(maxHeartbeatIntervalSeconds(10_000), 5);
    assert.equal(maxHeartbeatIntervalSeconds(2000), 1);
    assert.equal(maxHeartbeatIntervalSeconds(1000), 0);
    assert.equal(maxHeartbeatIntervalSeconds(30_000), 20); // 20 s + 2 × 5 s cap
    assert.equal(timingProblem(5, 10_000), null);
    assert.match(timingProblem(6, 10_000)!, /heartbeat_interval_seconds 6 breaks the timing rule .* at most 5/);
    for (let s = 1; s <= 60; s++) assert.equal(timingProblem(s, 30_000) === null, timingRuleHolds(s * 1000, 30_000));
  });
});

describe('observer (count from first sight)', () => {
  test('after a restart a stale heartbeat counts from when the new leader first saw it', () => {
    const obs = createObserver();
    const restart = T0 + 60_000;
    assert.equal(obs.effectiveMs(P, T0, restart), restart);
    assert.equal(obs.effectiveMs(P, T0, restart + 5000), restart, 'first sight is remembered');
    assert.equal(obs.effectiveMs(P, restart + 6000, restart + 6000), restart + 6000, 'a new heartbeat moves it');
    const seen = obs.effectiveMs(P, T0, restart + 7000);
    assert.equal(seen, restart + 7000, 'a different stamp is a new sighting');
    const v = decideFailover({ pair: serving(), primary: rec(hb(P), T0), primarySeenMs: restart, backup: rec(hb(B), restart, false), nowMs: restart, settings: S });
    assert.equal(v.kind, 'ok', 'no failover right after a control-plane restart');
  });
});

describe('properties over random heartbeat sequences', () => {
  // Epochs are drawn relative to the pair's (mostly current, sometimes stale or ahead) and roles
  // mostly honest, so that promotions, demotions and adoptions all happen often. An `honest` event
  // reports what the control plane last told that POP (its role and the pair epoch; before any
  // primary is known, calgary-01 starts as primary in epoch 1): a promoted backup then asks for its lease, so the lease-overlap assertion is reached in most
  // runs (counted below, issue 17). The seed is fixed (CLAVITOR_PROP_SEED overrides it) and is
  // printed on failure.
  type Ev = { pop: 0 | 1; role: HeartbeatRequest['role']; epochDelta: number; healthy: boolean; backlog: number; dtMs: number; leader: boolean; honest: boolean };
  const SEED = Number(process.env.CLAVITOR_PROP_SEED ?? 170_017);
  const RUNS = 1000;
  const ev = fc.record({
    honest: fc.constantFrom(true, true, false),
    pop: fc.constantFrom(0 as const, 1 as const, 1 as const, 1 as const),
    role: fc.constantFrom('primary' as const, 'primary' as const, 'backup' as const, 'backup' as const, 'backup' as const, 'fenced' as const),
    epochDelta: fc.constantFrom(-2, -1, 0, 0, 0, 0, 1),
    healthy: fc.constantFrom(true, true, true, false),
    backlog: fc.constantFrom(0, 0, 0, 3),
    dtMs: fc.constantFrom(0, 300, 1000, 4000, 12_000, 12_000),
    leader: fc.constantFrom(true, true, false),
  });

  test('epochs never decrease or get reused; one lease holder per epoch; leases never overlap', (t) => {
    let overlapChecks = 0;
    let runsReachingOverlap = 0;
    const details = fc.check(fc.property(fc.array(ev, { minLength: 1, maxLength: 120, size: 'max' }), (events: Ev[]) => {
      let reached = false;
      const ids = [P, B];
      let pair = pair0();
      const recs = new Map<string, PopRecord>();
      let now = T0;
      let prevEpoch = 0;
      const promoted = new Set<number>();
      const holderOf = new Map<number, string>();
      const grants: { pop: string; at: number }[] = [];
      for (const e of events) {
        now += e.dtMs;
        const me = ids[e.pop]!;
        const other = ids[1 - e.pop]!;
        const h = e.honest
          ? hb(me, { role: (pair.primary_id ?? P) === me ? 'primary' : 'backup', epoch: Math.max(1, pair.epoch), healthy: e.healthy, backlog: e.backlog })
          : hb(me, { role: e.role, epoch: Math.max(0, pair.epoch + e.epochDelta), healthy: e.healthy, backlog: e.backlog });
        const before = pair.epoch;
        pair = absorbHeartbeat(pair, h, now);
        if (e.leader) {
          const mine: PopRecord = { heartbeat: h, received_at_ms: now, lease: recs.get(me)?.lease ?? null };
          const view = (id: string) => (id === me ? mine : (recs.get(id) ?? null));
          const pr = pair.primary_id === null ? null : view(pair.primary_id);
          const bid = pair.members.find((m) => m !== pair.primary_id);
          const v = decideFailover({ pair, primary: pr, primarySeenMs: pr?.received_at_ms ?? now, backup: bid ? view(bid) : null, nowMs: now, settings: S });
          if (v.kind === 'promote') {
            assert.ok(v.pair.epoch > before && v.pair.epoch > pair.epoch - 0, 'a promotion raises the epoch');
            assert.ok(!promoted.has(v.pair.epoch), 'a promotion epoch is never reused');
            assert.ok(v.pair.epoch > Math.max(...[...recs.values()].map((r) => r.heartbeat.epoch), h.epoch), 'above every epoch seen');
            promoted.add(v.pair.epoch);
          }
          pair = v.pair;
        }
        const a = answerHeartbeat(pair, h, recs.get(me) ?? null, recs.get(other) ?? null, now, S);
        pair = a.pair;
        recs.set(me, a.record);
        assert.ok(pair.epoch >= prevEpoch, 'the pair epoch never decreases');
        prevEpoch = pair.epoch;
        assert.equal(a.response.epoch, pair.epoch);
        if (a.response.lease_ttl_ms > 0) {
          assert.equal(h.epoch, pair.epoch, 'a lease only in the pair epoch');
          assert.equal(pair.primary_id, me, 'a lease only to the pair primary');
          const holder = holderOf.get(pair.epoch);
          assert.ok(holder === undefined || holder === me, `two POPs leased in epoch ${pair.epoch}`);
          holderOf.set(pair.epoch, me);
          const last = grants.filter((g) => g.pop !== me).at(-1);
          if (last !== undefined) {
            overlapChecks++;
            reached = true;
          }
          assert.ok(last === undefined || now > last.at + S.leaseTtlMs + S.safetyMarginMs, 'leases of two POPs never overlap in the control plane view');
          grants.push({ pop: me, at: now });
        }
      }
      if (reached) runsReachingOverlap++;
    }), { numRuns: RUNS, seed: SEED });
    if (details.failed) assert.fail(`${fc.defaultReportMessage(details) ?? 'property failed'}\n(seed ${SEED}; rerun with CLAVITOR_PROP_SEED=${SEED})`);
    t.diagnostic(`seed ${SEED}: the lease-overlap assertion ran ${overlapChecks} times, in ${runsReachingOverlap} of ${RUNS} runs`);
    // A property whose key assertion is reached in a few runs only proves little: require most.
    assert.ok(runsReachingOverlap >= RUNS / 2, `the lease-overlap assertion was reached in only ${runsReachingOverlap} of ${RUNS} runs (seed ${SEED})`);
  });
});
