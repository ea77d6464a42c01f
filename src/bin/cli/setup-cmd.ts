/**
 * Setting up `clavitor-cli` (issue 6 item 6): `init <url>` stores the server and a token read
 * from stdin (never from the command line, where it would land in shell history and `ps`);
 * `vault create` makes a vault with the operator's admin token; `generate` asks for a password.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { cvError } from '../../lib/errors.js';
import { parseToken } from '../../vault/tokens.js';
import { readPrivateFile, resolveCaFile, saveConfig } from './config.js';
import { createClient } from './http.js';
import { contextOf } from './context.js';

function checkUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw cvError('CLI_BAD_INPUT', `"${url}" is not a URL; use e.g. https://calgary-01.clavitor.ai`);
  }
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname))) {
    throw cvError('CLI_BAD_INPUT', `${url}: use https (plain http only to a loopback address)`);
  }
  return url.replace(/\/+$/, '');
}

async function initCmd(url: string, _o: unknown, cmd: Command): Promise<void> {
  const ctx = contextOf(cmd);
  const o = { sealKeyFile: ctx.opts.sealKeyFile };
  const server = checkUrl(url);
  // A CA given now (flag or CLAVITOR_CA_FILE) is checked and remembered for later commands.
  const caFile = resolveCaFile(ctx.opts, process.env, {});
  if (caFile !== undefined) createClient(server, '', caFile);
  if (process.stdin.isTTY) process.stderr.write('Paste the owner or agent token, then press Enter: ');
  const token = readFileSync(0, 'utf8').split('\n').map((l) => l.trim()).find((l) => l !== '') ?? '';
  if (!parseToken(token)) throw cvError('CLI_BAD_INPUT', 'stdin did not hold a Clavitor token (cvt1.<vault>.<id>.<secret>)');
  const file = saveConfig({ server, token, ...(o.sealKeyFile ? { seal_key_file: o.sealKeyFile } : {}), ...(caFile !== undefined ? { ca_file: caFile } : {}) });
  if (ctx.json) ctx.emit({ config: file, server, vault_id: parseToken(token)!.vaultId, ...(caFile !== undefined ? { ca_file: caFile } : {}) });
  else ctx.note(`saved ${file} (mode 0600): server ${server}, vault ${parseToken(token)!.vaultId}${caFile !== undefined ? `, CA ${caFile}` : ''}`);
}

async function vaultCreateCmd(o: { adminTokenFile?: string; save?: boolean; recoveryCode?: boolean }, cmd: Command): Promise<void> {
  const ctx = contextOf(cmd);
  const file = o.adminTokenFile ?? process.env.CLAVITOR_ADMIN_TOKEN_FILE;
  if (!file) throw cvError('CLI_BAD_INPUT', 'vault create needs --admin-token-file (the POP\'s <data>/admin.token) or CLAVITOR_ADMIN_TOKEN_FILE');
  const server = ctx.opts.server ?? process.env.CLAVITOR_URL;
  if (!server) throw cvError('CLI_NOT_CONFIGURED', 'vault create needs --server URL or CLAVITOR_URL');
  const admin = readPrivateFile(file, 'admin token file').split('\n')[0]!.trim();
  const caFile = resolveCaFile(ctx.opts, process.env, {});
  const out = await createClient(checkUrl(server), admin, caFile).call<{ vault_id: string; owner_token: string; recovery_code?: string }>('POST', '/api/vaults', o.recoveryCode ? { body: { recovery_code: true } } : {});
  if (o.save) ctx.note(`saved ${saveConfig({ server: checkUrl(server), token: out.owner_token, ...(caFile !== undefined ? { ca_file: caFile } : {}) })}`);
  if (ctx.json) return ctx.emit(out);
  ctx.line(`${out.vault_id}\t${out.owner_token}${out.recovery_code ? `\t${out.recovery_code}` : ''}`);
  ctx.note('the owner token is shown once and never stored by the server: keep it safe');
  if (out.recovery_code) ctx.note('the recovery code (third column) is shown once: keep it offline; clavitor-cli owner recover mints a new owner token with it');
}

async function generateCmd(o: { length?: string; classes?: string }, cmd: Command): Promise<void> {
  const ctx = contextOf(cmd);
  const q = new URLSearchParams();
  if (o.length !== undefined) q.set('length', o.length);
  if (o.classes !== undefined) q.set('classes', o.classes);
  const out = await ctx.client().call<{ password: string }>('GET', `/api/generate${q.size > 0 ? `?${q}` : ''}`);
  if (ctx.json) ctx.emit(out);
  else ctx.line(out.password);
}

/** Adds `init`, `vault create` and `generate` to `program`. */
export function registerSetupCommands(program: Command): void {
  program.command('init').argument('<url>', 'base URL of a POP (either POP of a pair)')
    .description('store the server URL and a token read from stdin (0600, under $XDG_CONFIG_HOME/clavitor); with --seal-key-file, remember that file too')
    .action(initCmd);
  program.command('vault').description('vaults (operator)').command('create')
    .description('create a vault with the admin token; prints <vault_id> TAB <owner_token>')
    .option('--admin-token-file <file>', 'the POP\'s <data>/admin.token')
    .option('--save', 'store the server and the new owner token as with init')
    .option('--recovery-code', 'also issue a recovery code (printed once, as a third column) that can mint a new owner token')
    .action(vaultCreateCmd);
  program.command('generate').description('generate a random password')
    .option('--length <n>', 'characters (4..1024, default 24)')
    .option('--classes <list>', 'comma-separated: lower,upper,digits,symbols (default all)')
    .action(generateCmd);
}
