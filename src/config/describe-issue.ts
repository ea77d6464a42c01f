/**
 * Turns a zod issue from `schema.ts` into the parts of one error line: which node to point at and
 * an operator-readable reason (DESIGN.md §4.1). Values from the file are never echoed except
 * numbers, so a token pasted into the YAML by mistake is not printed back.
 */
import type { z } from 'zod';
import type { LocateTarget } from './locate.js';
import { LIMITS, MAPPING_KEYS, type IssueParams } from './schema.js';

/** One zod issue, ready to be located and printed. */
export interface DescribedIssue {
  /** Key path used to find the node in the YAML document. */
  readonly path: readonly PropertyKey[];
  /** Which node of `path` to point at. */
  readonly at: LocateTarget;
  /** Dotted key printed in the error line, e.g. `backup_pop.url`. */
  readonly key: string;
  /** What is wrong. */
  readonly reason: string;
  /** True for unknown keys, which are reported before other problems (a misspelling explains a missing key). */
  readonly unknownKey: boolean;
}

const INT_RANGES: Readonly<Record<string, { min: number; max: number; unit: string }>> = {
  'replication.batch_size': { ...LIMITS.batchSize, unit: ' (revisions per push)' },
  'replication.max_retries': { ...LIMITS.maxRetries, unit: '' },
  'control_plane.heartbeat_interval': { ...LIMITS.heartbeatIntervalSeconds, unit: ' (seconds)' },
};

/** Dotted rendering of a key path: `['backup_pop', 'url']` → `backup_pop.url`. */
export function dotted(path: readonly PropertyKey[]): string {
  return path.length === 0 ? '(file)' : path.map(String).join('.');
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = root;
  for (const seg of path) {
    if (v === null || typeof v !== 'object' || !Object.prototype.hasOwnProperty.call(v, seg)) return undefined;
    v = (v as Record<PropertyKey, unknown>)[seg];
  }
  return v;
}

function describeActual(v: unknown): string {
  if (v === null) return 'an empty value';
  if (Array.isArray(v)) return 'a list';
  if (v instanceof Uint8Array) return 'binary data';
  switch (typeof v) {
    case 'string':
      return /^-?\d+(\.\d+)?$/.test(v) ? `the string "${v}" (write numbers without quotes)` : 'a string';
    case 'number':
    case 'bigint':
      return `the number ${String(v)}`;
    case 'boolean':
      return `the boolean ${String(v)}`;
    case 'object':
      return 'a mapping';
    default:
      return typeof v;
  }
}

function describeExpected(expected: string, path: readonly PropertyKey[]): string {
  switch (expected) {
    case 'string':
      return 'a string (quote it: "…")';
    case 'int':
    case 'number':
      return 'a whole number';
    case 'object': {
      const keys = MAPPING_KEYS[path.map(String).join('.')];
      return keys === undefined ? 'a mapping' : `a mapping with keys ${keys.join(', ')}`;
    }
    default:
      return expected;
  }
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = row[0] ?? 0;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = row[j] ?? 0;
      row[j] = Math.min(up + 1, (row[j - 1] ?? 0) + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return row[b.length] ?? 0;
}

function unknownKeyReason(name: string, parent: readonly PropertyKey[]): string {
  const allowed = MAPPING_KEYS[parent.map(String).join('.')] ?? [];
  const best = allowed
    .map((k) => ({ k, d: editDistance(name.toLowerCase(), k) }))
    .sort((x, y) => x.d - y.d)[0];
  const hint = best !== undefined && best.d <= Math.max(2, Math.floor(best.k.length / 3)) ? `; did you mean "${best.k}"?` : '';
  const inline = /token|secret|password/i.test(name) && !allowed.includes(name)
    ? '; secrets are never written in this file, name a file holding them (token_file)'
    : '';
  const where = parent.length === 0 ? 'at the top level' : `in ${dotted(parent)}`;
  return `unknown key${hint}${inline} (allowed ${where}: ${allowed.join(', ')})`;
}

function rangeReason(key: string, v: unknown, fallback: string): string {
  const r = INT_RANGES[key];
  if (r === undefined) return fallback;
  return `must be a whole number from ${r.min} to ${r.max}${r.unit}, got ${describeActual(v)}`;
}

/**
 * Describe one issue produced by `replicationFileSchema.safeParse(input)`.
 * `input` is the plain object the YAML parsed to, used to tell a missing key from a wrong type.
 */
export function describeIssue(issue: z.core.$ZodIssue, input: unknown): DescribedIssue {
  const path = issue.path;
  const key = dotted(path);
  const value = valueAt(input, path);
  const present = value !== undefined;
  switch (issue.code) {
    case 'unrecognized_keys': {
      const name = issue.keys[0] ?? '?';
      return { path: [...path, name], at: 'key', key: dotted([...path, name]), reason: unknownKeyReason(name, path), unknownKey: true };
    }
    case 'invalid_type':
    case 'invalid_value':
      if (!present) {
        const what = MAPPING_KEYS[key] === undefined ? '' : ` (a mapping with keys ${(MAPPING_KEYS[key] ?? []).join(', ')})`;
        return { path, at: 'parent', key, reason: `required key is missing${what}`, unknownKey: false };
      }
      break;
    default:
      break;
  }
  switch (issue.code) {
    case 'invalid_type': {
      const expected = issue.expected;
      if (expected === 'int' || expected === 'number') {
        return { path, at: 'value', key, reason: rangeReason(key, value, `must be a whole number, got ${describeActual(value)}`), unknownKey: false };
      }
      return { path, at: 'value', key, reason: `expected ${describeExpected(expected, path)}, got ${describeActual(value)}`, unknownKey: false };
    }
    case 'invalid_value': {
      const options = issue.values.map((v) => JSON.stringify(v)).join(' or ');
      // Short strings are echoed (a role is no secret; a token is never this short).
      const got = typeof value === 'string' && value.length <= 32 ? JSON.stringify(value) : describeActual(value);
      return { path, at: 'value', key, reason: `must be ${options} (lower case), got ${got}`, unknownKey: false };
    }
    case 'too_small':
    case 'too_big':
      return { path, at: 'value', key, reason: rangeReason(key, value, issue.message), unknownKey: false };
    default: {
      const params = (issue.code === 'custom' ? issue.params : undefined) as IssueParams | undefined;
      const at = params?.at ?? 'value';
      const label = params?.label ?? key;
      return { path, at, key: label, reason: issue.message, unknownKey: false };
    }
  }
}
