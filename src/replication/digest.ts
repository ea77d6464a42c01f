/**
 * Per-vault digests for `verify` (DESIGN.md §4.4.9): SHA-256 over every revision of a vault in
 * sequence order (seq, kind, subject, body, epoch, origin POP, time). Two POPs that hold the same
 * log produce the same digest; derived tables are not hashed because they follow from the log.
 */
import { createHash } from 'node:crypto';
import type { VaultStore } from '../store/vault-store.js';
import type { Revision } from '../store/revision-row.js';

/** Digest of one vault: its head seq and the hex SHA-256 of its log. */
export interface VaultDigest {
  seq: number;
  digest: string;
}

/** Computes the digest of one vault's revision log. */
export function vaultDigest(store: VaultStore): VaultDigest {
  const h = createHash('sha256');
  let seq = 0;
  for (const r of store.iterateRevisions()) {
    h.update(JSON.stringify([r.seq, r.kind, r.subject, r.body, r.epoch, r.originPop, r.createdAt]));
    h.update('\n');
    seq = r.seq;
  }
  return { seq, digest: h.digest('hex') };
}

/**
 * Digests of every vault from one ordered pass over all revisions (vault, then seq), e.g.
 * `VaultFiles.iterateAll()`: one query for the whole POP instead of one per vault (issue 12 item 1).
 */
export function allDigests(revisions: Iterable<Revision>): Record<string, VaultDigest> {
  const out: Record<string, VaultDigest> = {};
  let cur: { id: string; h: ReturnType<typeof createHash>; seq: number } | undefined;
  const close = (): void => {
    if (cur) out[cur.id] = { seq: cur.seq, digest: cur.h.digest('hex') };
  };
  for (const r of revisions) {
    if (cur?.id !== r.vaultId) {
      close();
      cur = { id: r.vaultId, h: createHash('sha256'), seq: 0 };
    }
    cur.h.update(JSON.stringify([r.seq, r.kind, r.subject, r.body, r.epoch, r.originPop, r.createdAt]));
    cur.h.update('\n');
    cur.seq = r.seq;
  }
  close();
  return out;
}

/** Names of vaults whose digests differ between `a` and `b` (present on one side only included), sorted. */
export function differingVaults(a: Record<string, VaultDigest>, b: Record<string, VaultDigest>): string[] {
  const ids = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...ids].filter((id) => a[id]?.digest !== b[id]?.digest).sort();
}
