/**
 * Every decision of the control plane, as plain functions over stored state (no I/O, no clock:
 * `nowMs` is an argument). `engine.ts` reads state, calls these, and commits the result with a
 * compare-and-swap before it answers, so a decision is durable before any POP acts on it.
 *
 * State machine of one pair (P = the pair's primary in the control plane's view, B = its peer,
 * e = the pair's epoch: the highest ever seen from a member or assigned here). The states SUSPECT
 * and REFUSING are not stored; the leader recomputes them (`decideFailover`) and shows the reason.
 *
 * | #  | state         | event                                                        | next          | answer / effect                                                   |
 * | -- | ------------- | ------------------------------------------------------------ | ------------- | ----------------------------------------------------------------- |
 * | 1  | EMPTY         | X reports primary, epoch ≥ e                                 | SERVING(X)    | adopt X, e = its epoch; lease to X                                |
 * | 2  | EMPTY         | X reports backup or fenced                                   | EMPTY         | e = max(e, its epoch); lease 0                                    |
 * | 3  | SERVING(P)    | P reports primary in e                                       | SERVING(P)    | lease to P (not while another POP's lease runs)                   |
 * | 4  | SERVING(P)    | P reports primary below e, or backup, or fenced              | SERVING(P)    | lease 0 (never a lease below the pair's epoch)                    |
 * | 5  | any           | a member reports an epoch above e                            | same          | e = that epoch                                                    |
 * | 6  | any but EMPTY | X ≠ P reports primary above e (failover done by hand)        | SERVING(X)    | adopt X, drop a pending promote; lease once P's lease has run out |
 * | 7  | any but EMPTY | X ≠ P reports primary or fenced below e                      | same          | demote{e, P}, lease 0, repeated until X reports backup            |
 * | 8  | SERVING(P)    | X ≠ P reports primary in e                                   | SERVING(P)    | lease 0, no directive (two primaries in one epoch: an operator's) |
 * | 9  | SERVING(P)    | P misses heartbeats, lease not yet expired or < N missed      | SUSPECT       | wait (shown)                                                      |
 * | 10 | SUSPECT       | P heartbeats again                                           | SERVING(P)    | lease (row 3)                                                     |
 * | 11 | SUSPECT       | P's lease expired and N missed, B fit (below)                | PROMOTING(B)  | e' = max(all epochs) + 1, primary = B, persisted; promote{e'} → B |
 * | 12 | SUSPECT       | P's lease expired and N missed, B not fit                    | REFUSING      | no promotion; the reason is recorded and shown                    |
 * | 13 | REFUSING      | the reason clears / P heartbeats                             | PROMOTING / SERVING(P) | as rows 11 / 10                                          |
 * | 14 | PROMOTING(B)  | B reports backup (or primary below e)                        | PROMOTING(B)  | promote{e} repeated, lease 0                                      |
 * | 15 | PROMOTING(B)  | B reports primary in e or later                              | SERVING(B)    | promote cleared ("applied"); lease to B                           |
 * | 16 | PROMOTING(B)  | B silent as in row 11 (B is now P), the other member A fit   | PROMOTING(A)  | as row 11: B died before taking over                              |
 *
 * "P's lease expired" means `now > P.last_heartbeat + lease_ttl + safety_margin` (the last heartbeat
 * as the deciding instance first saw it, `observer.ts`); "N missed" means
 * `now − P.last_heartbeat ≥ failover_after_missed_heartbeats × P.heartbeat_interval`. "B fit":
 * B has reported, reports role backup, B and P name each other as peers, B heartbeated within the
 * lease ttl, B reports healthy, P's last backlog ≤ max_lag_on_failover, and the revisions of P's
 * last position that B's position cannot vouch for (`positionGap`) ≤ max_lag_on_failover.
 * Invariants: e never decreases; a lease is granted only to the pair's primary, in e, and never
 * to two POPs in one epoch.
 *
 * Positions (issue 12 item 3): a POP reports the pair (epoch, LSN) of its last log entry
 * (`position_epoch`, `position`); a POP from before log positions reports a revision count
 * (`position` alone). `positionGap(P, B)`, revisions:
 *
 * | P reports     | B reports     | relation              | gap                                                       |
 * | ------------- | ------------- | --------------------- | --------------------------------------------------------- |
 * | (eP, lP)      | (eB, lB)      | eB > eP               | 0: B's log reaches a later epoch than P's (more advanced)  |
 * | (eP, lP)      | (eB, lB)      | eB = eP               | max(0, lP − lB): B holds P's log up to lB                 |
 * | (eP, lP)      | (eB, lB)      | eB < eP               | max(1, lP − lB): B lacks at least P's last entry          |
 * | count cP      | count cB      | —                     | cP − cB (the rule before log positions)                    |
 * | pair          | count, or vice versa | —              | not comparable: no promotion (upgrade both, or by hand)   |
 */
