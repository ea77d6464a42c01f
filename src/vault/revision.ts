/**
 * Revisions: the immutable, per-vault numbered records that every vault mutation appends
 * (DESIGN.md §2 "Revisions"). The revision log is the source of truth; entries and tokens tables
 * are derived from it by `applyRevision`. Revisions replicate verbatim (DESIGN.md §4.4.5): the
 * `body` JSON text is shipped and stored byte for byte, ciphertexts included.
 */
import { z } from 'zod';

import { REVISION_KINDS, type Revision } from '../store/revision-row.js';

export { REVISION_KINDS, type Revision, type RevisionKind } from '../store/revision-row.js';

/** Entry types (DESIGN.md §2). */
export const ENTRY_TYPES = ['credential', 'note', 'identity', 'card', 'ssh_key', 'totp', 'folder', 'any'] as const;
/** Field tiers (DESIGN.md §2): who can read the value. */
export const TIERS = ['agent', 'owner', 'sealed'] as const;
/** One field tier. */
export type Tier = (typeof TIERS)[number];

const ct = z.string().regex(/^c1\.[A-Za-z0-9_-]+$/).max(64 * 1024 * 1024);

/**
 * Marker in a token row's `name` for the vault's recovery code (issue 15 item 5): an owner-kind
 * token that authenticates nothing but `POST /api/owner/recover`.
 */
export const RECOVERY_TOKEN_NAME = 'recovery';

/** Optional recovery code of `vault.create` and `owner.rotate`: its verifier and the wrapped vault + agent keys. */
const RecoveryFields = {
  recovery_token_id: z.string().min(1).max(64).optional(),
  recovery_verifier: z.string().min(1).max(128).optional(),
  recovery_wrapped: ct.optional(),
};

/** Body of `vault.create`: the owner token's verifier and wrapped vault + agent keys (and optionally a recovery code's). */
export const VaultCreateBody = z.strictObject({
  owner_token_id: z.string().min(1).max(64),
  owner_verifier: z.string().min(1).max(128),
  owner_wrapped: ct,
  ...RecoveryFields,
});

/**
 * Body of `owner.rotate` (issue 15 item 5; subject: the new owner token id): the new owner token's
 * verifier and the same vault + agent keys wrapped for it, the token ids it revokes, and
 * optionally a new recovery code.
 */
export const OwnerRotateBody = z.strictObject({
  owner_token_id: z.string().min(1).max(64),
  owner_verifier: z.string().min(1).max(128),
  owner_wrapped: ct,
  revoked: z.array(z.string().min(1).max(64)).max(100),
  ...RecoveryFields,
});

/** One stored field: label and kind in clear, value always ciphertext. */
export const StoredField = z.strictObject({
  label: z.string().min(1).max(256),
  kind: z.string().min(1).max(32),
  tier: z.enum(TIERS),
  value: ct,
});
/** A stored field. */
export type StoredField = z.infer<typeof StoredField>;

/**
 * One entry tag (issue 14 item 2): 1..64 characters, letters, digits and `._:/-`, starting with a
 * letter or digit. Tags are stored in clear, like field labels and `parent`, so that any POP can
 * evaluate an agent's scope without keys: never put a secret in a tag.
 */
export const Tag = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$/, 'a tag is 1..64 letters, digits or ._:/- starting with a letter or digit');
/** At most this many tags per entry, and per agent scope. */
export const MAX_TAGS = 64;

/** Agent id or entry id used as a record key in a body (ids are short base64url strings). */
const idKey = z.string().regex(/^[a-z]_[A-Za-z0-9_-]{1,62}$/);

/**
 * Key-enforced scopes (issue 14 item 3; docs/security.md "What an agent token can decrypt"):
 * `key_owner` is the revision's fresh entry key K_e sealed under the vault's owner key, and
 * `key_agents` maps each agent whose scope covered the entry at write time to K_e sealed under
 * that agent's own key K_a (AAD: aad.ts `entryKeyAad`). When `key_owner` is present the title and
 * the `agent`-tier values are sealed under K_e; without it (revisions written before), under the
 * vault's shared agent-tier key. Owner-tier and sealed values are sealed under the owner key either way.
 */
const EntryKeyParts = {
  key_owner: ct.optional(),
  key_agents: z.record(idKey, ct).optional(),
};

/**
 * Body of `entry.put` (create or update): title and values are ciphertexts (AAD: see aad.ts).
 * `tags` (issue 14 item 2) is absent in revisions written before tags existed, and when empty.
 */
