/**
 * The control plane's own settings file (`clavitor-control serve --config FILE`; issue 5 item 3):
 * YAML, every key optional, unknown keys refused. Parsing reuses the POP config pipeline's YAML
 * reader (`parseYamlSource`: positions, duplicate keys, alias and nesting limits) and locator
 * (`locate`), so a problem is one line `<file>:<line>:<col>: <key>: <what is wrong>` (exit 78).
 *
 *   lease_ttl_seconds: 10                  # lease granted to a primary per heartbeat (2..3600)
 *   failover_after_missed_heartbeats: 3    # primary heartbeats missed before failover (1..100)
 *   max_lag_on_failover: 0                 # unreplicated revisions tolerated on failover (0..1e9)
 *   safety_margin_ms: 1000                 # added to the lease in the control plane's view (0..600000)
 */
import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { Errors } from '../../lib/errors.js';
import { ConfigError, FILE_KEY } from '../../config/config-error.js';
import { locate } from '../../config/locate.js';
import { parseYamlSource } from '../../config/yaml-source.js';
import { timingRuleHolds } from '../protocol.js';

/** Validated control-plane settings (frozen). */
export interface ControlConfig {
  /** Absolute path of the file read, or undefined when every default applies. */
  readonly path: string | undefined;
  /** Lease granted per heartbeat to the pair's primary, in seconds. */
  readonly leaseTtlSeconds: number;
  /** Heartbeat intervals a primary must miss (besides its lease expiring) before failover. */
  readonly failoverAfterMissedHeartbeats: number;
  /** Unreplicated revisions a primary may have last reported and still be failed over. */
  readonly maxLagOnFailover: number;
  /** Added to the lease in the control plane's view of it, in milliseconds (covers clock drift). */
  readonly safetyMarginMs: number;
}

/** Defaults (issue 5 brief). */
export const CONTROL_DEFAULTS: ControlConfig = Object.freeze({
  path: undefined,
  leaseTtlSeconds: 10,
  failoverAfterMissedHeartbeats: 3,
  maxLagOnFailover: 0,
  safetyMarginMs: 1000,
});

/** Largest control-plane settings file accepted, in bytes. */
export const MAX_CONTROL_CONFIG_BYTES = 64 * 1024;

const RANGES = {
  lease_ttl_seconds: { min: 2, max: 3600, unit: 'seconds' },
  failover_after_missed_heartbeats: { min: 1, max: 100, unit: 'heartbeats' },
  max_lag_on_failover: { min: 0, max: 1_000_000_000, unit: 'revisions' },
  safety_margin_ms: { min: 0, max: 600_000, unit: 'milliseconds' },
} as const;
type Key = keyof typeof RANGES;
const KEYS = Object.keys(RANGES) as Key[];

const bounded = (k: Key) => z.int().min(RANGES[k].min).max(RANGES[k].max).optional();
const fileSchema = z.strictObject({
  lease_ttl_seconds: bounded('lease_ttl_seconds'),
  failover_after_missed_heartbeats: bounded('failover_after_missed_heartbeats'),
  max_lag_on_failover: bounded('max_lag_on_failover'),
  safety_margin_ms: bounded('safety_margin_ms'),
});

function fileError(file: string, code: 'CONFIG_MISSING' | 'CONFIG_INVALID', reason: string): ConfigError {
  return new ConfigError(Errors[code], { file, line: 1, col: 1, key: FILE_KEY, reason });
}

function readText(file: string): string {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    throw fileError(file, 'CONFIG_MISSING', code === 'ENOENT' ? 'not found; create it or drop --config to use the defaults (docs/control-plane.md)' : `cannot be read (${code})`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw fileError(file, 'CONFIG_MISSING', 'is not a regular file');
    if (st.size > MAX_CONTROL_CONFIG_BYTES) throw fileError(file, 'CONFIG_INVALID', `is ${st.size} bytes; a control-plane config is a few lines (limit ${MAX_CONTROL_CONFIG_BYTES})`);
    return new TextDecoder('utf-8', { fatal: true }).decode(readFileSync(fd));
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    throw fileError(file, 'CONFIG_INVALID', 'is not UTF-8 text');
  } finally {
    closeSync(fd);
  }
}

