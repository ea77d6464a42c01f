/**
 * Audit trail (DESIGN.md §3, issue 6 item 4): `GET /api/audit?after=<id>&limit=<n>` pages through
 * the vault's hash-chained audit records (owner only; `clavitor-cli audit verify` recomputes the
 * chain from these pages).
 *
 * `GET /api/audit/anchors` (issue 13 §3, owner only): the audit anchors this POP keeps for the
 * vault from its replication peer, plus this POP's id and where its own anchors are kept:
 * `{"pop_id", "peer": {"pop_id","url"} | null, "anchors": [{"pop_id","seq","hash","received_at"}]}`.
 * `clavitor-cli audit verify` checks a POP's trail against the anchors its peer serves here.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { parseInput } from '../parse.js';
import { principalOf } from '../auth.js';
import { createAuditService } from '../../vault/audit-service.js';
import type { AppServices } from '../services.js';

const AuditQuery = z.strictObject({
  after: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

/** Registers the audit route. */
export async function auditRoutes(app: FastifyInstance, s: AppServices): Promise<void> {
  const audit = createAuditService({ files: s.files });
  app.get('/api/audit', async function get_audit(req) {
    const p = principalOf(req, s.vaults);
    const q = parseInput(AuditQuery, req.query);
    return audit.page(p, q.after, q.limit, req.ip);
  });
  app.get('/api/audit/anchors', async function get_audit_anchors(req) {
    const p = principalOf(req, s.vaults);
    const anchors = audit.anchors(p, req.ip);
    const popId = s.edition.name === 'commercial' ? s.edition.identity().popId : null;
    return { pop_id: popId, peer: s.edition.auditPeer?.() ?? null, anchors };
  });
}
