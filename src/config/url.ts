/**
 * Peer URL rule for `backup_pop.url`, `primary_pop.url` and `control_plane.url`
 * (DESIGN.md §4.2 "https unless the host is loopback" and §4.4 item 12 "plain HTTP only on
 * loopback").
 *
 * A peer URL is a base URL: scheme, host and optional port. No credentials, no path other than
 * `/`, no query, no fragment. The normalised form is the URL's origin (lower-case scheme and
 * host, default port dropped, no trailing slash), e.g. `https://zurich-01.clavitor.ai`.
 */

/** Result of {@link normalizePeerUrl}: the normalised URL, or why the input is refused. */
export type PeerUrlResult = { readonly ok: true; readonly url: string } | { readonly ok: false; readonly reason: string };

/**
 * True when `hostname` (as produced by WHATWG `URL#hostname`, so IPv6 in brackets) is a
 * loopback host: `localhost`, any address in 127.0.0.0/8, or `[::1]`.
 */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.toLowerCase();
  return h === 'localhost' || h === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/**
 * Check and normalise one peer URL. Never throws; a refused URL yields a reason written for an
 * operator (the caller prefixes file, line, column and key).
 */
export function normalizePeerUrl(raw: string): PeerUrlResult {
  const text = raw.trim();
  if (text === '') return { ok: false, reason: 'must not be empty; expected a base URL such as https://zurich-01.clavitor.ai' };
  if (!/^https?:\/\//i.test(text)) {
    return { ok: false, reason: 'must start with https:// (or http:// for a loopback host), e.g. https://zurich-01.clavitor.ai' };
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { ok: false, reason: 'is not a valid URL; expected a base URL such as https://zurich-01.clavitor.ai' };
  }
  if (url.hostname === '') return { ok: false, reason: 'has no host name' };
  if (url.port === '0') return { ok: false, reason: 'has port 0, which no server listens on; give the peer\'s port (e.g. :8443) or none for 443' };
  if (url.username !== '' || url.password !== '') {
    return { ok: false, reason: 'must not contain a user name or password; peer credentials come from token files' };
  }
  if (url.pathname !== '/' || text.includes('?') || text.includes('#')) {
    return { ok: false, reason: 'must be a base URL with no path, query or fragment (only a trailing "/" is allowed)' };
  }
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    return {
      ok: false,
      reason: `must use https:// for a non-loopback host (${url.hostname}); plain http:// is allowed only for localhost, 127.0.0.0/8 and [::1]`,
    };
  }
  return { ok: true, url: url.origin };
}
