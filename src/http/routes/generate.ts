/**
 * Password generation (issue 6 item 5): `GET /api/generate?length=N&classes=lower,upper,digits,symbols`
 * → 200 `{"password"}`. Any valid vault token (owner or agent); nothing is stored or audited.
 * Defaults: 24 characters, all four classes; each requested class appears at least once.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { parseInput } from '../parse.js';
import { principalOf } from '../auth.js';
import { cvError } from '../../lib/errors.js';
import { CLASS_NAMES, DEFAULT_LENGTH, generatePassword, MAX_LENGTH, MIN_LENGTH, type CharClass } from '../../vault/password-gen.js';
import type { AppServices } from '../services.js';

const GenerateQuery = z.strictObject({
  length: z.coerce.number().int().min(MIN_LENGTH).max(MAX_LENGTH).default(DEFAULT_LENGTH),
  classes: z.string().max(64).default(CLASS_NAMES.join(',')),
});

/** Registers the generator route. */
export async function generateRoutes(app: FastifyInstance, s: AppServices): Promise<void> {
  app.get('/api/generate', async function get_generate(req, reply) {
    principalOf(req, s.vaults);
    const q = parseInput(GenerateQuery, req.query);
    const classes = q.classes.split(',').map((c) => c.trim()).filter((c) => c !== '');
    const bad = classes.find((c) => !(CLASS_NAMES as string[]).includes(c));
    if (bad !== undefined || classes.length === 0) throw cvError('BAD_REQUEST', `classes: use a comma-separated list of ${CLASS_NAMES.join(', ')}`);
    if (q.length < classes.length) throw cvError('BAD_REQUEST', `length: at least ${classes.length} to fit one character of each class`);
    return reply.header('cache-control', 'no-store').send({ password: generatePassword(q.length, classes as CharClass[]) });
  });
}
