/**
 * Operator routes (DESIGN.md §3): `GET /healthz` (anyone), `GET /api/status` and `GET /metrics`
 * (admin token).
 */
import type { FastifyInstance } from 'fastify';
import { requireAdmin } from '../auth.js';
import type { AppServices } from '../services.js';
import { STATUS_RESPONSE } from '../response-schemas.js';

/** Registers health, status and metrics. */
export async function operatorRoutes(app: FastifyInstance, s: AppServices): Promise<void> {
  app.get('/healthz', async function get_healthz() {
    return { ok: true };
  });

  app.get('/api/status', { schema: STATUS_RESPONSE }, async function get_status(req) {
    requireAdmin(req, s.adminToken);
    return s.edition.status();
  });

  app.get('/metrics', async function get_metrics(req, reply) {
    requireAdmin(req, s.adminToken);
    s.metrics.refresh();
    return reply.type(s.metrics.registry.contentType).send(await s.metrics.registry.metrics());
  });
}