import type { Directive, HeartbeatRequest, HeartbeatResponse } from '../protocol.js';
import { timingRuleHolds } from '../protocol.js';
import type { ControlConfig } from './config.js';
import type { Decision, PairState, PopRecord } from './records.js';

/** The settings decisions depend on, all in milliseconds or counts. */
export interface DecideSettings {
  /** Lease granted per heartbeat, in milliseconds. */
  readonly leaseTtlMs: number;
  /** Added to a lease in the control plane's view, in milliseconds. */
  readonly safetyMarginMs: number;
  /** Heartbeat intervals the primary must have missed before failover. */
  readonly failoverAfterMissedHeartbeats: number;
  /** Unreplicated revisions tolerated on failover. */
  readonly maxLagOnFailover: number;
}

/** Decision settings from the validated config. */
export function settingsOf(cfg: ControlConfig): DecideSettings {
  return {
    leaseTtlMs: cfg.leaseTtlSeconds * 1000,
    safetyMarginMs: cfg.safetyMarginMs,
    failoverAfterMissedHeartbeats: cfg.failoverAfterMissedHeartbeats,
    maxLagOnFailover: cfg.maxLagOnFailover,
  };
}

/** Longest heartbeat interval, in whole seconds (1..3600), that satisfies the timing rule for `leaseTtlMs`; 0 if none. */
export function maxHeartbeatIntervalSeconds(leaseTtlMs: number): number {
  let best = 0;
  for (let s = 1; s <= 3600 && timingRuleHolds(s * 1000, leaseTtlMs); s++) best = s;
  return best;
}

/** Why a heartbeat interval (seconds) breaks the timing rule for `leaseTtlMs`, or null when it holds. */
export function timingProblem(intervalSeconds: number, leaseTtlMs: number): string | null {
  if (timingRuleHolds(intervalSeconds * 1000, leaseTtlMs)) return null;
  const max = maxHeartbeatIntervalSeconds(leaseTtlMs);
  return `heartbeat_interval_seconds ${intervalSeconds} breaks the timing rule for this control plane's lease of ${leaseTtlMs} ms ` +
    `(interval + 2 × request timeout ≤ lease): set control_plane.heartbeat_interval to at most ${max} on the POP, ` +
    'or raise lease_ttl_seconds on the control plane';
}

const iso = (ms: number): string => new Date(ms).toISOString();

function decision(kind: Decision['kind'], atMs: number, text: string): Decision {
  return { at_ms: atMs, kind, text };
}

/**
 * Folds one heartbeat into its pair (rows 1, 2, 5, 6, 15): raises the epoch to the reported one,
 * adopts a primary reported with no primary known or above the pair's epoch, and clears a promote
 * the POP has applied. Returns `pair` itself when nothing changes.
 */
export function absorbHeartbeat(pair: PairState, hb: HeartbeatRequest, nowMs: number): PairState {
  let next = pair;
  const adoptFirst = hb.role === 'primary' && pair.primary_id === null && hb.epoch >= pair.epoch;
  const adoptHigher = hb.role === 'primary' && pair.primary_id !== null && pair.primary_id !== hb.pop_id && hb.epoch > pair.epoch;
  if (adoptFirst || adoptHigher) {
    const why = adoptFirst ? 'the first primary reported' : `it reports epoch ${hb.epoch}, above the pair's ${pair.epoch}: a failover done by hand`;
    next = { ...pair, epoch: hb.epoch, primary_id: hb.pop_id, promote: null, last_decision: decision('adopt', nowMs, `${hb.pop_id} recognised as primary in epoch ${hb.epoch} (${why})`) };
  } else if (hb.epoch > pair.epoch) {
    next = { ...pair, epoch: hb.epoch, last_decision: decision('epoch', nowMs, `${hb.pop_id} reported epoch ${hb.epoch}, above the pair's ${pair.epoch}; the pair's epoch is now ${hb.epoch}`) };
  }
  const p = next.promote;
  if (p !== null && p.pop_id === hb.pop_id && hb.role === 'primary' && hb.epoch >= p.epoch) {
    next = { ...next, promote: null, last_decision: decision('applied', nowMs, `${hb.pop_id} reports primary in epoch ${hb.epoch}: promotion applied`) };
  }
  return next;
}

/** The directive a POP reporting `hb` gets from `pair` (rows 7, 14), or null. Repeated until it reports the new role. */
export function directiveFor(pair: PairState, hb: Pick<HeartbeatRequest, 'pop_id' | 'role' | 'epoch'>): Directive | null {
  if (pair.promote !== null && pair.promote.pop_id === hb.pop_id) return { action: 'promote', epoch: pair.promote.epoch };
  if (pair.primary_id !== null && pair.primary_id !== hb.pop_id && hb.role !== 'backup' && hb.epoch < pair.epoch) {
    return { action: 'demote', epoch: pair.epoch, primary_id: pair.primary_id };
  }
  return null;
}

