/**
 * `clavitor-cli agent add|create|update|ls|revoke|unlock` (issue 6 items 1, 3 and 6; issue 14
 * item 2), owner token. `add` (alias `create`) resolves titles to entry ids and prints
 * `<agent_id><TAB><token>` (the token is shown once); `update` changes the scope (entries, folders,
 * tags) and expiry of an existing agent.
 */
import type { Command } from 'commander';
import { cvError } from '../../lib/errors.js';
import { DEFAULT_LIMITS } from '../../vault/principal.js';
import type { AgentView } from '../../vault/agents-service.js';
import { contextOf, resolveEntryId } from './context.js';

const collect = (v: string, prev: string[]): string[] => [...prev, v];
const positiveInt = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw cvError('CLI_BAD_INPUT', `expected a positive integer, got "${v}"`);
  return n;
};

/**
 * Parses a TTL: whole seconds (`3600`) or a number with a unit `s`, `m`, `h`, `d` (`90m`, `7d`).
 * Returns seconds; throws CLI_BAD_INPUT.
 */
export function parseTtl(v: string): number {
  const m = /^(\d{1,9})([smhd]?)$/.exec(v.trim());
  const n = m ? Number(m[1]) * { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2] as '' | 's' | 'm' | 'h' | 'd'] : NaN;
  if (!Number.isSafeInteger(n) || n < 1) throw cvError('CLI_BAD_INPUT', `--ttl expects a duration such as 3600, 90m, 12h or 7d, got "${v}"`);
  return n;
}

/** Scope and expiry options of `add` and `update`. */
interface ScopeOptions {
  scope: string[];
  folder: string[];
  tag: string[];
  expires?: string;
  ttl?: number;
}

/** The request body parts for `o`: entry and folder titles resolved to ids; only what was given on update. */
async function scopeBody(ctx: ReturnType<typeof contextOf>, o: ScopeOptions, update: boolean): Promise<Record<string, unknown>> {
  if (o.expires !== undefined && o.ttl !== undefined) throw cvError('CLI_BAD_INPUT', 'give --expires or --ttl, not both');
  const resolve = async (xs: string[]) => {
    const out: string[] = [];
    for (const x of xs) out.push(await resolveEntryId(ctx, x));
    return out;
  };
  return {
    ...(!update || o.scope.length > 0 ? { scopes: await resolve(o.scope) } : {}),
    ...(!update || o.folder.length > 0 ? { folders: await resolve(o.folder) } : {}),
    ...(!update || o.tag.length > 0 ? { tags: o.tag } : {}),
    ...(o.expires === 'never' ? { expires_at: null } : o.expires !== undefined ? { expires_at: o.expires } : {}),
    ...(o.ttl !== undefined ? { ttl_seconds: o.ttl } : {}),
  };
}

async function addCmd(name: string, o: ScopeOptions & { perMinute?: number; perHour?: number }, cmd: Command): Promise<void> {
  const ctx = contextOf(cmd);
  if (o.scope.length + o.folder.length + o.tag.length === 0) ctx.note('warning: no --scope, --folder or --tag given; this agent can read nothing');
  if (o.expires === 'never') throw cvError('CLI_BAD_INPUT', '--expires never is for update; omit --expires for a token that never expires');
  const body = await scopeBody(ctx, o, false);
  const limits = o.perMinute !== undefined || o.perHour !== undefined
    ? { per_minute: o.perMinute ?? DEFAULT_LIMITS.perMinute, per_hour: o.perHour ?? DEFAULT_LIMITS.perHour }
    : undefined;
  const out = await ctx.client().call<{ agent_id: string; token: string; expires_at: string | null }>('POST', '/api/agents', { body: { name, ...body, ...(limits ? { limits } : {}) } });
  const scopes = body.scopes as string[];
  if (ctx.json) return ctx.emit({ ...out, scopes, folders: body.folders, tags: body.tags });
  ctx.line(`${out.agent_id}\t${out.token}`);
  ctx.note(`created agent ${out.agent_id} (${name}) with ${scopes.length} entr${scopes.length === 1 ? 'y' : 'ies'}, ${o.folder.length} folder(s) and ${o.tag.length} tag(s) in scope; `
    + `${out.expires_at ? `it expires ${out.expires_at}` : 'it never expires'}; the token is shown once: store it now`);
}

