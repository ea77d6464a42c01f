/**
 * Operator actions on a POP (admin token; not under /api/, so the client write gate does not
 * apply): `POST /admin/v1/drain?timeout_seconds=N` stops client writes and waits until the backlog
 * is empty — the first step of a planned switchover (DESIGN.md §4.5) — and `POST /admin/v1/resume`
 * ends a drain and wakes a degraded sender (DESIGN.md §4.4.3 "operator resume") and re-checks a
 * held POP; `POST /admin/v1/promote` `{"force":true}` is the explicit, logged override of DESIGN.md
 * §4.5 for a POP held back because its peer answers as a live primary (409 CV-5021 otherwise).
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { requireAdmin } from '../http/auth.js';
import { parseInput } from '../http/parse.js';

/** What the operator routes call. */
export interface OperatorPopDeps {
  readonly adminToken: string;
  /** Starts a drain and waits up to `timeoutMs` milliseconds for an empty backlog. */
  drain(timeoutMs: number): Promise<{ drained: boolean; backlog: number; role: string }>;
  /** Ends a drain; wakes the sender. */
  resume(): { state: string; draining: boolean };
  /** Logged override of a promotion held back by a live primary peer (issue 11 item 2); throws NOTHING_TO_FORCE. */
  forcePromote(): { role: string; epoch: number };
}

const DrainQuery = z.strictObject({ timeout_seconds: z.coerce.number().int().min(1).max(600).default(30) });

const ForceBody = z.strictObject({ force: z.literal(true) });

/** Registers drain, resume and promote (`POST /admin/v1/promote` with body `{"force":true}`). */
export async function operatorPopRoutes(app: FastifyInstance, deps: OperatorPopDeps): Promise<void> {
  app.post('/admin/v1/drain', async function post_drain(req) {
    requireAdmin(req, deps.adminToken);
    const q = parseInput(DrainQuery, req.query);
    return deps.drain(q.timeout_seconds * 1000);
  });
  app.post('/admin/v1/resume', async function post_resume(req) {
    requireAdmin(req, deps.adminToken);
    return deps.resume();
  });
  app.post('/admin/v1/promote', async function post_promote(req) {
    requireAdmin(req, deps.adminToken);
    parseInput(ForceBody, req.body ?? {});
    return deps.forcePromote();
  });
}
