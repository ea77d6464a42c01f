/**
 * Agent routes (DESIGN.md §3, issue 6 items 1 and 3, issue 14 item 2): `POST/GET /api/agents`,
 * `PATCH /api/agents/{id}` (scope and expiry), `DELETE /api/agents/{id}` (revoke) and
 * `POST /api/agents/{id}/unlock` (owner only).
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { parseInput } from '../parse.js';
import { principalOf } from '../auth.js';
import { AgentLimits, MAX_TAGS, Tag } from '../../vault/revision.js';
import type { AppServices } from '../services.js';

const ids = z.array(z.string().min(1).max(64)).max(10000);
/** Scope and expiry parts shared by create and update (issue 14 item 2). */
const ScopeParts = {
  folders: ids.optional(),
  tags: z.array(Tag).max(MAX_TAGS).optional(),
  ttl_seconds: z.number().int().optional(),
};

/**
 * Body of `POST /api/agents`: name, entry ids in scope, optional `limits: {per_minute, per_hour}`,
 * `folders`, `tags`, and `expires_at` (ISO-8601) or `ttl_seconds`.
 */
export const AgentBody = z.strictObject({
  name: z.string().min(1).max(256),
  scopes: ids.default([]),
  limits: AgentLimits.optional(),
  ...ScopeParts,
  expires_at: z.string().min(1).max(64).optional(),
});

/** Body of `PATCH /api/agents/{id}`: any of `scopes`, `folders`, `tags`, `expires_at` (null: never) or `ttl_seconds`. */
export const AgentPatchBody = z.strictObject({
  scopes: ids.optional(),
  ...ScopeParts,
  expires_at: z.string().min(1).max(64).nullable().optional(),
});
const IdParams = z.strictObject({ id: z.string().min(1).max(64) });

/** Registers the agent routes. */
export async function agentRoutes(app: FastifyInstance, s: AppServices): Promise<void> {
  app.post('/api/agents', async function post_agent(req, reply) {
    const p = principalOf(req, s.vaults);
    const body = parseInput(AgentBody, req.body);
    const limits = body.limits ? { perMinute: body.limits.per_minute, perHour: body.limits.per_hour } : undefined;
    const out = await s.agents.create(p, body.name, body.scopes, req.ip, limits, body);
    await s.afterWrite(req, reply);
    return reply.code(201).send(out);
  });

  app.get('/api/agents', async function get_agents(req) {
    return { agents: s.agents.list(principalOf(req, s.vaults), req.ip) };
  });

  app.patch('/api/agents/:id', async function patch_agent(req, reply) {
    const p = principalOf(req, s.vaults);
    const { id } = parseInput(IdParams, req.params);
    const body = parseInput(AgentPatchBody, req.body);
    const out = await s.agents.update(p, id, body, req.ip);
    await s.afterWrite(req, reply);
    return reply.send(out);
  });

  app.delete('/api/agents/:id', async function delete_agent(req, reply) {
    const p = principalOf(req, s.vaults);
    const { id } = parseInput(IdParams, req.params);
    await s.agents.revoke(p, id, req.ip);
    await s.afterWrite(req, reply);
    return reply.code(204).send();
  });

  app.post('/api/agents/:id/unlock', async function post_agent_unlock(req, reply) {
    const p = principalOf(req, s.vaults);
    const { id } = parseInput(IdParams, req.params);
    const out = await s.agents.unlock(p, id, req.ip);
    await s.afterWrite(req, reply);
    return reply.send(out);
  });
}
