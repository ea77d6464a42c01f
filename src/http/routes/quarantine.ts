/**
 * Quarantine routes for the vault owner (DESIGN.md §4.4.7, issue 11 item 8):
 * `GET /api/quarantine` lists this vault's quarantined revisions that the successor does not hold,
 * decrypted; `GET /api/quarantine/{id}` reads one. Both answer
 * `{ …, "primary_location": URL | null }`: where writes go when this POP refuses them (a demoted
 * POP is a backup), so `clavitor-cli quarantine restore` knows where to write. Read-only: a
 * restore is an ordinary entry write on the primary. Every answer is `Cache-Control: no-store`.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { parseInput } from '../parse.js';
import { principalOf } from '../auth.js';
import type { AppServices } from '../services.js';

/** Path parameters of `GET /api/quarantine/{id}`: the quarantine id, a positive integer. */
export const QuarantineIdParams = z.strictObject({ id: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER) });

/** Registers the quarantine routes. */
export async function quarantineRoutes(app: FastifyInstance, s: AppServices): Promise<void> {
  const primaryLocation = (): string | null => s.edition.refuseClientWrite()?.headers['x-primary-location'] ?? null;

  app.get('/api/quarantine', async function get_quarantine(req) {
    const p = principalOf(req, s.vaults);
    return { quarantine: s.quarantine.list(p, req.ip), primary_location: primaryLocation() };
  });

  app.get('/api/quarantine/:id', async function get_quarantine_item(req) {
    const p = principalOf(req, s.vaults);
    const { id } = parseInput(QuarantineIdParams, req.params);
    return { ...s.quarantine.get(p, id, req.ip), primary_location: primaryLocation() };
  });
}