function describe(issue: z.core.$ZodIssue, data: Record<string, unknown>): { path: PropertyKey[]; at: 'key' | 'value'; key: string; reason: string } {
  if (issue.code === 'unrecognized_keys') {
    const name = issue.keys[0] ?? '?';
    return { path: [name], at: 'key', key: name, reason: `unknown key (allowed: ${KEYS.join(', ')})` };
  }
  const key = String(issue.path[0] ?? FILE_KEY);
  const r = RANGES[key as Key];
  const got = data[key];
  const shown = typeof got === 'number' ? `the number ${got}` : typeof got === 'string' ? 'a string (write numbers without quotes)' : got === null ? 'an empty value' : `a ${Array.isArray(got) ? 'list' : typeof got}`;
  const reason = r ? `must be a whole number from ${r.min} to ${r.max} (${r.unit}), got ${shown}` : issue.message;
  return { path: issue.path, at: 'value', key, reason };
}

/** True when `text` holds no YAML content at all (blank lines and comments only). */
function isBlank(text: string): boolean {
  return text.split(/\r?\n/).every((l) => /^\s*(#.*)?$/.test(l));
}

/**
 * Reads and validates the control-plane settings.
 *
 * @param path the YAML file, or undefined for the defaults (an empty file also means defaults).
 * @throws ConfigError with `.line` = `<file>:<line>:<col>: <key>: <what is wrong>`: CV-1002 when
 *   the file is missing or unreadable, CV-1001 for everything else (unknown key, wrong type, out of
 *   range, or a lease so short that no heartbeat interval satisfies the timing rule).
 */
export function loadControlConfig(path: string | undefined): ControlConfig {
  if (path === undefined) return CONTROL_DEFAULTS;
  const file = resolve(path);
  const text = readText(file);
  if (isBlank(text)) return Object.freeze({ ...CONTROL_DEFAULTS, path: file });
  const parsed = parseYamlSource(file, text);
  const result = fileSchema.safeParse(parsed.data);
  if (!result.success) {
    const issues = result.error.issues.map((i) => describe(i, parsed.data));
    const first = issues.find((i) => i.at === 'key') ?? issues[0]!;
    const pos = locate(parsed.doc, parsed.lineCounter, first.path, first.at);
    throw new ConfigError(Errors.CONFIG_INVALID, { file, line: pos.line, col: pos.col, key: first.key, reason: first.reason });
  }
  const raw = result.data;
  const cfg: ControlConfig = Object.freeze({
    path: file,
    leaseTtlSeconds: raw.lease_ttl_seconds ?? CONTROL_DEFAULTS.leaseTtlSeconds,
    failoverAfterMissedHeartbeats: raw.failover_after_missed_heartbeats ?? CONTROL_DEFAULTS.failoverAfterMissedHeartbeats,
    maxLagOnFailover: raw.max_lag_on_failover ?? CONTROL_DEFAULTS.maxLagOnFailover,
    safetyMarginMs: raw.safety_margin_ms ?? CONTROL_DEFAULTS.safetyMarginMs,
  });
  if (!timingRuleHolds(1000, cfg.leaseTtlSeconds * 1000)) {
    const pos = locate(parsed.doc, parsed.lineCounter, ['lease_ttl_seconds'], 'value');
    throw new ConfigError(Errors.CONFIG_INVALID, { file, ...pos, key: 'lease_ttl_seconds', reason: 'is too short for even a 1-second heartbeat under the timing rule (interval + 2 × request timeout ≤ lease)' });
  }
  return cfg;
}
