/**
 * `clavitor-cli agent add|ls|revoke|unlock` (issue 6 items 1, 3 and 6), owner token.
 * `add` resolves titles to entry ids and prints `<agent_id><TAB><token>` (the token is shown once).
 */
import type { Command } from 'commander';
import { cvError } from '../../lib/errors.js';
import { DEFAULT_LIMITS } from '../../vault/principal.js';
import { contextOf, resolveEntryId } from './context.js';

/** An agent as `GET /api/agents` lists it. */
interface AgentOut {
  agent_id: string;
  name: string;
  scopes: string[];
  revoked: boolean;
  locked: boolean;
  limits: { per_minute: number; per_hour: number };
}

const collect = (v: string, prev: string[]): string[] => [...prev, v];
const positiveInt = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw cvError('CLI_BAD_INPUT', `expected a positive integer, got "${v}"`);
  return n;
};

async function addCmd(name: string, o: { scope: string[]; perMinute?: number; perHour?: number }, cmd: Command): Promise<void> {
  const ctx = contextOf(cmd);
  if (o.scope.length === 0) ctx.note('warning: no --scope given; this agent can read nothing');
  const scopes: string[] = [];
  for (const s of o.scope) scopes.push(await resolveEntryId(ctx, s));
  const limits = o.perMinute !== undefined || o.perHour !== undefined
    ? { per_minute: o.perMinute ?? DEFAULT_LIMITS.perMinute, per_hour: o.perHour ?? DEFAULT_LIMITS.perHour }
    : undefined;
  const out = await ctx.client().call<{ agent_id: string; token: string }>('POST', '/api/agents', { body: { name, scopes, ...(limits ? { limits } : {}) } });
  if (ctx.json) return ctx.emit({ ...out, scopes });
  ctx.line(`${out.agent_id}\t${out.token}`);
  ctx.note(`created agent ${out.agent_id} (${name}) with ${scopes.length} entr${scopes.length === 1 ? 'y' : 'ies'} in scope; the token is shown once: store it now`);
}

async function lsCmd(_o: unknown, cmd: Command): Promise<void> {
  const ctx = contextOf(cmd);
  const { agents } = await ctx.client().call<{ agents: AgentOut[] }>('GET', '/api/agents');
  if (ctx.json) return ctx.emit(agents);
  for (const a of agents) {
    const state = a.revoked ? 'revoked' : a.locked ? 'LOCKED' : 'active';
    ctx.line(`${a.agent_id}\t${a.name}\t${state}\t${a.limits.per_minute}/min ${a.limits.per_hour}/h\t${a.scopes.join(',')}`);
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
  agent.command('add').argument('<name>').description('create an agent; prints <agent_id> TAB <token>')
    .option('--scope <id|title>', 'entry the agent may read; repeatable', collect, [])
    .option('--per-minute <n>', `distinct entries per minute (default ${DEFAULT_LIMITS.perMinute})`, positiveInt)
    .option('--per-hour <n>', `distinct entries per hour (default ${DEFAULT_LIMITS.perHour})`, positiveInt)
    .action(addCmd);
  agent.command('ls').description('list agents: id, name, state, limits, scopes').action(lsCmd);
  agent.command('revoke').argument('<agent_id>').description('revoke an agent at once').action(revokeCmd);
  agent.command('unlock').argument('<agent_id>').description('unlock an agent locked by repeated rate-limit breaches').action(unlockCmd);
}
