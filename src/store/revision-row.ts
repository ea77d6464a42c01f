/**
 * The revision as stored and replicated (DESIGN.md §2 "Revisions"): the row type shared by the
 * store (which keeps it) and the vault domain (which builds and interprets it). It lives here so
 * that store code does not import vault code; src/vault/revision.ts re-exports it with the body
 * schemas.
 */

/**
 * Kinds of revision. `agent.lock` / `agent.unlock` (issue 6 items 3 and 7) are written only by a
 * primary: a lock when an agent breaches its rate limit twice within 2 hours, an unlock by the owner.
 * `agent.update` (issue 14 item 2) replaces an agent's scope (entries, folders, tags) and expiry.
 * `owner.rotate` (issue 15 item 5): a new owner token (and optionally a new recovery code), older ones revoked.
 */
export const REVISION_KINDS = ['vault.create', 'entry.put', 'entry.delete', 'agent.create', 'agent.revoke', 'agent.lock', 'agent.unlock', 'agent.update', 'owner.rotate'] as const;
/** One revision kind. */
export type RevisionKind = (typeof REVISION_KINDS)[number];

/** A stored revision as it sits in the POP database and travels in a push. */
export interface Revision {
  readonly vaultId: string;
  /** Per-vault sequence number, 1-based, gap-free: the entry version clients see. */
  readonly seq: number;
  readonly kind: RevisionKind;
  /** Entry id or agent id the revision is about; null for vault.create. */
  readonly subject: string | null;
  /** JSON text of the kind's body (see the body schemas in src/vault/revision.ts). */
  readonly body: string;
  /** Epoch of the primary that wrote it (DESIGN.md §4.4.6). */
  readonly epoch: number;
  /** POP id of the primary that wrote it. */
  readonly originPop: string;
  /** ISO-8601 UTC time the primary wrote it. */
  readonly createdAt: string;
}
