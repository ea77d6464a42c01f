/**
 * Constant-time bearer-token check, shared by the inter-POP replication routes (DESIGN.md §4.4.12,
 * seed "Inter-POP authentication") and the reference control plane's POP tokens: the presented
 * token is compared against every accepted token (one or two, for rotation) with no early exit, so
 * timing reveals neither which token matched nor where a mismatch starts. In lib/ so that
 * controlplane/ and replication/ both import it without importing each other (issue 16 item 1).
 */
import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/**
 * True when `authorization` (an HTTP Authorization header value, or undefined) is `Bearer <t>` and
 * `t` is non-empty and equals one of `accepted`. Never throws.
 */
export function bearerTokenAccepted(authorization: string | undefined, accepted: readonly string[]): boolean {
  const presented = typeof authorization === 'string' && authorization.startsWith('Bearer ') ? authorization.slice(7).trim() : '';
  const p = digest(presented);
  let ok = false;
  for (const t of accepted) ok = timingSafeEqual(p, digest(t)) || ok;
  return ok && presented.length > 0;
}
