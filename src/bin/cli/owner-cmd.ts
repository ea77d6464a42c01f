/**
 * Owner token lifecycle commands of `clavitor-cli` (issue 15 item 5; docs/cli.md): `owner rotate`
 * mints a new owner token and revokes the old one (optionally a new recovery code too), `owner
 * recover` mints a new owner token with the recovery code. Both are writes: a backup refuses them
 * (exit status 5, the primary named). New secrets go to stdout once; `--save` stores the new
 * owner token in the configuration instead of leaving the old, now useless, one there.
 */
import type { Command } from 'commander';
import { cvError } from '../../lib/errors.js';
import { parseToken } from '../../vault/tokens.js';
import { contextOf } from './context.js';
import { loadConfig, readPrivateFile, saveConfig } from './config.js';
import { createClient } from './http.js';

/** The answer of rotate and recover. */
interface NewOwner {
  owner_token: string;
  recovery_code?: string;
}

function show(ctx: ReturnType<typeof contextOf>, out: NewOwner, save: boolean | undefined): void {
  if (save) ctx.note(`saved ${saveConfig({ token: out.owner_token })} (the old owner token is revoked)`);
  if (ctx.json) return ctx.emit(out);
  ctx.line(`${out.owner_token}${out.recovery_code ? `\t${out.recovery_code}` : ''}`);
  ctx.note(`the old owner token is revoked on both POPs once this replicates${out.recovery_code ? '; the recovery code (second column) replaces the old one: keep it offline' : ''}`);
}

async function rotateCmd(o: { recoveryCode?: boolean; save?: boolean }, cmd: Command): Promise<void> {
  const ctx = contextOf(cmd);
  const out = await ctx.client().call<NewOwner>('POST', '/api/owner/rotate', { body: { recovery_code: o.recoveryCode === true } });
  show(ctx, out, o.save);
}

async function recoverCmd(o: { recoveryCodeFile: string; save?: boolean }, cmd: Command): Promise<void> {
  const ctx = contextOf(cmd);
  const code = readPrivateFile(o.recoveryCodeFile, 'recovery code file').split('\n')[0]!.trim();
  if (!parseToken(code)) throw cvError('CLI_BAD_INPUT', 'the recovery code file does not hold a recovery code (cvt1.<vault>.<id>.<secret>)');
  const server = ctx.opts.server ?? process.env.CLAVITOR_URL ?? loadConfig().server;
  if (!server) throw cvError('CLI_NOT_CONFIGURED', 'owner recover needs --server URL or CLAVITOR_URL');
  const out = await createClient(server.replace(/\/+$/, ''), code, ctx.opts.caFile ?? process.env.CLAVITOR_CA_FILE ?? loadConfig().ca_file).call<NewOwner>('POST', '/api/owner/recover', { body: {} });
  show(ctx, out, o.save);
}

/** Adds `owner rotate` and `owner recover` to `program`. */
export function registerOwnerCommands(program: Command): void {
  const owner = program.command('owner').description('the owner token: rotate it, or recover it with the recovery code');
  owner.command('rotate').description('mint a new owner token and revoke the old one (owner token); prints the new token once')
    .option('--recovery-code', 'also replace the recovery code (printed once, as a second column)')
    .option('--save', 'store the new owner token in the configuration')
    .action(rotateCmd);
  owner.command('recover').description('mint a new owner token with the recovery code; every older owner token and the used code are revoked')
    .requiredOption('--recovery-code-file <file>', 'file (mode 0600) holding the recovery code')
    .option('--save', 'store the new owner token in the configuration')
    .action(recoverCmd);
}
