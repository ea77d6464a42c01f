/**
 * The body of `GET /v1/status` (issue 5 item 3): every POP with its role, epoch, heartbeat age,
 * position, backlog, lag, health, lease left and pending directive; every pair with its epoch,
 * primary, last decision and the leader's current assessment (why it is or is not failing over).
 * The zod schema lets `clavitor-control status` check what it receives.
 */
import { z } from 'zod';
import { Directive } from '../protocol.js';
import { directiveFor, type DecideSettings } from './decide.js';
import { Assessment, Decision, pairIdOf, pairMembers, type PairState, type PopRecord } from './records.js';

/** One POP in the status. Times in ms since the epoch (`*_at_ms`) or ms (`*_ms`), lag in seconds. */
export const PopStatus = z.object({
  pop_id: z.string(),
  region: z.string(),
  pair_id: z.string(),
  peer_id: z.string().nullable(),
  role: z.enum(['primary', 'backup', 'fenced']),
  epoch: z.number(),
  last_heartbeat_at_ms: z.number(),
  /** Milliseconds since the control plane received the last heartbeat. */
  heartbeat_age_ms: z.number(),
  heartbeat_interval_seconds: z.number(),
  position: z.number(),
  backlog: z.number(),
  lag_seconds: z.number(),
  healthy: z.boolean(),
  /** Milliseconds left on the last lease, counted from when it was received (0: none or run out). */
  lease_remaining_ms: z.number(),
  /** The directive this POP gets on its next heartbeat, if any. */
  directive: Directive.nullable(),
  /**
   * Digest of the POP's audit chain heads from its last heartbeat (issue 13 §3): vaults, records,
   * SHA-256 over every vault's newest (seq, hash); null from a POP that sends none.
   */
  audit: z.object({ vaults: z.number(), records: z.number(), digest: z.string() }).nullable().optional(),
});
/** One POP in the status. */
export type PopStatus = z.infer<typeof PopStatus>;

/** One pair in the status. */
export const PairStatus = z.object({
  pair_id: z.string(),
  members: z.array(z.string()),
  epoch: z.number(),
  primary_id: z.string().nullable(),
  promote: z.object({ pop_id: z.string(), epoch: z.number() }).nullable(),
  last_decision: Decision.nullable(),
  assessment: Assessment.nullable(),
});
/** One pair in the status. */
export type PairStatus = z.infer<typeof PairStatus>;

/** The whole status body. */
export const ControlStatus = z.object({
  control_plane: z.object({
    instance_id: z.string(),
    /** True when the instance that answered is the one deciding failovers. */
    leader: z.boolean(),
    store: z.enum(['sqlite', 'etcd']),
    now_ms: z.number(),
    lease_ttl_ms: z.number(),
    safety_margin_ms: z.number(),
    failover_after_missed_heartbeats: z.number(),
    max_lag_on_failover: z.number(),
  }),
  pairs: z.array(PairStatus),
  pops: z.array(PopStatus),
});
/** The whole status body. */
export type ControlStatus = z.infer<typeof ControlStatus>;

/** Inputs of {@link buildStatus}. */
export interface StatusInput {
  readonly pops: readonly PopRecord[];
  readonly pairs: readonly PairState[];
  readonly assessments: ReadonlyMap<string, Assessment>;
  readonly nowMs: number;
  readonly settings: DecideSettings;
  readonly instanceId: string;
  readonly leader: boolean;
  readonly store: 'sqlite' | 'etcd';
}

/** Builds the status body from stored records (pure). */
export function buildStatus(i: StatusInput): ControlStatus {
  const pairs = new Map(i.pairs.map((p) => [p.pair_id, p]));
  const pops: PopStatus[] = i.pops.map((r) => {
    const hb = r.heartbeat;
    const pairId = pairIdOf(pairMembers(hb.pop_id, hb.peer_id));
    const pair = pairs.get(pairId);
    return {
      pop_id: hb.pop_id, region: hb.region, pair_id: pairId, peer_id: hb.peer_id, role: hb.role, epoch: hb.epoch,
      last_heartbeat_at_ms: r.received_at_ms,
      heartbeat_age_ms: Math.max(0, i.nowMs - r.received_at_ms),
      heartbeat_interval_seconds: hb.heartbeat_interval_seconds,
      position: hb.position, backlog: hb.backlog, lag_seconds: hb.lag_seconds, healthy: hb.healthy,
      lease_remaining_ms: r.lease ? Math.max(0, r.lease.received_at_ms + r.lease.ttl_ms - i.nowMs) : 0,
      directive: pair ? directiveFor(pair, hb) : null,
      audit: hb.audit ?? null,
    };
  });
  return {
    control_plane: {
      instance_id: i.instanceId, leader: i.leader, store: i.store, now_ms: i.nowMs,
      lease_ttl_ms: i.settings.leaseTtlMs, safety_margin_ms: i.settings.safetyMarginMs,
      failover_after_missed_heartbeats: i.settings.failoverAfterMissedHeartbeats, max_lag_on_failover: i.settings.maxLagOnFailover,
    },
    pairs: i.pairs.map((p) => ({
      pair_id: p.pair_id, members: p.members, epoch: p.epoch, primary_id: p.primary_id, promote: p.promote,
      last_decision: p.last_decision, assessment: i.assessments.get(p.pair_id) ?? null,
    })),
    pops,
  };
}
