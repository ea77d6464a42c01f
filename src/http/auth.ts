/**
 * Bearer-token helpers for routes (DESIGN.md §3 "Authorization: Bearer <token>").
 */
import type { FastifyRequest } from 'fastify';
import { cvError } from '../lib/errors.js';
import type { Principal } from '../vault/principal.js';
import type { VaultService } from '../vault/vault-service.js';
import { adminTokenMatches } from './admin-token.js';

/** Extracts the bearer token or throws AUTH_MISSING (CV-2001). */
export function bearerOf(req: FastifyRequest): string {
  const h = req.headers.authorization;
  if (typeof h !== 'string' || !h.startsWith('Bearer ') || h.length <= 7) throw cvError('AUTH_MISSING');
  return h.slice(7).trim();
}

/** Verifies an owner or agent token; throws AUTH_MISSING / AUTH_INVALID. The source IP goes to the audit of a revoked agent's use. */
export function principalOf(req: FastifyRequest, vaults: VaultService): Principal {
  return vaults.authenticate(bearerOf(req), req.ip);
}

/** Requires the operator's admin token; throws AUTH_MISSING / AUTH_INVALID. */
export function requireAdmin(req: FastifyRequest, adminToken: string): void {
  if (!adminTokenMatches(bearerOf(req), adminToken)) throw cvError('AUTH_INVALID');
}
