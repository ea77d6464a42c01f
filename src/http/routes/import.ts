/**
 * Bulk import (issue 15, "nothing is half-imported"; docs/api.md "Import"):
 *
 * - `POST /api/import` (owner): body `{"entries":[…],"dry_run"?:bool}`; each entry is a create body
 *   (`POST /api/entries`) plus an optional `ref` (its name in this request) and `parent_ref` (the
 *   `ref` of its parent in this request). Every entry is checked first; then all are written as one
 *   group-commit job in one transaction, or none (vault/entries-service.ts `importAll`). 201
 *   `{"created":[{"ref","id","version","title"}]}`; with `dry_run` 200 `{"dry_run":true,"would_create":N}`.
 * - `POST /api/import/parse` (owner): body `{"format","data":<base64 of the file>,"map"?:{column:field},
 *   "passphrase"?}` → 200 `{"format","entries":[…],"unmapped":[…]}`, entries in the shape `POST
 *   /api/import` takes. Writes nothing. The web vault's import page uses it (docs/web.md "Import").
 *
 * Both are POSTs under /api/, so a POP that takes no writes (a backup) refuses them with 503 like
 * every write (src/http/app.ts). Their body limit is IMPORT_BODY_LIMIT_BYTES; each entry stays
 * within IMPORT_ENTRY_LIMIT_BYTES, what `POST /api/entries` accepts.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { parseInput } from '../parse.js';
import { principalOf } from '../auth.js';
import { cvError } from '../../lib/errors.js';
import { IMPORT_FORMATS } from '../../vault/import-formats.js';
import type { AppServices } from '../services.js';
import { EntryBodySchema } from './entries.js';

/** Body limit of the import routes, in bytes (32 MiB: a file of a few thousand entries, or its base64). */
export const IMPORT_BODY_LIMIT_BYTES = 32 * 1024 * 1024;
/** Largest entry of an import as JSON, in bytes: the client body limit of one `POST /api/entries` (8 MiB, src/http/app.ts). */
export const IMPORT_ENTRY_LIMIT_BYTES = 8 * 1024 * 1024;
/** Most entries in one import. */
export const MAX_IMPORT_ENTRIES = 10000;

const Ref = z.string().min(1).max(128);
/** One entry of `POST /api/import`: a create body plus `ref` and `parent_ref`. */
export const ImportEntrySchema = EntryBodySchema.extend({ ref: Ref.optional(), parent_ref: Ref.nullable().default(null) });
/** Body of `POST /api/import`. */
export const ImportBodySchema = z.strictObject({ entries: z.array(z.unknown()).min(1).max(MAX_IMPORT_ENTRIES), dry_run: z.boolean().default(false) });
/** Body of `POST /api/import/parse`. */
export const ImportParseBodySchema = z.strictObject({
  format: z.enum(IMPORT_FORMATS),
  data: z.string().max(IMPORT_BODY_LIMIT_BYTES).regex(/^[A-Za-z0-9+/]*={0,2}$/, 'base64 of the file'),
  map: z.record(z.string().min(1).max(256), z.string().min(1).max(256)).optional(),
  passphrase: z.string().min(1).max(1024).optional(),
});

/** Registers `POST /api/import` and `POST /api/import/parse`. */
export async function importRoutes(app: FastifyInstance, s: AppServices): Promise<void> {
  app.post('/api/import', { bodyLimit: IMPORT_BODY_LIMIT_BYTES }, async function post_import(req, reply) {
    const p = principalOf(req, s.vaults);
    const body = parseInput(ImportBodySchema, req.body);
    // Each entry is checked alone, so a refusal names its index (and never echoes a value).
    const entries = body.entries.map((raw, i) => {
      if (Buffer.byteLength(JSON.stringify(raw)) > IMPORT_ENTRY_LIMIT_BYTES) {
        throw cvError('IMPORT_ENTRY_TOO_LARGE', `entries.${i}: larger than ${IMPORT_ENTRY_LIMIT_BYTES} bytes as JSON (what POST /api/entries accepts); nothing was imported`, { index: i });
      }
      const r = ImportEntrySchema.safeParse(raw);
      if (!r.success) {
        const issue = r.error.issues[0];
        throw cvError('IMPORT_ENTRY_INVALID', `entries.${i}${issue && issue.path.length > 0 ? `.${issue.path.join('.')}` : ''}: ${issue?.message ?? 'invalid'}; nothing was imported`, { index: i });
      }
      const { ref, parent_ref: parentRef, ...entry } = r.data;
      return { ...entry, ref, parentRef };
    });
    const done = await s.entries.importAll(p, entries, req.ip, body.dry_run);
    if (body.dry_run) return reply.send({ dry_run: true, would_create: done.length });
    await s.afterWrite(req, reply);
    return reply.code(201).send({ created: done });
  });

  app.post('/api/import/parse', { bodyLimit: IMPORT_BODY_LIMIT_BYTES }, async function post_import_parse(req, reply) {
    const p = principalOf(req, s.vaults);
    const body = parseInput(ImportParseBodySchema, req.body);
    if (body.map !== undefined && body.format !== 'csv') throw cvError('BAD_REQUEST', 'map: applies to the csv format only');
    if (body.passphrase !== undefined && body.format !== 'clavitor') throw cvError('BAD_REQUEST', 'passphrase: applies to the clavitor format only');
    const plan = await s.entries.parseImport(p, body.format, Buffer.from(body.data, 'base64'), new Map(Object.entries(body.map ?? {})), body.passphrase, req.ip);
    return reply.header('cache-control', 'no-store').send({
      format: body.format,
      entries: plan.items.map((it) => ({ ref: it.ref, parent_ref: it.parentRef, type: it.type, title: it.title, fields: it.fields, ...(it.tags ? { tags: it.tags } : {}) })),
      unmapped: plan.unmapped,
    });
  });
}
