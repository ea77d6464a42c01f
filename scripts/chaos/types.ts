/**
 * Records a chaos run keeps: client operations (the history the checkers judge), faults the
 * nemesis injected, and role observations of the POPs. Times are milliseconds since the run began.
 */

/** The two POPs of the pair. */
export type PopName = 'calgary-01' | 'zurich-01';
/** Both POP names, in a fixed order. */
export const POPS: readonly PopName[] = ['calgary-01', 'zurich-01'];
/** The other POP of the pair. */
export const otherPop = (p: PopName): PopName => (p === 'calgary-01' ? 'zurich-01' : 'calgary-01');

/** What a client operation was. */
export type OpKind = 'create' | 'update' | 'delete';
/**
 * Outcome of an operation: `ok` a 2xx; `failed` a definite refusal (4xx, 503, or a connection
 * that was never established), nothing was written; `unknown` a timeout, reset or other 5xx —
 * the write may or may not have committed.
 */
export type Outcome = 'ok' | 'failed' | 'unknown';

/** One client operation, as sent and as answered. */
export interface OpRecord {
  id: number;
  client: number;
  kind: OpKind;
  vault: string;
  /** Entry id (known in advance for update/delete, from the answer for an ok create). */
  entry: string | null;
  /** POP the request was sent to. */
  pop: PopName;
  start: number;
  end: number;
  outcome: Outcome;
  status: number | null;
  /** Error code of a refusal (`CV-…`) or the transport error. */
  error: string | null;
  /** For ok create/update: the revision seq (`version`) and its created_at (`updated_at`). */
  version?: number;
  updatedAt?: string;
}

/** Fault kinds the nemesis injects. */
export const FAULT_KINDS = ['kill', 'pause', 'link-cut', 'link-blackhole', 'link-reset', 'link-delay', 'token-rotation', 'switchover', 'failover', 'failover-restart', 'switchover-crash'] as const;
/** One fault kind. */
export type FaultKind = (typeof FAULT_KINDS)[number];

/** One injected fault, from injection to heal. */
export interface FaultRecord {
  kind: FaultKind;
  /** POP (or the POP behind a proxy) the fault hit. */
  target: PopName;
  start: number;
  end: number;
  /** What exactly happened (durations, steps, primary before/after). */
  detail: string;
  /** False when the procedure could not complete (e.g. a drain that timed out and was resumed). */
  completed: boolean;
  /**
   * Unplanned failovers: the crashed primary's backlog (revisions it had committed and its backup
   * had not acknowledged) as its status reported just before the SIGKILL; null when unknown.
   */
  backlogAtCrash?: number | null;
}

/** A POP's role and epoch as its status reported it, sometime in [t0, t1]. */
export interface RoleObservation {
  pop: PopName;
  t0: number;
  t1: number;
  role: 'primary' | 'backup' | 'fenced';
  epoch: number;
}

/** A stored revision as read back from a POP's files (vault file or quarantine). */
export interface StoredRevision {
  pop: PopName;
  vault: string;
  seq: number;
  kind: string;
  subject: string | null;
  epoch: number;
  originPop: string;
  createdAt: string;
  /** Present for quarantined revisions. */
  quarantineReason?: string;
  /** When it was quarantined (ISO wall-clock time), for quarantined revisions. */
  quarantinedAt?: string;
}