export const EntryPutBody = z.strictObject({
  type: z.enum(ENTRY_TYPES),
  parent: z.string().max(64).nullable(),
  title: ct,
  fields: z.array(StoredField).max(1000),
  tags: z.array(Tag).max(MAX_TAGS).optional(),
  ...EntryKeyParts,
});
/** Parsed entry.put body. */
export type EntryPutBody = z.infer<typeof EntryPutBody>;

/** Body of `entry.delete` (tombstone), `agent.revoke` and `agent.unlock`. */
export const EmptyBody = z.strictObject({});

/**
 * Per-agent rate limits (issue 6 item 3): at most `per_minute` distinct entries in any 60 s and
 * `per_hour` distinct entries in any 3600 s. Absent means the defaults (3 and 10).
 */
export const AgentLimits = z.strictObject({
  per_minute: z.number().int().min(1).max(10000),
  per_hour: z.number().int().min(1).max(1000000),
});
/** Parsed per-agent limits. */
export type AgentLimits = z.infer<typeof AgentLimits>;

/** An ISO-8601 UTC timestamp as `Date.prototype.toISOString` writes it. */
const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/);
/** Longest TTL or expiry distance accepted: 10 years, in seconds. */
export const MAX_TTL_SECONDS = 10 * 366 * 24 * 3600;

/**
 * The scope and expiry parts of an agent revision (issue 14 item 2): `folders` (entry ids whose
 * subtree is in scope) and `tags`; `expires_at` the ISO date after which the token is refused,
 * `ttl_seconds` the TTL it was computed from (when given as a TTL). Absent in revisions written
 * before issue 14: no folders, no tags, never expires.
 */
const AgentScopeParts = {
  /**
   * Issue 14 item 3: for each entry newly covered by this revision's scope whose newest revision
   * has an entry key, that key sealed under the agent's own key (`wrap`) and the seq of the
   * revision it belongs to. Absent when none.
   */
  grants: z.record(idKey, z.strictObject({ seq: z.number().int().min(1), wrap: ct })).optional(),
  folders: z.array(z.string().max(64)).max(10000).optional(),
  tags: z.array(Tag).max(MAX_TAGS).optional(),
  expires_at: isoDate.optional(),
  ttl_seconds: z.number().int().min(1).max(MAX_TTL_SECONDS).optional(),
};

/**
 * Body of `agent.create`: token verifier, agent key wrapped for the agent token, scopes, optional
 * limits, folders, tags, expiry. `key_owner` (issue 14 item 3): the agent's own key K_a sealed
 * under the owner key, and then `wrapped` holds K_a; absent (agents created before), `wrapped`
 * holds the vault's shared agent-tier key.
 */
export const AgentCreateBody = z.strictObject({
  token_id: z.string().min(1).max(64),
  verifier: z.string().min(1).max(128),
  wrapped: ct,
  key_owner: ct.optional(),
  name: ct,
  scopes: z.array(z.string().max(64)).max(10000),
  limits: AgentLimits.optional(),
  ...AgentScopeParts,
});

/**
 * Body of `agent.update` (issue 14 item 2): the agent's whole new scope (entry ids in `scopes`,
 * plus folders and tags) and expiry; an absent `expires_at` means the token never expires.
 */
export const AgentUpdateBody = z.strictObject({
  scopes: z.array(z.string().max(64)).max(10000),
  ...AgentScopeParts,
});

/** Body of `agent.lock`: why the agent was locked (`rate_limit`: second breach within 2 hours). */
export const AgentLockBody = z.strictObject({
  reason: z.enum(['rate_limit']),
});

/** Zod schema of a revision as carried in a replication push (DESIGN.md §4.4). */
export const RevisionWire = z.strictObject({
  vault_id: z.string().regex(/^v_[A-Za-z0-9_-]{22}$/),
  seq: z.number().int().min(1),
  kind: z.enum(REVISION_KINDS),
  subject: z.string().max(64).nullable(),
  body: z.string().max(64 * 1024 * 1024),
  epoch: z.number().int().min(0),
  origin_pop: z.string().min(1).max(63),
  created_at: z.string().min(1).max(64),
});
/** Wire form of a revision. */
export type RevisionWire = z.infer<typeof RevisionWire>;

/** Converts a stored revision to its wire form. */
export function toWire(r: Revision): RevisionWire {
  return { vault_id: r.vaultId, seq: r.seq, kind: r.kind, subject: r.subject, body: r.body, epoch: r.epoch, origin_pop: r.originPop, created_at: r.createdAt };
}

/** Converts a wire revision to the stored form. */
export function fromWire(w: RevisionWire): Revision {
  return { vaultId: w.vault_id, seq: w.seq, kind: w.kind, subject: w.subject, body: w.body, epoch: w.epoch, originPop: w.origin_pop, createdAt: w.created_at };
}
