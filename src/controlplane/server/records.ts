/**
 * What the control plane stores (SQLite `control.db` or etcd under `/clavitor/control/`), as zod
 * schemas checked on every read. Field names are snake_case like the wire protocol; all times are
 * milliseconds since the Unix epoch on the storing instance's clock (`clock.ts`).
 *
 *   pops/<pop_id>          PopRecord:  last heartbeat (all fields), when it was received, last lease
 *   pairs/<pair_id>        PairState:  highest epoch, who is primary, pending promote, last decision
 *   assessments/<pair_id>  Assessment: the leader's current verdict on failover, with its reason
 */
import { MAX_EPOCH } from '../../lib/epoch-bounds.js';
import { z } from 'zod';
import { HeartbeatRequest } from '../protocol.js';

/** The last lease granted to a POP: when the heartbeat it answered was received, its epoch and length. */
export const LeaseGrant = z.strictObject({
  received_at_ms: z.number().int().min(0),
  epoch: z.number().int().min(0).max(MAX_EPOCH),
  ttl_ms: z.number().int().min(0),
});
/** Parsed lease grant. */
export type LeaseGrant = z.infer<typeof LeaseGrant>;

/** Per POP: the last heartbeat and when it arrived. */
export const PopRecord = z.strictObject({
  heartbeat: HeartbeatRequest,
  /** When the control plane received `heartbeat`, in ms. */
  received_at_ms: z.number().int().min(0),
  /** The last lease granted to this POP (kept across heartbeats that got none), or null. */
  lease: LeaseGrant.nullable(),
});
/** Parsed POP record. */
export type PopRecord = z.infer<typeof PopRecord>;

/** A state change of a pair, kept for the status page: what happened, when, and why. */
export const Decision = z.strictObject({
  at_ms: z.number().int().min(0),
  /** adopt: a primary recognised; epoch: a higher epoch seen; promote: directive issued; applied: the POP took its new role. */
  kind: z.enum(['adopt', 'epoch', 'promote', 'applied']),
  text: z.string(),
});
/** Parsed decision. */
export type Decision = z.infer<typeof Decision>;

/** Per pair (the POP and its peer): the authority on epochs and on who may hold a lease. */
export const PairState = z.strictObject({
  pair_id: z.string(),
  /** Sorted POP ids: two for a pair, one for a POP that reports no peer. */
  members: z.array(z.string()).min(1).max(2),
  /** Highest epoch seen from any member or assigned by the control plane. Never decreases. */
  epoch: z.number().int().min(0).max(MAX_EPOCH),
  /** The POP the control plane considers primary (only it may get a lease), or null before any reported primary. */
  primary_id: z.string().nullable(),
  /** Who was last granted a lease, in which epoch (at most one POP per epoch). */
  lease_holder: z.strictObject({ pop_id: z.string(), epoch: z.number().int().min(0).max(MAX_EPOCH) }).nullable(),
  /** Promote directive repeated to `pop_id` until it reports primary in `epoch` or later. */
  promote: z.strictObject({ pop_id: z.string(), epoch: z.number().int().min(1).max(MAX_EPOCH) }).nullable(),
  last_decision: Decision.nullable(),
});
/** Parsed pair state. */
export type PairState = z.infer<typeof PairState>;

/** The leader's current verdict on a pair (rewritten only when the text changes). */
export const Assessment = z.strictObject({
  at_ms: z.number().int().min(0),
  /** ok: nothing to do; wait: primary silent but not yet failed over; refuse: failover refused; promote: failover decided. */
  kind: z.enum(['ok', 'wait', 'refuse', 'promote']),
  text: z.string(),
  /** Instance id of the leader that wrote it. */
  by: z.string(),
});
/** Parsed assessment. */
export type Assessment = z.infer<typeof Assessment>;

/** Members of the pair a POP reports: itself and its peer, sorted (just itself without a peer). */
export function pairMembers(popId: string, peerId: string | null): string[] {
  return peerId === null || peerId === popId ? [popId] : [popId, peerId].sort();
}

/** Id of a pair from its members: `calgary-01+zurich-01`. */
export function pairIdOf(members: readonly string[]): string {
  return members.join('+');
}

/** A pair nobody has reported on yet (epoch 0, no primary). */
export function emptyPair(members: readonly string[]): PairState {
  return { pair_id: pairIdOf(members), members: [...members], epoch: 0, primary_id: null, lease_holder: null, promote: null, last_decision: null };
}
