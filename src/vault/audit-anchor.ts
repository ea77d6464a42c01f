/**
 * Audit anchors (issue 13 §3; docs/security.md "Audit trail"): the audit chain of each vault is
 * anchored outside the host that writes it. An anchor is (pop_id, vault_id, seq, hash): the id
 * and hash of the newest record of that vault's chain on POP pop_id. A record's hash covers every
 * record before it (audit.ts), so one anchor fixes the whole trail up to `seq`: if, later, the
 * record at `seq` is gone or hashes differently, the trail was cut, or a record at or before
 * `seq` was edited, deleted or inserted — even when the chain was re-hashed afterwards.
 *
 * Anchors are kept (1) by the peer POP, which receives them over the replication link, (2) by the
 * control plane, as a digest in each heartbeat, and (3) by `clavitor-cli audit verify`, which
 * remembers the newest record it verified per server and vault.
 */
import { createHash } from 'node:crypto';
import type { AuditAnchorStore, AuditHead } from '../store/audit-anchors.js';

/** One anchor on the wire: the newest record id (`seq`) of the vault's trail and its hash. */
export interface AnchorWire {
  readonly vault_id: string;
  readonly seq: number;
  readonly hash: string;
}

/** Anchors always kept per (pop, vault), besides the thinned history: the newest ones. */
export const ANCHORS_KEPT_NEWEST = 8;

/**
 * Which of the anchors held for one (pop, vault) to drop once `newest` is kept, so that the
 * history stays small (at most ANCHORS_KEPT_NEWEST + about log2(newest) anchors) yet reaches back:
 * the newest ANCHORS_KEPT_NEWEST are kept, and of the older ones the oldest in each power-of-two
 * band of distance from `newest` (1, 2–3, 4–7, …). A rewrite of old records is detected as long
 * as an anchor from before the rewrite is kept at or after the first record changed.
 */
export function anchorsToDrop(seqs: readonly number[], newest: number): number[] {
  const sorted = [...new Set(seqs)].sort((a, b) => b - a);
  const older = sorted.slice(ANCHORS_KEPT_NEWEST);
  const keptBand = new Map<number, number>();
  for (const s of older) {
    const band = Math.floor(Math.log2(Math.max(1, newest - s)));
    const held = keptBand.get(band);
    if (held === undefined || s < held) keptBand.set(band, s);
  }
  const keep = new Set(keptBand.values());
  return older.filter((s) => !keep.has(s));
}

/** What receiving anchors from the peer found (logged by the POP). */
export interface AnchorReceipt {
  /** Anchors stored or already held. */
  readonly kept: number;
  /** Vaults this POP does not hold (yet): their anchors are not stored, and will be sent again. */
  readonly unknownVaults: string[];
  /**
   * Anchors that contradict what was kept from that POP: `rewritten` — same seq, another hash;
   * `behind` — a seq below one already kept (the trail got shorter). Either means the sending
   * POP's trail was changed after its earlier anchor left it (or the vault was erased and
   * re-created there). The anchor held before is never overwritten.
   */
  readonly conflicts: { vault_id: string; seq: number; hash: string; kind: 'rewritten' | 'behind'; held_seq: number; held_hash: string }[];
}

/**
 * Stores anchors received from POP `fromPop` (issue 13 §3): for each vault this POP holds, keeps
 * the anchor alongside the history already held (thinned by `anchorsToDrop`), all in one group
 * commit; resolves once durable. `receivedAt`: ISO-8601 UTC, for display.
 */
export function receiveAnchors(store: AuditAnchorStore, fromPop: string, anchors: readonly AnchorWire[], receivedAt: string): Promise<AnchorReceipt> {
  return store.commit(() => receiveNow(store, fromPop, anchors, receivedAt));
}

function receiveNow(store: AuditAnchorStore, fromPop: string, anchors: readonly AnchorWire[], receivedAt: string): AnchorReceipt {
  let kept = 0;
  const unknownVaults: string[] = [];
  const conflicts: AnchorReceipt['conflicts'] = [];
  for (const a of anchors) {
    if (!store.hasVault(a.vault_id)) {
      unknownVaults.push(a.vault_id);
      continue;
    }
    const held = store.kept(fromPop, a.vault_id);
    const same = held.find((h) => h.seq === a.seq);
    const top = held.at(-1);
    if (same && same.hash !== a.hash) conflicts.push({ ...a, kind: 'rewritten', held_seq: same.seq, held_hash: same.hash });
    else if (top && top.seq > a.seq) conflicts.push({ ...a, kind: 'behind', held_seq: top.seq, held_hash: top.hash });
    const newest = Math.max(a.seq, top?.seq ?? 0);
    const drop = anchorsToDrop([...held.map((h) => h.seq), a.seq], newest);
    store.apply(fromPop, a.vault_id, same ? [] : [{ seq: a.seq, hash: a.hash }], drop, receivedAt);
    kept++;
  }
  return { kept, unknownVaults, conflicts };
}

/** Digest of a POP's audit heads for heartbeats (issue 13 §3): compact, order-independent of input. */
export interface AnchorDigest {
  /** Vaults with an audit trail. */
  vaults: number;
  /** Sum of every vault's newest record id: records in all trails (ids are gap-free from 1). */
  records: number;
  /** SHA-256, hex, over `vault_id seq hash\n` of every vault, by vault id. */
  digest: string;
}

/** The heartbeat digest of `heads` (see AnchorDigest). */
export function anchorDigest(heads: readonly AuditHead[]): AnchorDigest {
  const sorted = [...heads].sort((a, b) => (a.vaultId < b.vaultId ? -1 : a.vaultId > b.vaultId ? 1 : 0));
  const h = createHash('sha256');
  let records = 0;
  for (const x of sorted) {
    h.update(`${x.vaultId} ${x.seq} ${x.hash}\n`);
    records += x.seq;
  }
  return { vaults: sorted.length, records, digest: h.digest('hex') };
}

/** A trail's disagreement with an anchor: `missing` — no record at `seq`; `changed` — another hash there. */
export interface AnchorProblem {
  readonly kind: 'missing' | 'changed';
  readonly seq: number;
  /** Where the anchor came from: `peer <pop_id>` or `remembered`. */
  readonly source: string;
  readonly expected: string;
  /** The hash found at `seq`, or null when missing. */
  readonly found: string | null;
}

/**
 * Checks a trail against anchors: `hashAt(seq)` is the hash of the trail's record `seq`, or
 * undefined when the trail has no such record. Returns every anchor the trail contradicts,
 * oldest first (empty: all hold).
 */
export function checkAnchors(hashAt: (seq: number) => string | undefined, anchors: readonly { seq: number; hash: string; source: string }[]): AnchorProblem[] {
  const out: AnchorProblem[] = [];
  for (const a of [...anchors].sort((x, y) => x.seq - y.seq)) {
    const found = hashAt(a.seq);
    if (found === undefined) out.push({ kind: 'missing', seq: a.seq, source: a.source, expected: a.hash, found: null });
    else if (found !== a.hash) out.push({ kind: 'changed', seq: a.seq, source: a.source, expected: a.hash, found });
  }
  return out;
}