/** When a POP's last lease ends in the control plane's view (received + ttl + margin), in ms; 0 without one. */
export function leaseEndsMs(rec: PopRecord | null, s: DecideSettings): number {
  return rec?.lease ? rec.lease.received_at_ms + rec.lease.ttl_ms + s.safetyMarginMs : 0;
}

/** Why `hb` gets no lease from `pair` (rows 3, 4, 6, 8), or null when it gets one. `peer` is the other member's record. */
export function leaseRefusal(pair: PairState, hb: HeartbeatRequest, peer: PopRecord | null, nowMs: number, s: DecideSettings): string | null {
  if (hb.role !== 'primary') return `reports role ${hb.role}`;
  if (pair.primary_id !== hb.pop_id) return pair.primary_id === null ? 'no primary recognised yet' : `${pair.primary_id} is the pair's primary`;
  if (hb.epoch !== pair.epoch) return `reports epoch ${hb.epoch}, below the pair's ${pair.epoch}`;
  const holder = pair.lease_holder;
  if (holder !== null && holder.epoch === pair.epoch && holder.pop_id !== hb.pop_id) return `${holder.pop_id} already held a lease in epoch ${pair.epoch}`;
  if (peer !== null && peer.heartbeat.pop_id !== hb.pop_id && nowMs <= leaseEndsMs(peer, s)) {
    return `${peer.heartbeat.pop_id}'s lease runs until ${iso(leaseEndsMs(peer, s))} in the control plane's view`;
  }
  return null;
}

/** The result of answering one heartbeat. */
export interface Answer {
  /** What the POP is told. */
  readonly response: HeartbeatResponse;
  /** The pair after this heartbeat (same object when unchanged). */
  readonly pair: PairState;
  /** The POP's record to store. */
  readonly record: PopRecord;
  /** Why no lease was granted, or null when one was. */
  readonly noLease: string | null;
}

/**
 * Answers a heartbeat against its (already absorbed) pair: lease, epoch and directive, the POP's
 * new record, and the pair with its lease holder updated. `previous` is the POP's stored record,
 * `peer` the other member's.
 */
export function answerHeartbeat(pair: PairState, hb: HeartbeatRequest, previous: PopRecord | null, peer: PopRecord | null, nowMs: number, s: DecideSettings): Answer {
  const noLease = leaseRefusal(pair, hb, peer, nowMs, s);
  const granted = noLease === null;
  const holderChanges = granted && (pair.lease_holder?.pop_id !== hb.pop_id || pair.lease_holder.epoch !== pair.epoch);
  const nextPair = holderChanges ? { ...pair, lease_holder: { pop_id: hb.pop_id, epoch: pair.epoch } } : pair;
  return {
    response: { lease_ttl_ms: granted ? s.leaseTtlMs : 0, epoch: pair.epoch, directive: directiveFor(pair, hb) },
    pair: nextPair,
    record: { heartbeat: hb, received_at_ms: nowMs, lease: granted ? { received_at_ms: nowMs, epoch: pair.epoch, ttl_ms: s.leaseTtlMs } : (previous?.lease ?? null) },
    noLease,
  };
}

/** The leader's view of one pair for a failover decision. */
export interface FailoverInput {
  readonly pair: PairState;
  /** Record of `pair.primary_id`, or null when it never reported. */
  readonly primary: PopRecord | null;
  /** The primary's last heartbeat time as this leader counts it (`observer.ts`), in ms. */
  readonly primarySeenMs: number;
  /** Record of the other member, or null. */
  readonly backup: PopRecord | null;
  readonly nowMs: number;
  readonly settings: DecideSettings;
}

/** The verdict on one pair: nothing to do, wait, refuse (with why), or promote (with the new pair to persist). */
export interface Verdict {
  readonly kind: 'ok' | 'wait' | 'refuse' | 'promote';
  /** Operator-readable reason, stable while the situation is (no ages in it). */
  readonly text: string;
  /** The pair to persist (changed only for `promote`). */
  readonly pair: PairState;
}

