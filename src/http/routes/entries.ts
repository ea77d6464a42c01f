/**
 * Entry routes (DESIGN.md §3): `POST/GET /api/entries`, `GET/PUT/DELETE /api/entries/{id}`,
 * `GET /api/entries/{id}/revisions` (with old values), `POST /api/entries/{id}/restore` and
 * `GET /api/trash` (issue 15 item 4), and `GET /api/entries/{id}/totp[?field=label]` (issue 6
 * item 5). Handlers are verb-first after their route (STYLE.md). A 429 for an agent's rate limit
 * carries `Retry-After` in seconds (set by the error handler from the error's headers).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { ENTRY_TYPES, MAX_TAGS, Tag, TIERS } from '../../vault/revision.js';
import { parseInput } from '../parse.js';
import { principalOf } from '../auth.js';
import { cvError } from '../../lib/errors.js';
import type { ReadContext } from '../../vault/entries-service.js';
import type { AppServices } from '../services.js';
import { ENTRY_CREATED_RESPONSE, ENTRY_LIST_RESPONSE, ENTRY_OK_RESPONSE } from '../response-schemas.js';

/** Request body of create and update. */
export const EntryBodySchema = z.strictObject({
  type: z.enum(ENTRY_TYPES).default('credential'),
  parent: z.string().max(64).nullable().default(null),
  title: z.string().min(1).max(1024),
  fields: z.array(z.strictObject({
    label: z.string().min(1).max(256),
    value: z.string().max(16 * 1024 * 1024),
    kind: z.string().min(1).max(32).default('text'),
    tier: z.enum(TIERS).default('owner'),
  })).max(1000).default([]),
  tags: z.array(Tag).max(MAX_TAGS).default([]),
});

const IdParams = z.strictObject({ id: z.string().min(1).max(64) });
const TotpQuery = z.strictObject({ field: z.string().min(1).max(256).optional() });
/** Body of `POST /api/entries/{id}/restore`: the version to copy; absent to undelete (issue 15 item 4). */
const RestoreBody = z.strictObject({ version: z.number().int().min(1).optional() });

/** Read context of a request: source IP, and whether this POP may write (a lock revision). */
export function readContextOf(req: FastifyRequest, s: AppServices): ReadContext {
  return { ip: req.ip, writable: s.edition.refuseClientWrite() === undefined };
}

/** Parses `If-Match: "12"` / `12` to a version number; undefined when absent. Throws BAD_REQUEST when malformed. */
export function ifMatchOf(req: FastifyRequest): number | undefined {
  const h = req.headers['if-match'];
  if (h === undefined) return undefined;
  const m = /^\s*(?:W\/)?"?(\d{1,15})"?\s*$/.exec(String(h));
  if (!m) throw cvError('BAD_REQUEST', 'If-Match must be the entry version, e.g. "12"');
  return Number(m[1]);
}

/** Registers the entry routes. */
export async function entryRoutes(app: FastifyInstance, s: AppServices): Promise<void> {
  app.post('/api/entries', { schema: ENTRY_CREATED_RESPONSE }, async function post_entry(req, reply) {
    const p = principalOf(req, s.vaults);
    const input = parseInput(EntryBodySchema, req.body);
    const view = await s.entries.create(p, input, req.ip);
    await s.afterWrite(req, reply);
    return reply.code(201).header('etag', `"${view.version}"`).send(view);
  });

  app.get('/api/entries', { schema: ENTRY_LIST_RESPONSE }, async function get_entries(req) {
    const p = principalOf(req, s.vaults);
    return { entries: s.entries.list(p, readContextOf(req, s)) };
  });

  app.get('/api/entries/:id', { schema: ENTRY_OK_RESPONSE }, async function get_entry(req, reply) {
    const p = principalOf(req, s.vaults);
    const { id } = parseInput(IdParams, req.params);
    const view = s.entries.get(p, id, readContextOf(req, s));
    return reply.header('etag', `"${view.version}"`).send(view);
  });

  app.get('/api/entries/:id/totp', async function get_entry_totp(req, reply) {
    const p = principalOf(req, s.vaults);
    const { id } = parseInput(IdParams, req.params);
    const q = parseInput(TotpQuery, req.query);
    const code = s.entries.totp(p, id, readContextOf(req, s), q.field);
    return reply.header('cache-control', 'no-store').send(code);
  });

  app.put('/api/entries/:id', { schema: ENTRY_OK_RESPONSE }, async function put_entry(req, reply) {
    const p = principalOf(req, s.vaults);
    const { id } = parseInput(IdParams, req.params);
    const version = ifMatchOf(req);
    if (version === undefined) throw cvError('PRECONDITION_REQUIRED');
    const input = parseInput(EntryBodySchema, req.body);
    const view = await s.entries.update(p, id, version, input, req.ip);
    await s.afterWrite(req, reply);
    return reply.header('etag', `"${view.version}"`).send(view);
  });

  app.delete('/api/entries/:id', async function delete_entry(req, reply) {
    const p = principalOf(req, s.vaults);
    const { id } = parseInput(IdParams, req.params);
    await s.entries.remove(p, id, ifMatchOf(req), req.ip);
    await s.afterWrite(req, reply);
    return reply.code(204).send();
  });

  app.get('/api/entries/:id/revisions', async function get_entry_revisions(req, reply) {
    const p = principalOf(req, s.vaults);
    const { id } = parseInput(IdParams, req.params);
    return reply.header('cache-control', 'no-store').send({ revisions: s.entries.history(p, id, req.ip) });
  });

  app.post('/api/entries/:id/restore', { schema: ENTRY_OK_RESPONSE }, async function post_entry_restore(req, reply) {
    const p = principalOf(req, s.vaults);
    const { id } = parseInput(IdParams, req.params);
    const body = parseInput(RestoreBody, req.body ?? {});
    const view = await s.entries.restore(p, id, body.version, ifMatchOf(req), req.ip);
    await s.afterWrite(req, reply);
    return reply.header('etag', `"${view.version}"`).send(view);
  });

  app.get('/api/trash', async function get_trash(req, reply) {
    const p = principalOf(req, s.vaults);
    return reply.header('cache-control', 'no-store').send({ trash: s.entries.trash(p, req.ip) });
  });
}
