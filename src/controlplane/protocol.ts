/**
 * The heartbeat protocol between a POP and a control plane (DESIGN.md §4.5; issue 5). One route:
 *
 *   POST /v1/heartbeat   Authorization: Bearer <token from control_plane.token_file>
 *
 * A POP sends its state every `heartbeat_interval` seconds; the answer grants a lease (to a
 * primary) and may carry a directive. Lease rule (see docs/control-plane.md): the POP's lease runs
 * from the moment it *sent* the heartbeat for `lease_ttl_ms`, while the control plane counts the
 * same lease from the moment it *received* it plus a safety margin, so the POP always believes its
 * lease expired before the control plane does — no clock agreement needed, only bounded drift.
 */
import { z } from 'zod';
import { MAX_EPOCH } from '../lib/epoch-bounds.js';

/** Path of the heartbeat route. */
export const HEARTBEAT_PATH = '/v1/heartbeat';
/** Path of the control plane's status (all POPs). */
export const CP_STATUS_PATH = '/v1/status';

/** What a POP reports. */
export const HeartbeatRequest = z.strictObject({
  pop_id: z.string().regex(/^[a-z0-9-]{1,63}$/),
  region: z.string().min(1).max(256),
  /** Role the POP reports right now (fenced: configured primary that refuses writes). */
  role: z.enum(['primary', 'backup', 'fenced']),
  epoch: z.number().int().min(0).max(MAX_EPOCH),
  /** The POP it replicates with (its backup when primary, its primary when backup). */
  peer_id: z.string().max(63).nullable(),
  /**
   * The POP's replication position (issue 12 item 3; DESIGN.md §4.4.2): its last log position
   * (LSN) when `position_epoch` is present. POPs from before log positions send no
   * `position_epoch`, and here the sum over all vaults of the head revision seq (a revision
   * count); the control plane compares two positions only when both are of the same kind.
   */
  position: z.number().int().min(0),
  /**
   * The epoch that wrote the log entry at `position` (from the POP's epoch history; 0 for an empty
   * log): with `position`, the pair (epoch, LSN) that orders two POPs' logs. Absent from POPs from
   * before log positions.
   */
  position_epoch: z.number().int().min(0).max(MAX_EPOCH).optional(),
  /** Revisions not yet acknowledged by the backup (primary) — 0 on a backup. */
  backlog: z.number().int().min(0),
  /** Age in seconds of the oldest unacknowledged revision. */
  lag_seconds: z.number().min(0),
  /** False when replication is degraded or the POP is fenced. */
  healthy: z.boolean(),
  /** The POP's configured heartbeat period, in seconds (checked against the timing rule). */
  heartbeat_interval_seconds: z.number().int().min(1).max(3600),
  /**
   * Digest of the POP's audit chain heads (issue 13 §3; src/vault/audit-anchor.ts): vaults with a
   * trail, records in all trails, SHA-256 over every vault's newest (seq, hash). Absent from
   * POPs before it.
   */
  audit: z.strictObject({
    vaults: z.number().int().min(0),
    records: z.number().int().min(0),
    digest: z.string().regex(/^[0-9a-f]{64}$/),
  }).optional(),
});
/** Parsed heartbeat. */
export type HeartbeatRequest = z.infer<typeof HeartbeatRequest>;

/** A directive from the control plane, applied by the POP like a reload and persisted. */
export const Directive = z.discriminatedUnion('action', [
  /** Become primary in `epoch`; the former primary (the POP's `primary_pop`) becomes its backup. */
  z.strictObject({ action: z.literal('promote'), epoch: z.number().int().min(1).max(MAX_EPOCH) }),
  /** Become backup of `primary_id` (the POP's `backup_pop`), which is primary in `epoch`. */
  z.strictObject({ action: z.literal('demote'), epoch: z.number().int().min(1).max(MAX_EPOCH), primary_id: z.string().max(63) }),
]);
/** Parsed directive. */
export type Directive = z.infer<typeof Directive>;

/** The control plane's answer. */
export const HeartbeatResponse = z.strictObject({
  /** Lease length in milliseconds, counted by the POP from when it sent the heartbeat (primary only; 0 for a backup). */
  lease_ttl_ms: z.number().int().min(0),
  /** Highest epoch the control plane has assigned in this POP's pair. */
  epoch: z.number().int().min(0).max(MAX_EPOCH),
  directive: Directive.nullable(),
});
/** Parsed answer. */
export type HeartbeatResponse = z.infer<typeof HeartbeatResponse>;

/**
 * Timing rule (issue 5, after Patroni's `loop_wait + 2 × retry_timeout ≤ ttl`):
 * `heartbeat_interval + 2 × request_timeout ≤ lease_ttl`, all in milliseconds. A POP's
 * heartbeat request times out after `requestTimeoutMs(interval)`.
 */
export function timingRuleHolds(heartbeatIntervalMs: number, leaseTtlMs: number): boolean {
  return heartbeatIntervalMs + 2 * requestTimeoutMs(heartbeatIntervalMs) <= leaseTtlMs;
}

/** Timeout of one heartbeat request, in milliseconds: half the interval, at most 5 s. */
export function requestTimeoutMs(heartbeatIntervalMs: number): number {
  return Math.min(5000, Math.max(200, Math.floor(heartbeatIntervalMs / 2)));
}
