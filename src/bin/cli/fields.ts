/**
 * Field options of `clavitor-cli put` (issue 6 item 6): `--field label=value` (owner tier),
 * `--agent-field label=value`, `--sealed-field label=value` (encrypted here, see seal-key.ts),
 * `--kind label=kind`, `--remove-field label`. A value `@FILE` is read from FILE (one trailing
 * newline dropped), `-` from stdin (once), `@@…` is a literal value starting with `@`. An
 * `otpauth://totp/` value gets kind `totp` unless `--kind` says otherwise.
 */
import { readFileSync } from 'node:fs';
import { cvError } from '../../lib/errors.js';
import { isTotpSecret } from '../../vault/totp.js';
import type { Sealer } from './seal-key.js';

/** A field as sent to the server. */
export interface WireField {
  label: string;
  value: string;
  kind: string;
  tier: 'agent' | 'owner' | 'sealed';
}

/** One `label=value` as given on the command line, with the tier of the option that carried it. */
export interface FieldArg {
  readonly label: string;
  readonly raw: string;
  readonly tier: WireField['tier'];
}

/** Splits `label=value`; throws CLI_BAD_INPUT naming the option. */
export function splitPair(text: string, option: string): { label: string; value: string } {
  const i = text.indexOf('=');
  if (i <= 0) throw cvError('CLI_BAD_INPUT', `${option} expects label=value, got "${text.slice(0, 40)}"`);
  return { label: text.slice(0, i), value: text.slice(i + 1) };
}

let stdinUsed = false;

/** Resolves a value source: literal, `@FILE`, `-` (stdin, once) or `@@literal`. */
export function readValue(raw: string): string {
  if (raw === '-') {
    if (stdinUsed) throw cvError('CLI_BAD_INPUT', 'only one value can be read from stdin (-)');
    stdinUsed = true;
    return readFileSync(0, 'utf8').replace(/\r?\n$/, '');
  }
  if (raw.startsWith('@@')) return raw.slice(1);
  if (raw.startsWith('@')) {
    try {
      return readFileSync(raw.slice(1), 'utf8').replace(/\r?\n$/, '');
    } catch {
      throw cvError('CLI_BAD_INPUT', `cannot read ${raw.slice(1)}`);
    }
  }
  return raw;
}

/**
 * The field list to send: `existing` fields (kept in place; a sealed one keeps its ciphertext)
 * with `args` replacing same-label fields or appended, `remove` labels dropped and `kinds`
 * applied. Sealed values are sealed here, so their plaintext never leaves this process.
 */
export function mergeFields(existing: readonly WireField[], args: readonly FieldArg[], kinds: ReadonlyMap<string, string>, remove: readonly string[], sealer: () => Sealer): WireField[] {
  const out = existing.filter((f) => !remove.includes(f.label)).map((f) => ({ ...f }));
  for (const a of args) {
    const plain = readValue(a.raw);
    const kind = kinds.get(a.label) ?? (/^otpauth:\/\/totp\//i.test(plain) ? 'totp' : 'text');
    if (kind === 'totp' && !isTotpSecret(plain)) throw cvError('CLI_BAD_INPUT', `field "${a.label}": a totp field needs an otpauth://totp/ URI or a base32 secret`);
    const value = a.tier === 'sealed' ? sealer().seal(a.label, plain) : plain;
    const f: WireField = { label: a.label, value, kind, tier: a.tier };
    const at = out.findIndex((x) => x.label === a.label);
    if (at >= 0) out[at] = f;
    else out.push(f);
  }
  for (const [label, kind] of kinds) {
    const f = out.find((x) => x.label === label);
    if (!f) throw cvError('CLI_BAD_INPUT', `--kind ${label}=${kind}: no field labelled "${label}"`);
    f.kind = kind;
  }
  return out;
}