async function updateCmd(id: string, o: ScopeOptions, cmd: Command): Promise<void> {
  const ctx = contextOf(cmd);
  const body = await scopeBody(ctx, o, true);
  if (Object.keys(body).length === 0) throw cvError('CLI_BAD_INPUT', 'nothing to change: give --scope, --folder, --tag, --expires or --ttl');
  const a = await ctx.client().call<AgentView>('PATCH', `/api/agents/${encodeURIComponent(id)}`, { body });
  if (ctx.json) return ctx.emit(a);
  ctx.note(`updated ${a.agent_id}: entries ${a.scopes.join(',') || '-'}; folders ${a.folders.join(',') || '-'}; tags ${a.tags.join(',') || '-'}; ${a.expires_at ? `expires ${a.expires_at}` : 'never expires'}`);
}

async function lsCmd(_o: unknown, cmd: Command): Promise<void> {
  const ctx = contextOf(cmd);
  const { agents } = await ctx.client().call<{ agents: AgentView[] }>('GET', '/api/agents');
  if (ctx.json) return ctx.emit(agents);
  for (const a of agents) {
    const state = a.revoked ? 'revoked' : a.locked ? 'LOCKED' : a.expired ? 'expired' : 'active';
    const scope = [...a.scopes, ...a.folders.map((f) => `folder:${f}`), ...a.tags.map((t) => `tag:${t}`)].join(',');
    ctx.line(`${a.agent_id}\t${a.name}\t${state}\t${a.limits.per_minute}/min ${a.limits.per_hour}/h\t${scope}\t${a.expires_at ?? 'never'}`);
  }
  if (agents.length === 0) ctx.note('the vault has no agents');
}

async function revokeCmd(id: string, _o: unknown, cmd: Command): Promise<void> {
  const ctx = contextOf(cmd);
  await ctx.client().call('DELETE', `/api/agents/${encodeURIComponent(id)}`);
  if (ctx.json) ctx.emit({ revoked: id });
  else ctx.note(`revoked ${id}: its token stops working on the next request`);
}

async function unlockCmd(id: string, _o: unknown, cmd: Command): Promise<void> {
  const ctx = contextOf(cmd);
  const out = await ctx.client().call<{ agent_id: string; was_locked: boolean }>('POST', `/api/agents/${encodeURIComponent(id)}/unlock`);
  if (ctx.json) return ctx.emit(out);
  ctx.note(out.was_locked ? `unlocked ${id}` : `${id} was not locked`);
}

/** Adds the `agent` command group to `program`. */
export function registerAgentCommands(program: Command): void {
  const agent = program.command('agent').description('scoped agent tokens (owner token)');
  const scopeOptions = (c: Command, update: boolean): Command => c
    .option('--scope <id|title>', `entry the agent may read; repeatable${update ? ' (replaces the entries)' : ''}`, collect, [])
    .option('--folder <id|title>', `folder: the agent may read it and every entry under it; repeatable${update ? ' (replaces the folders)' : ''}`, collect, [])
    .option('--tag <tag>', `tag: the agent may read every entry carrying it; repeatable${update ? ' (replaces the tags)' : ''}`, collect, [])
    .option('--expires <date>', `ISO-8601 date the token stops working${update ? ', or "never"' : ''}`)
    .option('--ttl <duration>', 'the token stops working after this long: seconds, or 90m, 12h, 7d', parseTtl);
  scopeOptions(agent.command('add').alias('create').argument('<name>').description('create an agent; prints <agent_id> TAB <token>'), false)
    .option('--per-minute <n>', `distinct entries per minute (default ${DEFAULT_LIMITS.perMinute})`, positiveInt)
    .option('--per-hour <n>', `distinct entries per hour (default ${DEFAULT_LIMITS.perHour})`, positiveInt)
    .action(addCmd);
  scopeOptions(agent.command('update').argument('<agent_id>').description('change an agent\'s scope or expiry (its token stays the same)'), true).action(updateCmd);
  agent.command('ls').description('list agents: id, name, state, limits, scope (entries, folder:…, tag:…), expiry').action(lsCmd);
  agent.command('revoke').argument('<agent_id>').description('revoke an agent at once').action(revokeCmd);
  agent.command('unlock').argument('<agent_id>').description('unlock an agent locked by repeated rate-limit breaches').action(unlockCmd);
}
