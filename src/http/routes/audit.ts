/**
 * Audit trail (DESIGN.md §3): `GET /api/audit?after=<id>&limit=<n>` pages through the vault's
 * hash-chained audit records (owner only).
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { parseInput } from '../parse.js';
import { principalOf } from '../auth.js';
import { cvError } from '../../lib/errors.js';
import type { AppServices } from '../app.js';

const AuditQuery = z.strictObject({
  after: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

/** Registers the audit route. */
export async function auditRoutes(app: FastifyInstance, s: AppServices): Promise<void> {
  app.get('/api/audit', async function get_audit(req) {
    const p = principalOf(req, s.vaults);
    if (p.kind !== 'owner') throw cvError('FORBIDDEN');
    const q = parseInput(AuditQuery, req.query);
    const store = s.files.find(p.vaultId);
    if (!store) throw cvError('VAULT_NOT_FOUND');
    const records = store.pageAudit(q.after, q.limit).map((r) => ({
      id: r.id, at: r.at, actor: r.actor, action: r.action, entry_id: r.entryId, outcome: r.outcome, code: r.code, ip: r.ip, prev_hash: r.prevHash, hash: r.hash,
    }));
    return { records, next_after: records.length > 0 ? records[records.length - 1]!.id : null };
  });
}
