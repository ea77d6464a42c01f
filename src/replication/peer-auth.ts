/**
 * Inter-POP bearer authentication (DESIGN.md §4.4.12, seed "Inter-POP authentication"): the
 * presented token is compared in constant time against every accepted token (one or two, for
 * rotation), with no early exit, so timing reveals neither which token matched nor where a
 * mismatch starts.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** True when `authorization` is `Bearer <t>` and `t` equals one of `accepted`. */
export function peerTokenAccepted(authorization: string | undefined, accepted: readonly string[]): boolean {
  const presented = typeof authorization === 'string' && authorization.startsWith('Bearer ') ? authorization.slice(7).trim() : '';
  const p = digest(presented);
  let ok = false;
  for (const t of accepted) ok = timingSafeEqual(p, digest(t)) || ok;
  return ok && presented.length > 0;
}

/**
 * True when a request to a replication route (`/replication/…`) presents an accepted replication
 * token: the replication peer. Such a request is never throttled for other clients' failures and
 * its connection is never shed by the connection caps (issue 13 §2; docs/security.md "Connection
 * limits"). Its own checks (certificate, push MAC, epochs) still apply on the route.
 */
export function presentsPeerToken(url: string, authorization: string | undefined, accepted: readonly string[]): boolean {
  return url.startsWith('/replication/') && peerTokenAccepted(authorization, accepted);
}
