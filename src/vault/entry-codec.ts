/**
 * Entry encryption and decryption (DESIGN.md §2 "Keys" and field tiers). Values are encrypted
 * with AES-256-GCM under the key of their tier — `agent` under the revision's entry key, `owner`
 * and `sealed` under the owner-tier key (a sealed value is already client ciphertext, see
 * sealed.ts) — and titles under the entry key so an in-scope agent can see them. A caller without
 * the key of a field's tier gets it redacted: the value is not even decrypted for that request.
 *
 * Entry keys (issue 14 item 3; docs/security.md "What an agent token can decrypt"): every
 * `entry.put` written since draws a fresh 256-bit entry key K_e, sealed in the body under the
 * owner key (`key_owner`) and under the own key K_a of each agent whose scope covers the entry at
 * write time (`key_agents`). Revisions written before carry no `key_owner`: their titles and
 * agent-tier values are under the vault's shared agent-tier key, as before.
 */
import { cvError } from '../lib/errors.js';
import { isSealedCiphertext } from './sealed.js';
import { open, randomKey, seal } from './crypto.js';
import { entryKeyAad, fieldAad, titleAad } from './aad.js';
import { EntryPutBody, type Revision, type Tier } from './revision.js';
import type { OwnerPrincipal, Principal } from './principal.js';
import { isTotpSecret, TOTP_KIND } from './totp.js';

/** One field as a client sends it. */
export interface FieldInput {
  readonly label: string;
  readonly value: string;
  readonly kind: string;
  readonly tier: Tier;
}

/** An entry as a client sends it (create or full replacement on update). */
export interface EntryInput {
  readonly type: EntryPutBody['type'];
  readonly parent: string | null;
  readonly title: string;
  readonly fields: readonly FieldInput[];
  /** Tags (issue 14 item 2; revision.ts `Tag`), stored in clear; absent or empty: none. */
  readonly tags?: readonly string[];
}

/** A field as returned to a caller: the value, or `redacted: true` when the caller may not read it. */
export type FieldView =
  | { label: string; kind: string; tier: Tier; value: string }
  | { label: string; kind: string; tier: Tier; redacted: true };

/** An entry as returned to a caller. `version` is the seq of its newest revision (use in If-Match). */
export interface EntryView {
  id: string;
  type: string;
  parent: string | null;
  title: string;
  /** Tags in clear (issue 14 item 2); `[]` when none. */
  tags: string[];
  version: number;
  created_at: string;
  updated_at: string;
  fields: FieldView[];
}

/** An agent that receives an entry key: its id and its own key K_a (issue 14 item 3). */
export interface KeyRecipient {
  readonly agentId: string;
  readonly key: Buffer;
}

/** A wrap of an entry key held for an agent outside the revision's body (an `agent.create`/`agent.update` grant). */
export interface EntryKeyGrant {
  readonly seq: number;
  readonly wrap: string;
}

/**
 * The key that opens the title and `agent`-tier values of entry revision `rev` (body `body`) for
 * `p`, or undefined when `p` holds none: for a revision with an entry key, the owner unwraps
 * `key_owner`, an agent the wrap for its id in the body or in `grant` (only when the grant is for
 * this very revision); for an older revision, the shared agent-tier key (the owner's, and a
 * pre-upgrade agent's). Throws DECRYPT_FAILED (CV-4004) when a wrap does not open.
 */
export function entryKeyOf(p: Principal, rev: Revision, body: EntryPutBody, grant?: EntryKeyGrant): Buffer | undefined {
  if (body.key_owner === undefined) return p.keys.agent;
  const entryId = rev.subject!;
  if (p.kind === 'owner') return open(p.keys.owner, body.key_owner, entryKeyAad(p.vaultId, entryId, rev.seq, 'owner'));
  const wrap = body.key_agents?.[p.agentId] ?? (grant && grant.seq === rev.seq ? grant.wrap : undefined);
  return wrap === undefined ? undefined : open(p.keys.own, wrap, entryKeyAad(p.vaultId, entryId, rev.seq, p.agentId));
}

/**
 * The key a principal holds for `tier` of a revision whose entry key (or, for an older revision,
 * agent-tier key) is `entryKey`: `agent` → `entryKey`; `owner` and `sealed` → the owner key
 * (undefined for agents).
 */
export function keyFor(p: Principal, tier: Tier, entryKey: Buffer | undefined): Buffer | undefined {
  return tier === 'agent' ? entryKey : p.keys.owner;
}

/**
 * Refuses a readable (`agent` or `owner` tier) field of kind `totp` that is not a TOTP secret,
 * and a `sealed` value that is not client ciphertext in the `cs1.` form (sealed.ts
 * `isSealedCiphertext`): DESIGN.md §2 says the server only ever holds sealed ciphertext, so a
 * careless client cannot store plaintext in that tier. Throws BAD_REQUEST (CV-3001) naming
 * `fields.<i>.value`, never echoing the value.
 */
