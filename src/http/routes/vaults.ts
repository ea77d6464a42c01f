/**
 * Vault creation (DESIGN.md §3): `POST /api/vaults` with the operator's admin token →
 * 201 `{"vault_id","owner_token"}`. The owner token is shown once and never stored.
 */
import type { FastifyInstance } from 'fastify';
import { requireAdmin } from '../auth.js';
import type { AppServices } from '../services.js';

/** Registers the vault routes. */
export async function vaultRoutes(app: FastifyInstance, s: AppServices): Promise<void> {
  app.post('/api/vaults', async function post_vault(req, reply) {
    requireAdmin(req, s.adminToken);
    const out = await s.vaults.createVault();
    await s.afterWrite(req, reply);
    return reply.code(201).send({ vault_id: out.vaultId, owner_token: out.ownerToken });
  });
}
