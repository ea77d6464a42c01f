/**
 * Where `clavitor-cli` finds its server and token (issue 6 item 6). `init` stores them in
 * `$XDG_CONFIG_HOME/clavitor/config.json` (else `~/.config/clavitor/config.json`), directory 0700
 * and file 0600; a config file readable by group or others is refused, like ssh refuses an
 * unprotected key. Precedence: `--server` / `--token-file` / `--ca-file` flags, then
 * `CLAVITOR_URL` / `CLAVITOR_TOKEN` / `CLAVITOR_CA_FILE`, then the file (`ca_file` is saved by
 * `init --ca-file`, issue 11 item 4).
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { cvError } from '../../lib/errors.js';

/** Contents of config.json. */
export interface CliConfig {
  /** Base URL of a POP, e.g. `https://calgary-01.clavitor.ai`. */
  server?: string;
  /** Owner or agent token (`cvt1.…`). */
  token?: string;
  /** Default seal key file for the sealed tier. */
  seal_key_file?: string;
  /** PEM CA bundle trusted for the server's HTTPS certificate (absolute path; a private CA). */
  ca_file?: string;
}

/** Directory of the configuration: `$XDG_CONFIG_HOME/clavitor` or `~/.config/clavitor`. */
export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME.startsWith('/') ? env.XDG_CONFIG_HOME : join(homedir(), '.config');
  return join(base, 'clavitor');
}

/** Path of config.json. */
export function configFile(env: NodeJS.ProcessEnv = process.env): string {
  return join(configDir(env), 'config.json');
}

/** Reads a file that holds a secret; refuses one that is missing or readable by group or others (CLI_NOT_CONFIGURED). */
export function readPrivateFile(file: string, what: string): string {
  let st;
  try {
    st = statSync(file);
  } catch {
    throw cvError('CLI_NOT_CONFIGURED', `${file}: cannot read the ${what}`);
  }
  if ((st.mode & 0o077) !== 0) throw cvError('CLI_NOT_CONFIGURED', `${file}: the ${what} is readable by group or others; chmod 600 it`);
  return readFileSync(file, 'utf8');
}

/** The stored configuration, or `{}` when there is none. Throws CLI_NOT_CONFIGURED on an unsafe or corrupt file. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): CliConfig {
  const file = configFile(env);
  if (!existsSync(file)) return {};
  try {
    return JSON.parse(readPrivateFile(file, 'configuration file')) as CliConfig;
  } catch (e) {
    if ((e as { code?: string }).code?.startsWith('CV-')) throw e;
    throw cvError('CLI_NOT_CONFIGURED', `${file}: not valid JSON; run clavitor-cli init again`);
  }
}

/** Merges `patch` into the stored configuration, writing it atomically with mode 0600. Returns the path. */
export function saveConfig(patch: CliConfig, env: NodeJS.ProcessEnv = process.env): string {
  const dir = configDir(env);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const file = configFile(env);
  const next = { ...loadConfig(env), ...patch };
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(next, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, file);
  return file;
}

/** Global options that select the server and credentials. */
export interface ConnectionOptions {
  server?: string;
  tokenFile?: string;
  caFile?: string;
}

/**
 * The CA bundle to trust: `--ca-file`, else `CLAVITOR_CA_FILE`, else `ca_file` saved by init;
 * an absolute path (relative ones resolve against the current directory), or undefined for the
 * system roots.
 */
export function resolveCaFile(o: ConnectionOptions, env: NodeJS.ProcessEnv = process.env, cfg: CliConfig = loadConfig(env)): string | undefined {
  const f = o.caFile ?? (env.CLAVITOR_CA_FILE || undefined) ?? cfg.ca_file;
  return f === undefined ? undefined : resolve(f);
}

/** Server base URL, token and CA bundle for a command; throws CLI_NOT_CONFIGURED when the server or token is missing. */
export function resolveConnection(o: ConnectionOptions, env: NodeJS.ProcessEnv = process.env): { server: string; token: string; caFile?: string } {
  const cfg = loadConfig(env);
  const server = o.server ?? env.CLAVITOR_URL ?? cfg.server;
  const token = o.tokenFile ? readPrivateFile(o.tokenFile, 'token file').split('\n')[0]!.trim() : (env.CLAVITOR_TOKEN ?? cfg.token);
  if (!server || !token) throw cvError('CLI_NOT_CONFIGURED');
  const caFile = resolveCaFile(o, env, cfg);
  return { server: server.replace(/\/+$/, ''), token, ...(caFile !== undefined ? { caFile } : {}) };
}