export function checkEntryInput(input: EntryInput): void {
  input.fields.forEach((f, i) => {
    if (f.tier === 'sealed' && !isSealedCiphertext(f.value)) {
      throw cvError('BAD_REQUEST', `fields.${i}.value: a sealed value must be client ciphertext (cs1.…); encrypt it client-side, e.g. with clavitor-cli put --sealed-field`);
    }
    if (f.kind === TOTP_KIND && f.tier !== 'sealed' && !isTotpSecret(f.value)) {
      throw cvError('BAD_REQUEST', `fields.${i}.value: a totp field must hold an otpauth://totp/ URI or a base32 secret`);
    }
  });
}

/**
 * The `entry.put` body JSON for `input` at revision `seq` of entry `entryId`: a fresh entry key
 * K_e seals the title and `agent`-tier values, and is itself sealed for the owner and for each of
 * `recipients` (issue 14 item 3; the caller names the agents whose scope covers the entry now).
 */
export function encryptEntry(p: OwnerPrincipal, entryId: string, input: EntryInput, seq: number, recipients: readonly KeyRecipient[]): string {
  const ke = randomKey();
  const agents: Record<string, string> = {};
  for (const r of recipients) agents[r.agentId] = seal(r.key, ke, entryKeyAad(p.vaultId, entryId, seq, r.agentId));
  const body: EntryPutBody = {
    type: input.type,
    parent: input.parent,
    title: seal(ke, input.title, titleAad(p.vaultId, entryId, seq)),
    fields: input.fields.map((f, i) => ({ label: f.label, kind: f.kind, tier: f.tier, value: seal(f.tier === 'agent' ? ke : p.keys.owner, f.value, fieldAad(p.vaultId, entryId, i, seq)) })),
    ...(input.tags && input.tags.length > 0 ? { tags: [...new Set(input.tags)] } : {}),
    key_owner: seal(p.keys.owner, ke, entryKeyAad(p.vaultId, entryId, seq, 'owner')),
    ...(recipients.length > 0 ? { key_agents: agents } : {}),
  };
  return JSON.stringify(body);
}

/** Parsed body of an `entry.put` revision. */
export function entryBody(rev: Revision): EntryPutBody {
  return EntryPutBody.parse(JSON.parse(rev.body));
}

/** Decrypts field `index` of `rev` (whose parsed body is `body`) with `key`. Throws DECRYPT_FAILED (CV-4004). */
export function openField(p: Principal, key: Buffer, rev: Revision, index: number, body: EntryPutBody = entryBody(rev)): string {
  const f = body.fields[index]!;
  return open(key, f.value, fieldAad(p.vaultId, rev.subject!, index, rev.seq)).toString('utf8');
}

/**
 * The decrypted title of `rev`, with `key` (default: `entryKeyOf(p, rev, body)`). Throws
 * AGENT_SCOPE (CV-2007) when `p` holds no key for it, DECRYPT_FAILED (CV-4004) on a wrong one.
 */
export function openTitle(p: Principal, rev: Revision, body: EntryPutBody = entryBody(rev), key: Buffer | undefined = entryKeyOf(p, rev, body)): string {
  if (!key) throw cvError('AGENT_SCOPE');
  return open(key, body.title, titleAad(p.vaultId, rev.subject!, rev.seq)).toString('utf8');
}

/**
 * The view of entry revision `rev` for `p`; fields of tiers `p` holds no key for are redacted.
 * `grant`: an agent's wrap of this revision's entry key held outside the body (entryKeyOf).
 * Throws AGENT_SCOPE (CV-2007) when `p` holds no key for the title.
 */
export function decryptView(p: Principal, rev: Revision, createdAt: string, grant?: EntryKeyGrant): EntryView {
  const body = entryBody(rev);
  const entryId = rev.subject!;
  const ek = entryKeyOf(p, rev, body, grant);
  return {
    id: entryId,
    type: body.type,
    parent: body.parent,
    title: openTitle(p, rev, body, ek),
    tags: body.tags ?? [],
    version: rev.seq,
    created_at: createdAt,
    updated_at: rev.createdAt,
    fields: body.fields.map((f, i) => {
      const key = keyFor(p, f.tier, ek);
      if (!key) return { label: f.label, kind: f.kind, tier: f.tier, redacted: true as const };
      return { label: f.label, kind: f.kind, tier: f.tier, value: open(key, f.value, fieldAad(p.vaultId, entryId, i, rev.seq)).toString('utf8') };
    }),
  };
}
