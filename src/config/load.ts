/**
 * Loads `replication.yaml` for the commercial edition (DESIGN.md §4.1, §4.2; seed "Config File").
 *
 * Pipeline, each step in its own module:
 *   read-source.ts   file → text              (missing / unreadable → CV-1002)
 *   yaml-source.ts   text → YAML document     (syntax errors, empty file, not a mapping)
 *   validate.ts      document → typed content (zod schema.ts; positions via locate.ts)
 *   check-files.ts   token and TLS files      (permissions, strength, PEM, key ≠ token file)
 * and then the frozen {@link ReplicationConfig} is built here. Every failure is one
 * {@link ConfigError} whose `.line` is `<file>:<line>:<col>: <key>: <what is wrong>`.
 *
 * Synchronous and side-effect free apart from reading files, so it serves both the start-up
 * path and SIGHUP reload (DESIGN.md §4.4 item 10): on reload, call it again and keep the old
 * configuration if it throws.
 */
import { dirname, resolve } from 'node:path';
import type { PopId } from '../lib/ids.js';
import { checkReferencedFiles, type CheckedFiles, type CheckedTokenFile } from './check-files.js';
import { readConfigSource } from './read-source.js';
import { DEFAULTS, type RawReplicationConfig } from './schema.js';
import type { ReplicationConfig } from './types.js';
import { validateShape } from './validate.js';
import { parsePublicKey } from './signing-key.js';
import { ConfigError } from './config-error.js';
import { locate } from './locate.js';
import { Errors } from '../lib/errors.js';
import { parseYamlSource } from './yaml-source.js';

/** Default location of the file (DESIGN.md §4.1). */
export const DEFAULT_REPLICATION_CONFIG_PATH = '/etc/clavitor/replication.yaml';

function firstToken(t: CheckedTokenFile): string {
  const token = t.tokens[0];
  if (token === undefined) throw new Error('unreachable: a checked token file holds at least one token');
  return token;
}

function build(path: string, raw: RawReplicationConfig, files: CheckedFiles): ReplicationConfig {
  const config: ReplicationConfig = {
    path,
    popId: raw.pop_id as PopId,
    region: raw.region,
    role: raw.role,
    ...(raw.backup_pop && files.backup
      ? {
          backupPop: Object.freeze({
            id: raw.backup_pop.id as PopId,
            url: raw.backup_pop.url,
            authTokenFile: files.backup.path,
            sendToken: firstToken(files.backup),
          }),
        }
      : {}),
    ...(raw.primary_pop ? { primaryPop: Object.freeze({ id: raw.primary_pop.id as PopId, url: raw.primary_pop.url }) } : {}),
    auth: Object.freeze({
      tokenFile: files.auth.path,
      acceptTokens: files.auth.tokens,
      ...(files.mtlsCert !== undefined ? { mtlsCert: files.mtlsCert } : {}),
      ...(files.mtlsKey !== undefined ? { mtlsKey: files.mtlsKey } : {}),
      ...(files.mtlsCa !== undefined ? { mtlsCa: files.mtlsCa } : {}),
      ...(files.signingKey !== undefined ? { signingKeyFile: files.signingKey.path, signingKey: files.signingKey.key } : {}),
      ...(raw.auth.peer_public_key !== undefined ? { peerPublicKey: parsePublicKey(raw.auth.peer_public_key) } : {}),
    }),
    replication: Object.freeze({
      batchSize: raw.replication?.batch_size ?? DEFAULTS.batchSize,
      maxRetries: raw.replication?.max_retries ?? DEFAULTS.maxRetries,
    }),
    ...(raw.control_plane && files.controlPlane
      ? {
          controlPlane: Object.freeze({
            url: raw.control_plane.url,
            tokenFile: files.controlPlane.path,
            token: firstToken(files.controlPlane),
            heartbeatIntervalSeconds: raw.control_plane.heartbeat_interval ?? DEFAULTS.heartbeatIntervalSeconds,
            ...(files.controlPlaneCa !== undefined ? { caFile: files.controlPlaneCa } : {}),
          }),
        }
      : {}),
    trustedProxies: Object.freeze((raw.trusted_proxies ?? []).map((r) => Object.freeze(r))),
  };
  return Object.freeze(config);
}

/**
 * Read, validate and resolve a replication.yaml.
 *
 * @param path the YAML file; relative paths resolve against the current directory, and paths
 *   inside the file resolve against the file's directory.
 * @returns a deeply frozen {@link ReplicationConfig}: absolute paths, normalised URLs (no
 *   trailing slash), defaults applied (batch_size 100, max_retries 5, heartbeat_interval 60
 *   seconds), token files read and checked.
 * @throws ConfigError (never anything else for a bad file) with `.line` =
 *   `<file>:<line>:<col>: <key>: <what is wrong>` and code CV-1002 (CONFIG_MISSING: no such
 *   file or unreadable), CV-1003 (TOKEN_FILE_INVALID: a token file is missing, unprotected,
 *   malformed or weak), CV-1010 (SIGNING_KEY_INVALID: the signing key file cannot be used),
 *   CV-1011 (SIGNING_KEYS_REQUIRED, with `opts.requireSigningKeys`) or CV-1001 (CONFIG_INVALID:
 *   everything else).
 */
export function loadReplicationConfig(path: string, opts: LoadOptions = {}): ReplicationConfig {
  const file = resolve(path);
  const text = readConfigSource(file);
  const parsed = parseYamlSource(file, text);
  const raw = validateShape(file, parsed);
  const files = checkReferencedFiles(file, parsed, raw, dirname(file));
  if (opts.requireSigningKeys) {
    const missing = [raw.auth.signing_key_file === undefined ? 'signing_key_file' : '', raw.auth.peer_public_key === undefined ? 'peer_public_key' : ''].filter((k) => k !== '');
    if (missing[0] !== undefined) {
      const { line, col } = locate(parsed.doc, parsed.lineCounter, ['auth'], 'key');
      throw new ConfigError(Errors.SIGNING_KEYS_REQUIRED, {
        file, line, col, key: `auth.${missing[0]}`,
        reason: `required: a commercial POP signs its hello and pushes and verifies its peer's (a replication token alone must not decide roles or data). Run clavitor-commercial keygen --signing-key --out FILE on each POP, set auth.signing_key_file to this POP's file and auth.peer_public_key to the line the other POP's keygen printed (docs/config.md)`,
      });
    }
  }
  return build(file, raw, files);
}

/** Options of {@link loadReplicationConfig}. */
export interface LoadOptions {
  /**
   * Refuse (CV-1011 SIGNING_KEYS_REQUIRED, at the `auth` key) a file without
   * `auth.signing_key_file` and `auth.peer_public_key`. The commercial POP (`serve`, `check-config`,
   * SIGHUP reload) always sets it (issue 13 §1); offline tools that only read paths need not.
   */
  readonly requireSigningKeys?: boolean;
}
