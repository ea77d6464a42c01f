/**
 * Entry encryption and decryption (DESIGN.md §2 "Keys" and field tiers). Values are encrypted
 * with AES-256-GCM under the key of their tier — `agent` under the agent-tier key, `owner` and
 * `sealed` under the owner-tier key (a sealed value is already client ciphertext, see sealed.ts) —
 * and titles under the agent-tier key so an in-scope agent can see them. A caller without the
 * key of a field's tier gets it redacted: the value is not even decrypted for that request.
 */
import { cvError } from '../lib/errors.js';
import { isSealedCiphertext } from './sealed.js';
import { open, seal } from './crypto.js';
import { fieldAad, titleAad } from './aad.js';
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

/** The key a principal holds for `tier`, or undefined (agents hold only the agent-tier key). */
export function keyFor(p: Principal, tier: Tier): Buffer | undefined {
  return tier === 'agent' ? p.keys.agent : p.keys.owner;
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

/** The `entry.put` body JSON for `input` at revision `seq` of entry `entryId`. */
export function encryptEntry(p: OwnerPrincipal, entryId: string, input: EntryInput, seq: number): string {
  const body: EntryPutBody = {
    type: input.type,
    parent: input.parent,
    title: seal(p.keys.agent, input.title, titleAad(p.vaultId, entryId, seq)),
    fields: input.fields.map((f, i) => ({ label: f.label, kind: f.kind, tier: f.tier, value: seal(keyFor(p, f.tier)!, f.value, fieldAad(p.vaultId, entryId, i, seq)) })),
    ...(input.tags && input.tags.length > 0 ? { tags: [...new Set(input.tags)] } : {}),
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

/** The decrypted title of `rev`. */
export function openTitle(p: Principal, rev: Revision, body: EntryPutBody = entryBody(rev)): string {
  return open(p.keys.agent, body.title, titleAad(p.vaultId, rev.subject!, rev.seq)).toString('utf8');
}

/** The view of entry revision `rev` for `p`; fields of tiers `p` holds no key for are redacted. */
export function decryptView(p: Principal, rev: Revision, createdAt: string): EntryView {
  const body = entryBody(rev);
  const entryId = rev.subject!;
  return {
    id: entryId,
    type: body.type,
    parent: body.parent,
    title: openTitle(p, rev, body),
    tags: body.tags ?? [],
    version: rev.seq,
    created_at: createdAt,
    updated_at: rev.createdAt,
    fields: body.fields.map((f, i) => {
      const key = keyFor(p, f.tier);
      if (!key) return { label: f.label, kind: f.kind, tier: f.tier, redacted: true as const };
      return { label: f.label, kind: f.kind, tier: f.tier, value: open(key, f.value, fieldAad(p.vaultId, entryId, i, rev.seq)).toString('utf8') };
    }),
  };
}
