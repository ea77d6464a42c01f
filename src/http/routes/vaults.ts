/**
 * Vault creation (DESIGN.md §3): `POST /api/vaults` with the operator's admin token →
 * 201 `{"vault_id","owner_token"}`. The owner token is shown once and never stored. With body
 * `{"recovery_code":true}` the answer also holds a recovery code, shown once (issue 15 item 5).
 *
 * Owner token lifecycle (issue 15 item 5): `POST /api/owner/rotate` (owner token) and
 * `POST /api/owner/recover` (the recovery code as bearer) each write one `owner.rotate` revision
 * that revokes the old owner token(s) and replicates like every write.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { bearerOf, principalOf, requireAdmin } from '../auth.js';
import { parseInput } from '../parse.js';
import type { AppServices } from '../services.js';

/** Body of `POST /api/vaults` and `POST /api/owner/rotate`: whether to issue a (new) recovery code. */
const RecoveryOption = z.strictObject({ recovery_code: z.boolean().default(false) });

/** Registers the vault and owner-token routes. */
export async function vaultRoutes(app: FastifyInstance, s: AppServices): Promise<void> {
  app.post('/api/vaults', async function post_vault(req, reply) {
    requireAdmin(req, s.adminToken);
    const o = parseInput(RecoveryOption, req.body ?? {});
    const out = await s.vaults.createVault({ recoveryCode: o.recovery_code });
    await s.afterWrite(req, reply);
    return reply.code(201).send({ vault_id: out.vaultId, owner_token: out.ownerToken, ...(out.recoveryCode ? { recovery_code: out.recoveryCode } : {}) });
  });

  app.post('/api/owner/rotate', async function post_owner_rotate(req, reply) {
    const p = principalOf(req, s.vaults);
    const o = parseInput(RecoveryOption, req.body ?? {});
    const out = await s.vaults.rotateOwner(p, { recoveryCode: o.recovery_code }, req.ip);
    await s.afterWrite(req, reply);
    return reply.send({ owner_token: out.ownerToken, ...(out.recoveryCode ? { recovery_code: out.recoveryCode } : {}) });
  });

  app.post('/api/owner/recover', async function post_owner_recover(req, reply) {
    const out = await s.vaults.recoverOwner(bearerOf(req), req.ip);
    await s.afterWrite(req, reply);
    return reply.send({ owner_token: out.ownerToken, recovery_code: out.recoveryCode });
  });
}
