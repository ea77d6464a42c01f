/**
 * Secret references (issue 14 item 1): `clavitor://<vault>/<entry title or id>/<field label>`,
 * and `clavitor://<vault>/<entry>[/<field label>]?totp` for the field's current TOTP code, named
 * after 1Password's `op://<vault>/<item>/<field>`.
 *
 * - `<vault>` is the vault id (`v_…`, the one in the token `cvt1.<vault_id>.…`).
 * - `<entry>` is an entry id (`e_…`) or an entry's exact title; an id-shaped segment is an id.
 * - `<field label>` is a field's exact label. With `?totp` it may be left out (the first totp field).
 * - Each segment is percent-encoded (RFC 3986 §2.1): `/` must be written `%2F`, `%` as `%25`, `?`
 *   as `%3F`; spaces may be written as they are or as `%20`. `formatRef` encodes everything
 *   `encodeURIComponent` does, so `parseRef(formatRef(r))` gives `r` back for any segments.
 *
 * The one parser and formatter: the server (`GET /api/read`, the MCP tools) and `clavitor-cli`
 * (`read`, `run`, `inject`) all call it. Errors: REF_INVALID (CV-3020), whose message never
 * repeats the reference (a reference is not a secret, but a mistyped value might be).
 */
import { cvError } from './errors.js';

/** URI scheme of a secret reference. */
export const REF_SCHEME = 'clavitor://';

/** Longest reference accepted, in characters (labels are ≤ 256, titles ≤ 1024, tripled by encoding). */
export const MAX_REF_LENGTH = 4096;

/** A parsed secret reference. */
export interface SecretRef {
  /** Vault id (`v_…`). */
  readonly vault: string;
  /** Entry id (`e_…`) or exact title. */
  readonly entry: string;
  /** Field label; undefined only with `totp` (the entry's first totp field). */
  readonly field: string | undefined;
  /** True for `?totp`: the current TOTP code of the field instead of its value. */
  readonly totp: boolean;
}

/** True when `s` starts like a reference (`clavitor://`); `run` uses it to pick environment values to resolve. */
export function looksLikeRef(s: string): boolean {
  return s.startsWith(REF_SCHEME);
}

function decodeSegment(seg: string, what: string): string {
  let out: string;
  try {
    out = decodeURIComponent(seg);
  } catch {
    throw cvError('REF_INVALID', `secret reference: the ${what} has a bad percent-escape (write % as %25)`);
  }
  if (out === '') throw cvError('REF_INVALID', `secret reference: the ${what} is empty`);
  return out;
}

/**
 * Parses a reference. Throws REF_INVALID (CV-3020) for another scheme, a wrong number of
 * segments, an empty or badly escaped segment, or a query other than `totp`.
 */
export function parseRef(text: string): SecretRef {
  const s = text.trim();
  if (s.length > MAX_REF_LENGTH) throw cvError('REF_INVALID', `secret reference: longer than ${MAX_REF_LENGTH} characters`);
  if (!looksLikeRef(s)) throw cvError('REF_INVALID', 'secret reference: must start with clavitor://');
  const rest = s.slice(REF_SCHEME.length);
  const q = rest.indexOf('?');
  const path = q === -1 ? rest : rest.slice(0, q);
  const query = q === -1 ? undefined : rest.slice(q + 1);
  if (query !== undefined && query !== 'totp' && query !== 'totp=' && query !== 'totp=true') {
    throw cvError('REF_INVALID', 'secret reference: the only query is ?totp');
  }
  const totp = query !== undefined;
  if (path.includes('#')) throw cvError('REF_INVALID', 'secret reference: write # as %23');
  const segs = path.split('/');
  if (segs.length !== 3 && !(totp && segs.length === 2)) {
    throw cvError('REF_INVALID', `secret reference: expected clavitor://<vault>/<entry>/<field>${totp ? '' : ' (write / inside a title or label as %2F)'}`);
  }
  return {
    vault: decodeSegment(segs[0]!, 'vault'),
    entry: decodeSegment(segs[1]!, 'entry'),
    field: segs.length === 3 ? decodeSegment(segs[2]!, 'field label') : undefined,
    totp,
  };
}

/** Renders a reference; each segment percent-encoded. Throws REF_INVALID for an empty segment. */
export function formatRef(ref: SecretRef): string {
  for (const [what, v] of [['vault', ref.vault], ['entry', ref.entry]] as const) {
    if (v === '') throw cvError('REF_INVALID', `secret reference: the ${what} is empty`);
  }
  if (ref.field === '' || (ref.field === undefined && !ref.totp)) throw cvError('REF_INVALID', 'secret reference: the field label is empty');
  const segs = [ref.vault, ref.entry, ...(ref.field !== undefined ? [ref.field] : [])].map(encodeURIComponent);
  return `${REF_SCHEME}${segs.join('/')}${ref.totp ? '?totp' : ''}`;
}

/** Placeholders of `inject`: `{{ clavitor://… }}`, blanks inside the braces allowed. */
export const PLACEHOLDER = /\{\{\s*(clavitor:\/\/[^{}]*?)\s*\}\}/g;

/** The distinct references named by the placeholders of `template`, in order of first use. */
export function placeholdersOf(template: string): string[] {
  return [...new Set([...template.matchAll(PLACEHOLDER)].map((m) => m[1]!))];
}

/** `template` with each placeholder replaced by `values.get(reference)`. */
export function fillPlaceholders(template: string, values: ReadonlyMap<string, string>): string {
  return template.replace(PLACEHOLDER, (whole, ref: string) => values.get(ref) ?? whole);
}
