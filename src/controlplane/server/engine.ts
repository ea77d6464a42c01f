/**
 * The control plane's I/O loop around the pure decisions of `decide.ts`:
 *
 * - `heartbeat(hb)`: read the POP's record, its pair and its peer; fold the heartbeat in; if this
 *   instance leads, decide the pair's failover right away (so a backup learns of its promotion in
 *   the answer to the heartbeat that made it possible); answer; and commit all of it with one
 *   compare-and-swap BEFORE answering. A lost race re-reads and decides again.
 * - `tick()`: on the leader, every {@link TICK_MS}, decide every pair (promotions when the backup
 *   talks to another instance, and the current assessment shown on the status page).
 * - `status()`: everything for `GET /v1/status`.
 */
import type { Logger } from 'pino';
import { cvError } from '../../lib/errors.js';
import type { HeartbeatRequest, HeartbeatResponse } from '../protocol.js';
import type { Clock } from './clock.js';
import { absorbHeartbeat, answerHeartbeat, decideFailover, type DecideSettings, type Verdict } from './decide.js';
import { ABSENT } from './kv.js';
import type { Leadership } from './leadership.js';
import { createObserver, type Observer } from './observer.js';
import { emptyPair, pairIdOf, pairMembers, type PairState, type PopRecord } from './records.js';
import { pairKey, popKey, type StateRepo } from './repo.js';
import { buildStatus, type ControlStatus } from './status.js';

/** How often the leader re-decides every pair, in milliseconds. */
export const TICK_MS = 250;
/** Compare-and-swap attempts for one heartbeat before answering 503. */
export const MAX_COMMIT_ATTEMPTS = 8;

/** What the engine needs. */
export interface EngineDeps {
  readonly repo: StateRepo;
  readonly leadership: Leadership;
  readonly clock: Clock;
  readonly settings: DecideSettings;
  readonly logger: Logger;
  /** This instance's name in logs, assessments and status. */
  readonly instanceId: string;
}

