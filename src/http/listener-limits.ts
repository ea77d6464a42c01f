/**
 * Limits of every HTTP listener (issue 13 §2 "Resource exhaustion"; docs/security.md "Connection
 * limits"): how long a connection may take to send its headers and its body, how long an idle
 * keep-alive connection stays open, and how many connections may be open (connection-guard.ts).
 * Used by the client/replication listener of both editions and by the control plane.
 *
 * Timeline of one connection (all in milliseconds, defaults in `LISTENER_DEFAULTS`):
 *   accepted ──(silent or slow TLS handshake: idle > headersTimeoutMs → closed)──▶ headers
 *   headers complete within headersTimeoutMs (Node's headersTimeout, else 408)
 *   body complete within bodyTimeoutMs (else 408 CV-2011 and closed) — not for the replication
 *     peer, whose large pushes on slow links (case F14) are bounded by lack of progress on the
 *     sender's side and by requestTimeoutMs here
 *   whole request within requestTimeoutMs (Node's requestTimeout, every caller, else 408)
 *   idle between keep-alive requests: keepAliveTimeoutMs, then closed.
 * Node checks headersTimeout and requestTimeout every 30 s, so they fire up to 30 s late.
 */
import type { Socket } from 'node:net';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { Errors } from '../lib/errors.js';
import { monotonicMs } from '../lib/clock.js';
import type { AddressMatcher } from '../lib/cidr.js';
import { createConnectionGuard, type ConnectionLimits, type ShedReason } from './connection-guard.js';

/** Timeouts (milliseconds) and connection caps (counts) of a listener. */
export interface ListenerLimits extends ConnectionLimits {
  /** From accept to complete request headers; also the inactivity limit before the first request (TLS handshake included). */
  readonly headersTimeoutMs: number;
  /** From complete headers to complete body, for every caller but the replication peer. */
  readonly bodyTimeoutMs: number;
  /** Whole request, every caller (Node's `requestTimeout`): the backstop for the peer's pushes. */
  readonly requestTimeoutMs: number;
  /** Idle time allowed between two requests on a keep-alive connection. */
  readonly keepAliveTimeoutMs: number;
}

/** Defaults (docs/security.md): 15 s headers, 60 s body, 300 s whole request, 10 s keep-alive idle, 4,096 connections, 256 per source. */
export const LISTENER_DEFAULTS: ListenerLimits = Object.freeze({
  headersTimeoutMs: 15_000,
  bodyTimeoutMs: 60_000,
  requestTimeoutMs: 300_000,
  keepAliveTimeoutMs: 10_000,
  maxConnections: 4096,
  maxConnectionsPerSource: 256,
});

/**
 * Fastify constructor options for these limits. `trusted()` is the current `trusted_proxies`
 * matcher: only a connection from one of those addresses may name the client in X-Forwarded-For
 * (`req.ip`, used by throttling and audit alike); none by default.
 */
export function listenerServerOptions(limits: ListenerLimits, trusted: () => AddressMatcher) {
  return {
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    trustProxy: (address: string) => trusted().matches(address),
    clientErrorHandler: answerClientError,
  };
}

/**
 * Fastify's `clientErrorHandler`: what Node's HTTP parser rejects before any request exists — a
 * request whose headers (or whole request) did not arrive within the limits, headers too large,
 * bytes that are not HTTP. Answered in the registry's shape, as every other error (fastify's own
 * handler sends `{"error":"Request Timeout",…}` without a CV code; found by a newcomer's try-out),
 * then the connection is closed. Nothing of the request is echoed.
 */
export function answerClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, reason, code, message] =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? [408, 'Request Timeout', Errors.REQUEST_TIMEOUT.code, Errors.REQUEST_TIMEOUT.message]
      : err.code === 'HPE_HEADER_OVERFLOW' ? [431, 'Request Header Fields Too Large', Errors.BAD_REQUEST.code, 'request headers are too large']
        : [400, 'Bad Request', Errors.BAD_REQUEST.code, 'malformed HTTP request'];
  const body = JSON.stringify({ error: { code, message } });
  if (socket.writable) socket.write(`HTTP/1.1 ${status} ${reason}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${body}`);
  socket.destroy();
}

const PEER = Symbol('clavitor.peer');

/** True when `installListenerLimits` recognised `req` as the replication peer's (a valid replication token). */
export function isPeerRequest(req: FastifyRequest): boolean {
  return (req as unknown as { [PEER]?: boolean })[PEER] === true;
}

/**
 * Installs the limits on `app` (built with `listenerServerOptions`): Node's headersTimeout, the
 * connection guard, the pre-request inactivity limit and the body deadline. `peer(req)` says
 * whether a request presents a valid replication token (commercial edition; absent elsewhere).
 * Closed connections are logged at most once per 10 s (warn `http.connections_shed`, CV-2012).
 */
export function installListenerLimits(app: FastifyInstance, o: { limits: ListenerLimits; trusted: () => AddressMatcher; logger: Logger; peer?: (req: FastifyRequest) => boolean }): void {
  const { limits } = o;
  app.server.headersTimeout = Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs);
  let shed = { per_source: 0, total: 0, refused: 0 } as Record<ShedReason, number>;
  let lastLogMs = -Infinity;
  const guard = createConnectionGuard({
    limits,
    exempt: o.trusted,
    onShed(reason, source) {
      shed[reason]++;
      const t = monotonicMs();
      if (t - lastLogMs < 10_000) return;
      lastLogMs = t;
      o.logger.warn({ event: 'http.connections_shed', code: Errors.CONNECTION_LIMIT.code, ...shed, last_source: source, open: guard.stats().total, max_connections: limits.maxConnections, max_connections_per_source: limits.maxConnectionsPerSource },
        `${Errors.CONNECTION_LIMIT.message} (closed since the last report: ${shed.per_source} over the per-source cap, ${shed.total} over the total cap, ${shed.refused} refused)`);
      shed = { per_source: 0, total: 0, refused: 0 };
    },
  });
  app.server.on('connection', (socket: Socket) => {
    guard.admit(socket);
    // Until its first request arrives, a silent connection (or a stalled TLS handshake) is closed.
    socket.setTimeout(limits.headersTimeoutMs, () => socket.destroy());
  });

  const deadlines = new WeakMap<FastifyRequest, NodeJS.Timeout>();
  const clear = async (req: FastifyRequest) => {
    const t = deadlines.get(req);
    if (t) clearTimeout(t);
    deadlines.delete(req);
  };
  app.addHook('onRequest', async (req) => {
    const socket = req.raw.socket;
    guard.rawSocketOf(socket)?.setTimeout(0);
    if (o.peer?.(req)) {
      (req as unknown as { [PEER]?: boolean })[PEER] = true;
      guard.markPeer(socket);
      return;
    }
    const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
    if (!hasBody || req.raw.complete) return;
    deadlines.set(req, setTimeout(() => {
      const body = JSON.stringify({ error: { code: Errors.REQUEST_TOO_SLOW.code, message: Errors.REQUEST_TOO_SLOW.message } });
      socket.end(`HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
      socket.destroySoon();
    }, limits.bodyTimeoutMs));
  });
  app.addHook('preValidation', clear);
  app.addHook('onResponse', clear);
  app.addHook('onRequestAbort', clear);
}
