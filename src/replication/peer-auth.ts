/**
 * Inter-POP bearer authentication (DESIGN.md §4.4.12, seed "Inter-POP authentication"): the
 * presented token is compared in constant time against every accepted token (lib/bearer-token.ts).
 */
import { bearerTokenAccepted } from '../lib/bearer-token.js';

/**
 * True when a request to a replication route (`/replication/…`) presents an accepted replication
 * token: the replication peer. Such a request is never throttled for other clients' failures and
 * its connection is never shed by the connection caps (issue 13 §2; docs/security.md "Connection
 * limits"). Its own checks (certificate, push MAC, epochs) still apply on the route.
 */
export function presentsPeerToken(url: string, authorization: string | undefined, accepted: readonly string[]): boolean {
  return url.startsWith('/replication/') && bearerTokenAccepted(authorization, accepted);
}