/** The engine; see `createEngine`. */
export type Engine = ReturnType<typeof createEngine>;

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** Builds the engine (no timers: the caller runs `tick()`). */
export function createEngine(deps: EngineDeps) {
  const { repo, leadership, clock, settings, logger, instanceId } = deps;
  let observer: Observer = createObserver();
  let observedTerm = -1;
  const assessed = new Map<string, string>();

  /** The observer of the current leadership term (a new term starts from a clean slate). */
  function currentObserver(): Observer {
    if (leadership.term() !== observedTerm) {
      observedTerm = leadership.term();
      observer = createObserver();
      assessed.clear();
    }
    return observer;
  }

  function decide(pair: PairState, rec: (id: string) => PopRecord | null, nowMs: number): Verdict {
    const obs = currentObserver();
    const primary = pair.primary_id === null ? null : rec(pair.primary_id);
    const backupId = pair.members.find((m) => m !== pair.primary_id);
    const primarySeenMs = primary ? obs.effectiveMs(primary.heartbeat.pop_id, primary.received_at_ms, nowMs) : nowMs;
    return decideFailover({ pair, primary, primarySeenMs, backup: backupId === undefined ? null : rec(backupId), nowMs, settings });
  }

  async function assess(pairId: string, v: Verdict, nowMs: number): Promise<void> {
    const sig = `${v.kind}:${v.text}`;
    if (assessed.get(pairId) === sig) return;
    assessed.set(pairId, sig);
    const level = v.kind === 'refuse' || v.kind === 'promote' ? 'warn' : 'info';
    logger[level]({ event: `control.${v.kind}`, pair: pairId }, v.text);
    try {
      await repo.putAssessment(pairId, { at_ms: nowMs, kind: v.kind, text: v.text, by: instanceId });
    } catch (e) {
      assessed.delete(pairId);
      logger.warn({ event: 'control.store_error', error: (e as Error).message }, 'could not store the assessment; will retry');
    }
  }

  function logDecision(before: PairState | undefined, after: PairState): void {
    const d = after.last_decision;
    if (d !== null && !same(d, before?.last_decision ?? null)) {
      logger.warn({ event: `control.decision.${d.kind}`, pair: after.pair_id, epoch: after.epoch, primary: after.primary_id }, d.text);
    }
  }

  /**
   * Issue 13 §3: a POP's audit trails only grow (records are appended, never removed), so a
   * heartbeat reporting fewer audit records than the last one means records were removed on that
   * host (or a vault was erased). Logged as a warning; the POP's status shows both figures.
   */
  function auditShrank(before: PopRecord | null, hb: HeartbeatRequest): void {
    const was = before?.heartbeat.audit;
    const now = hb.audit;
    if (!was || !now || now.records >= was.records) return;
    logger.warn({ event: 'control.audit_shrank', pop: hb.pop_id, records_before: was.records, records_now: now.records, vaults_before: was.vaults, vaults_now: now.vaults },
      `${hb.pop_id} reports ${now.records} audit records, fewer than the ${was.records} it reported before: audit records were removed on that host (or a vault erased)`);
  }

  async function heartbeat(hb: HeartbeatRequest): Promise<HeartbeatResponse> {
    const members = pairMembers(hb.pop_id, hb.peer_id);
    const pairId = pairIdOf(members);
    const peerId = members.find((m) => m !== hb.pop_id) ?? null;
    for (let attempt = 0; attempt < MAX_COMMIT_ATTEMPTS; attempt++) {
      const [own, stored, peer] = await Promise.all([repo.pop(hb.pop_id), repo.pair(pairId), peerId === null ? null : repo.pop(peerId)]);
      const nowMs = clock.nowMs();
      let pair = absorbHeartbeat(stored?.value ?? emptyPair(members), hb, nowMs);
      let verdict: Verdict | undefined;
      if (leadership.isLeader()) {
        const mine: PopRecord = { heartbeat: hb, received_at_ms: nowMs, lease: own?.value.lease ?? null };
        verdict = decide(pair, (id) => (id === hb.pop_id ? mine : id === peerId ? (peer?.value ?? null) : null), nowMs);
        pair = verdict.pair;
      }
      const ans = answerHeartbeat(pair, hb, own?.value ?? null, peer?.value ?? null, nowMs, settings);
      const puts: { key: string; value: unknown }[] = [{ key: popKey(hb.pop_id), value: ans.record }];
      if (!same(ans.pair, stored?.value)) puts.push({ key: pairKey(pairId), value: ans.pair });
      const expect = [
        { key: popKey(hb.pop_id), version: own?.version ?? ABSENT },
        { key: pairKey(pairId), version: stored?.version ?? ABSENT },
        ...(peerId === null ? [] : [{ key: popKey(peerId), version: peer?.version ?? ABSENT }]),
      ];
      if (!(await repo.commit(expect, puts))) continue;
      logDecision(stored?.value, ans.pair);
      auditShrank(own?.value ?? null, hb);
      if (verdict !== undefined) await assess(pairId, verdict, nowMs);
      logger.debug({ event: 'control.heartbeat', pop: hb.pop_id, role: hb.role, epoch: hb.epoch, lease_ttl_ms: ans.response.lease_ttl_ms, no_lease: ans.noLease, directive: ans.response.directive }, 'heartbeat answered');
      return ans.response;
    }
    throw cvError('CP_STORE_UNAVAILABLE', `heartbeat from ${hb.pop_id} lost ${MAX_COMMIT_ATTEMPTS} concurrent-update races in a row; the POP will retry`);
  }

  async function tick(): Promise<void> {
    if (!leadership.isLeader()) return;
    currentObserver();
    const [pops, pairs] = await Promise.all([repo.pops(), repo.pairs()]);
    const nowMs = clock.nowMs();
    const byId = new Map(pops.map((p) => [p.value.heartbeat.pop_id, p]));
    for (const p of pops) observer.effectiveMs(p.value.heartbeat.pop_id, p.value.received_at_ms, nowMs);
    for (const stored of pairs) {
      if (!leadership.isLeader()) return;
      const v = decide(stored.value, (id) => byId.get(id)?.value ?? null, nowMs);
      if (v.kind === 'promote') {
        const expect = [{ key: stored.key, version: stored.version }, ...stored.value.members.map((m) => ({ key: popKey(m), version: byId.get(m)?.version ?? ABSENT }))];
        if (!(await repo.commit(expect, [{ key: stored.key, value: v.pair }]))) continue; // changed meanwhile: decide again next tick
        logDecision(stored.value, v.pair);
      }
      await assess(stored.value.pair_id, v, nowMs);
    }
  }

  async function status(): Promise<ControlStatus> {
    const [pops, pairs, assessments] = await Promise.all([repo.pops(), repo.pairs(), repo.assessments()]);
    return buildStatus({
      pops: pops.map((p) => p.value), pairs: pairs.map((p) => p.value), assessments,
      nowMs: clock.nowMs(), settings, instanceId, leader: leadership.isLeader(), store: repo.kind,
    });
  }

  return { heartbeat, tick, status };
}
