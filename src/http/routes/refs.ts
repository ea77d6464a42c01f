/**
 * Secret references over HTTP (issue 14 item 1): `GET /api/read?ref=<reference>` resolves
 * `clavitor://<vault>/<entry title or id>/<field label>[?totp]` for the token's principal and
 * answers the field's value (or the current TOTP code). `clavitor-cli read/run/inject` call it,
 * so an agent resolves titles within its scope without being able to list the vault.
 *
 * The read passes the same agent gate and audit as `GET /api/entries/{id}` (vault/refs-service.ts).
 * Answers carry `Cache-Control: no-store` (app.ts, every `/api/` answer).
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { parseInput } from '../parse.js';
import { principalOf } from '../auth.js';
import { readContextOf } from './entries.js';
import { MAX_REF_LENGTH } from '../../lib/secret-ref.js';
import type { AppServices } from '../services.js';

/** Query of `GET /api/read`. */
export const ReadQuery = z.strictObject({ ref: z.string().min(1).max(MAX_REF_LENGTH) });

/** Registers `GET /api/read`. */
export async function refRoutes(app: FastifyInstance, s: AppServices): Promise<void> {
  app.get('/api/read', async function get_read(req) {
    const p = principalOf(req, s.vaults);
    const q = parseInput(ReadQuery, req.query);
    return s.refs.read(p, q.ref, readContextOf(req, s));
  });
}
