/**
 * Integrity of a push (issue 4 item 3, "a push altered in flight is refused"): the sender sends
 * `x-clavitor-push-mac: base64url(HMAC-SHA256(K, raw body))` with K = HKDF-SHA256(token,
 * salt "clavitor/v1", info "push-mac"). The receiver recomputes it with every token it accepts
 * and compares in constant time. TLS already protects the link; the MAC also covers the body on a
 * loopback plain-HTTP link and binds the body to a token holder.
 */
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';

/** Header carrying the push MAC. */
export const PUSH_MAC_HEADER = 'x-clavitor-push-mac';

function macKey(token: string): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(token, 'utf8'), Buffer.from('clavitor/v1', 'utf8'), Buffer.from('push-mac', 'utf8'), 32));
}

/** MAC of `rawBody` under `token`, base64url. */
export function pushMac(token: string, rawBody: string): string {
  return createHmac('sha256', macKey(token)).update(rawBody, 'utf8').digest('base64url');
}

/** True when `mac` is the MAC of `rawBody` under one of `tokens` (constant-time, no early exit). */
export function pushMacValid(mac: string | undefined, rawBody: string, tokens: readonly string[]): boolean {
  const presented = Buffer.from(typeof mac === 'string' ? mac : '', 'base64url');
  let ok = false;
  for (const t of tokens) {
    const want = Buffer.from(pushMac(t, rawBody), 'base64url');
    ok = (presented.length === want.length && timingSafeEqual(presented, want)) || ok;
  }
  return ok;
}
