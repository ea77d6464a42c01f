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

/** Path of the backup's per-vault positions (GET), for full resync. */
export const POSITIONS_PATH = '/replication/v1/positions';
/** Path of the per-vault digests (GET), for verify. */
export const DIGESTS_PATH = '/replication/v1/digests';

/** Largest push body a receiver accepts, in bytes (64 MiB). */
export const PUSH_BODY_LIMIT_BYTES = 64 * 1024 * 1024;
/** Size in bytes above which the sender splits a batch (case F4); one larger revision travels alone. */
export const PUSH_SPLIT_BYTES = 4 * 1024 * 1024;

/** A push: a batch of at most `batch_size` revisions in backlog order. */
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
  items: z.array(RevisionWire).min(1).max(10000),
});
/** Parsed push. */
export type PushBody = z.infer<typeof PushBody>;

/** A successful push response. */
export interface PushAck {
  /** Revisions newly applied. */
  applied: number;
  /** Revisions already present (a repeated batch). */
  skipped: number;
  /** The receiver's epoch after the push. */
  epoch: number;
}

/** One position a receiver expects next for a vault (a gap answer, DESIGN.md §4.4.4). */
export interface ExpectedPosition {
  vault_id: string;
  seq: number;
}

/** Body of hello and of the epoch answer. */
export const PeerInfo = z.strictObject({
  pop_id: z.string(),
  role: z.enum(['primary', 'backup', 'fenced']),
  /** 0..MAX_EPOCH, like every epoch on the wire (issue 13 §1). */
  epoch: z.number().int().min(0).max(MAX_EPOCH),
});
/** Parsed peer info. */
export type PeerInfo = z.infer<typeof PeerInfo>;
