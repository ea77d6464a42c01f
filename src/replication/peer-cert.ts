/**
 * Mutual-TLS check of the peer POP (DESIGN.md §4.2 `auth.mtls_ca`, §4.4.12; issue 4): when this
 * POP has an `mtls_ca`, a replication request must arrive over TLS with a client certificate that
 * chains to that CA, is within its validity period, and whose subjectAltName names the configured
 * peer POP id (`DNS:<pop_id>`) and not this POP's own id (issue 13 §1). Without `mtls_ca` the
 * bearer token authenticates the transport; hello and pushes are signed either way (signature.ts).
 */
import type { TLSSocket } from 'node:tls';
import type { FastifyRequest } from 'fastify';
import type { ReplicationConfig } from '../config/types.js';

/** The POP id this POP expects its peer's certificate to name, if configured. */
export function expectedPeerId(cfg: ReplicationConfig): string | undefined {
  return cfg.role === 'primary' ? cfg.backupPop?.id : cfg.primaryPop?.id;
}

/**
 * Returns why the request's client certificate is not acceptable, or undefined when it is (or mTLS
 * is off). `allowSelf`: also accept a certificate naming this POP itself (`DNS:<pop_id>`) — only for
 * the read-only digests route, so that `clavitor-commercial verify` run on either POP's host with
 * that POP's own certificate can query both (issue 11 item 4); pushes, hello, epoch and positions
 * still require the configured peer.
 */
export function peerCertificateProblem(req: FastifyRequest, cfg: ReplicationConfig, allowSelf = false): string | undefined {
  if (!cfg.auth.mtlsCa) return undefined;
  const socket = req.raw.socket as TLSSocket;
  if (!socket.encrypted) return 'mutual TLS required: the request did not use TLS';
  const cert = socket.getPeerCertificate();
  if (!cert || Object.keys(cert).length === 0) return 'mutual TLS required: no client certificate presented';
  if (!socket.authorized) return `client certificate refused: ${String(socket.authorizationError ?? 'not trusted')}`;
  // Issue 13 §1: the identity is always checked. A backup with mtls_ca names its primary (the
  // loader refuses the file otherwise); a certificate naming this POP itself is never the peer.
  const want = expectedPeerId(cfg);
  const names = (cert.subjectaltname ?? '').split(',').map((n) => n.trim());
  const namesSelf = names.includes(`DNS:${cfg.popId}`);
  if (allowSelf && namesSelf) return undefined;
  if (!want) return 'client certificate refused: replication.yaml names no peer to check it against (set primary_pop)';
  if (namesSelf) return `client certificate names this POP itself (${cfg.popId}), not the peer ${want}`;
  if (!names.includes(`DNS:${want}`)) return `client certificate does not name the configured peer ${want}`;
  return undefined;
}
