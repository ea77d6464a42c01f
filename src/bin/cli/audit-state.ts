/**
 * What `clavitor-cli audit verify` remembers between runs (issue 13 §3): per server URL and vault,
 * the newest audit record it verified (`seq`, `hash`, when). Kept in
 * `$XDG_CONFIG_HOME/clavitor/audit-anchors.json` (else `~/.config/clavitor/`), directory 0700 and
 * file 0600, written atomically; a file readable by group or others, or not valid JSON, is refused
 * (CV-6023 AUDIT_STATE_FILE) rather than silently replaced, so that a check is never skipped.
 */
import { chmodSync, existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cvError, isCvError } from '../../lib/errors.js';
import { configDir, readPrivateFile } from './config.js';

/** One remembered anchor: the newest verified record. `at`: ISO-8601 UTC of the verify, for display. */
export interface RememberedAnchor {
  seq: number;
  hash: string;
  at: string;
}

/** The file's shape: server URL → vault id → remembered anchor. */
export type AuditState = Record<string, Record<string, RememberedAnchor>>;

/** Path of the state file. */
export function auditStateFile(env: NodeJS.ProcessEnv = process.env): string {
  return join(configDir(env), 'audit-anchors.json');
}

function validAnchor(a: unknown): a is RememberedAnchor {
  const x = a as RememberedAnchor;
  return typeof x === 'object' && x !== null && Number.isSafeInteger(x.seq) && x.seq >= 1 && typeof x.hash === 'string' && /^[0-9a-f]{64}$/.test(x.hash) && typeof x.at === 'string';
}

/** Reads the state (`{}` when there is no file). Throws AUDIT_STATE_FILE (CV-6023) on an unsafe or corrupt file. */
export function loadAuditState(env: NodeJS.ProcessEnv = process.env): AuditState {
  const file = auditStateFile(env);
  if (!existsSync(file)) return {};
  let text: string;
  try {
    text = readPrivateFile(file, 'file of remembered audit anchors');
  } catch (e) {
    throw cvError('AUDIT_STATE_FILE', isCvError(e) ? e.message : `${file}: cannot read it`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw cvError('AUDIT_STATE_FILE', `${file}: not valid JSON; move it aside to start over (the next verify remembers anew)`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw cvError('AUDIT_STATE_FILE', `${file}: not an object of servers`);
  for (const vaults of Object.values(json as Record<string, unknown>)) {
    if (typeof vaults !== 'object' || vaults === null) throw cvError('AUDIT_STATE_FILE', `${file}: a server entry is not an object of vaults`);
    for (const a of Object.values(vaults as Record<string, unknown>)) if (!validAnchor(a)) throw cvError('AUDIT_STATE_FILE', `${file}: a remembered anchor is malformed`);
  }
  return json as AuditState;
}

/** The anchor remembered for `server` and `vaultId`, or undefined. */
export function rememberedAnchor(state: AuditState, server: string, vaultId: string): RememberedAnchor | undefined {
  return state[server]?.[vaultId];
}

/** Remembers `anchor` for `server` and `vaultId` (re-reading the file first), atomically with mode 0600. */
export function rememberAnchor(server: string, vaultId: string, anchor: RememberedAnchor, env: NodeJS.ProcessEnv = process.env): void {
  const dir = configDir(env);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const state = loadAuditState(env);
  state[server] = { ...(state[server] ?? {}), [vaultId]: anchor };
  const file = auditStateFile(env);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, file);
}
