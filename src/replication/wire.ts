/**
 * The inter-POP replication protocol (DESIGN.md §4.4): paths, headers and zod schemas of what
 * crosses the wire. Every push carries the sender's epoch and POP id; the receiver answers with
 * its own epoch so that a stale primary learns it has been superseded.
 */
import { z } from 'zod';
import { RevisionWire } from '../vault/revision.js';
import { MAX_EPOCH } from '../lib/epoch-bounds.js';

/** Path of a replication push (POST). */
export const PUSH_PATH = '/replication/v1/push';
/** Path of the backup's "I am up" announcement to its primary (POST). */
export const HELLO_PATH = '/replication/v1/hello';
/** Path a POP uses to learn its peer's epoch and role (GET). */
export const EPOCH_PATH = '/replication/v1/epoch';

/** Path of the backup's replication position (GET): epoch, last LSN, epoch history; for full resync. */
export const POSITIONS_PATH = '/replication/v1/positions';
/** Path of the per-vault digests (GET), for verify. */
export const DIGESTS_PATH = '/replication/v1/digests';

/** Largest push body a receiver accepts, in bytes (64 MiB). */
export const PUSH_BODY_LIMIT_BYTES = 64 * 1024 * 1024;
/** Size in bytes above which the sender splits a batch (case F4); one larger revision travels alone. */
export const PUSH_SPLIT_BYTES = 4 * 1024 * 1024;

/** A revision in a push: the wire revision and its log position on the primary (issue 12 item 3). */
export const LoggedRevisionWire = RevisionWire.extend({ lsn: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER) });
/** Parsed logged revision. */
export type LoggedRevisionWire = z.infer<typeof LoggedRevisionWire>;

/** One epoch of a POP's history: the epoch, the first LSN of its log, the POP that took it. */
export const EpochStartWire = z.strictObject({
  epoch: z.number().int().min(0),
  start_lsn: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  pop_id: z.string().regex(/^[a-z0-9-]{1,63}$/),
});
/** Parsed epoch start. */
export type EpochStartWire = z.infer<typeof EpochStartWire>;

/**
 * A push: a batch of at most `batch_size` revisions in log order, strictly increasing LSNs, each
 * stored by the backup at its LSN. `prev_lsn`: the position the push continues (the backup must
 * hold exactly the log up to it); `history`: the sender's epoch history, which a rejoining backup
 * compares with its own to find where its log diverged (DESIGN.md §4.4.7).
 */
export const PushBody = z.strictObject({
  /** Sender's epoch, 0..MAX_EPOCH (lib/epoch-bounds.ts; issue 13 §1). */
  epoch: z.number().int().min(0).max(MAX_EPOCH),
  sender: z.string().regex(/^[a-z0-9-]{1,63}$/),
  /**
   * Sender's push counter: strictly increasing per sender and epoch, persisted, never reused.
   * The receiver refuses a push whose (epoch, push_seq) is not above the last it accepted from
   * that sender (replay protection; no clock comparison between POPs).
   */
  push_seq: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  prev_lsn: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  history: z.array(EpochStartWire).max(10000),
  items: z.array(LoggedRevisionWire).min(1).max(10000),
});
/** Parsed push. */
export type PushBody = z.infer<typeof PushBody>;

/**
 * A successful push response (the receiver may add fields, e.g. `rejoin`; a sender reads these).
 * Checked by the peer client (issue 16 item 2): types only, the epoch's bounds are judged by the
 * POP (lib/epoch-bounds.ts) so that a refused claim is logged as one.
 */
export const PushAck = z.object({
  /** Revisions newly applied. */
  applied: z.number(),
  /** Revisions already present (a repeated batch). */
  skipped: z.number(),
  /** The receiver's epoch after the push. */
  epoch: z.number(),
});
/** Parsed push response. */
export type PushAck = z.infer<typeof PushAck>;

/** One position a receiver expects next for a vault (a gap answer, DESIGN.md §4.4.4). */
export interface ExpectedPosition {
  vault_id: string;
  seq: number;
}

/**
 * The backup's answer to GET positions (issue 12 item 3): its replication position (epoch, last
 * LSN) and epoch history — O(1) in the number of vaults — and, for `?after=L`, up to
 * AHEAD_VAULTS_LIMIT vaults holding revisions past L (named in a backup-ahead hold). The peer
 * client checks an answer with it (issue 16 item 2).
 */
export const PositionsAnswer = z.object({
  epoch: z.number(),
  role: z.string().optional(),
  /** Last LSN held in the primary's positions; 0 for a log whose positions were assigned locally. */
  lsn: z.number(),
  history: z.array(EpochStartWire),
  /** Vaults with revisions past `after` (at most AHEAD_VAULTS_LIMIT), and how many in all. */
  vaults_after: z.array(z.string()),
  vaults_after_count: z.number(),
});
/** Parsed positions answer. */
export type PositionsAnswer = z.infer<typeof PositionsAnswer>;

/** Most vault ids a positions answer names. */
export const AHEAD_VAULTS_LIMIT = 100;

/** Body of hello and of the epoch answer. */
export const PeerInfo = z.strictObject({
  pop_id: z.string(),
  role: z.enum(['primary', 'backup', 'fenced']),
  /** 0..MAX_EPOCH, like every epoch on the wire (issue 13 §1). */
  epoch: z.number().int().min(0).max(MAX_EPOCH),
});
/** Parsed peer info. */
export type PeerInfo = z.infer<typeof PeerInfo>;

/**
 * A peer's answer to hello or epoch as this POP reads it (issue 16 item 2): PeerInfo's fields,
 * further fields allowed, the epoch's bounds left to the POP (lib/epoch-bounds.ts) so that a
 * refused claim is logged as one.
 */
export const PeerInfoAnswer = z.object({ pop_id: PeerInfo.shape.pop_id, role: PeerInfo.shape.role, epoch: z.number() });

/** One position in a gap or divergence answer (`expected`, `diverged`; docs/errors.md "HTTP error body"). */
export const ExpectedPositions = z.array(z.object({ vault_id: z.string(), seq: z.number() }));