/** Why B cannot be promoted over P (rows 11, 12), or null when it can. */
function unfit(p: PopRecord, b: PopRecord | null, backupId: string, nowMs: number, s: DecideSettings): string | null {
  const pid = p.heartbeat.pop_id;
  if (b === null) return `${backupId} has never sent a heartbeat`;
  const bh = b.heartbeat;
  if (bh.role !== 'backup') return `${backupId} reports role ${bh.role}, not backup`;
  if (bh.peer_id !== pid) return `${backupId} names ${bh.peer_id ?? 'no peer'} as its primary, not ${pid}`;
  if (p.heartbeat.peer_id !== backupId) return `${pid} last named ${p.heartbeat.peer_id ?? 'no peer'} as its backup, not ${backupId}`;
  if (nowMs - b.received_at_ms > s.leaseTtlMs) return `${backupId} has not sent a heartbeat within the lease ttl (${s.leaseTtlMs} ms)`;
  if (!bh.healthy) return `${backupId} reports itself unhealthy`;
  if (p.heartbeat.backlog > s.maxLagOnFailover) {
    return `${pid} last reported ${p.heartbeat.backlog} unreplicated revisions (max_lag_on_failover is ${s.maxLagOnFailover})`;
  }
  const gap = positionGap(p.heartbeat, bh);
  if (gap === null) {
    return `${backupId} and ${pid} report positions that cannot be compared (${bh.position_epoch === undefined ? backupId : pid} reports a revision count: a POP from before log positions); upgrade both POPs, or fail over by hand`;
  }
  if (gap > s.maxLagOnFailover) {
    return `${backupId} reports position ${showPosition(bh)} but ${pid} last reported ${showPosition(p.heartbeat)}: ${gap} revisions it cannot vouch for (max_lag_on_failover is ${s.maxLagOnFailover})`;
  }
  return null;
}

/** A reported position as shown in reasons: `lsn L (epoch E)`, or the bare count of an older POP. */
const showPosition = (h: Pick<HeartbeatRequest, 'position' | 'position_epoch'>): string =>
  h.position_epoch === undefined ? String(h.position) : `lsn ${h.position} (epoch ${h.position_epoch})`;

/**
 * Revisions of `primary`'s reported position that `backup`'s cannot vouch for (table in the header;
 * issue 12 item 3): from the (epoch, LSN) pairs, or from two revision counts (POPs from before log
 * positions); null when one reports a pair and the other a count.
 */
export function positionGap(primary: Pick<HeartbeatRequest, 'position' | 'position_epoch'>, backup: Pick<HeartbeatRequest, 'position' | 'position_epoch'>): number | null {
  const eP = primary.position_epoch;
  const eB = backup.position_epoch;
  if (eP === undefined && eB === undefined) return primary.position - backup.position;
  if (eP === undefined || eB === undefined) return null;
  if (eB > eP) return 0;
  const behind = primary.position - backup.position;
  return eB === eP ? Math.max(0, behind) : Math.max(1, behind);
}

/** Decides whether to fail a pair over (rows 9–13); see the table above. */
export function decideFailover(input: FailoverInput): Verdict {
  const { pair, primary: p, backup: b, nowMs, settings: s } = input;
  const verdict = (kind: Verdict['kind'], text: string): Verdict => ({ kind, text, pair });
  const pid = pair.primary_id;
  if (pid === null) return verdict('wait', 'no member of this pair has reported itself primary yet');
  const backupId = pair.members.find((m) => m !== pid);
  if (backupId === undefined) return verdict('ok', `${pid} has no backup: nothing to fail over to`);
  if (p === null) return verdict('wait', `${pid} is the pair's primary but has no heartbeat on record`);
  const intervalMs = p.heartbeat.heartbeat_interval_seconds * 1000;
  // A lease granted under an earlier, longer lease_ttl_seconds still counts with its own length.
  const expiresMs = input.primarySeenMs + Math.max(s.leaseTtlMs, p.lease?.ttl_ms ?? 0) + s.safetyMarginMs;
  const missedEnoughMs = input.primarySeenMs + s.failoverAfterMissedHeartbeats * intervalMs;
  if (nowMs <= expiresMs || nowMs < missedEnoughMs) {
    if (pair.promote !== null) return verdict('wait', `waiting for ${pair.promote.pop_id} to report primary in epoch ${pair.promote.epoch} (promote directive issued)`);
    if (nowMs - input.primarySeenMs <= 2 * intervalMs) return verdict('ok', `${pid} is primary in epoch ${pair.epoch} and sending heartbeats`);
    return verdict('wait', `${pid} has missed heartbeats since ${iso(input.primarySeenMs)}; no failover before ${iso(Math.max(expiresMs + 1, missedEnoughMs))} (lease expired in the control plane's view and ${s.failoverAfterMissedHeartbeats} heartbeats missed)`);
  }
  const why = unfit(p, b, backupId, nowMs, s);
  if (why !== null) return verdict('refuse', `not promoting ${backupId}: ${why}`);
  const epoch = Math.max(pair.epoch, p.heartbeat.epoch, b!.heartbeat.epoch) + 1;
  const text = `promoting ${backupId} to primary in epoch ${epoch}: ${pid} last sent a heartbeat at ${iso(input.primarySeenMs)} and its lease has expired`;
  return {
    kind: 'promote',
    text,
    pair: { ...pair, epoch, primary_id: backupId, promote: { pop_id: backupId, epoch }, last_decision: decision('promote', nowMs, text) },
  };
}
