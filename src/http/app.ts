/**
 * The Fastify application shared by both editions (DESIGN.md §3): error handling, the role-based
 * write gate (DESIGN.md §4.3), client routes, operator routes, and the edition's own routes.
 */
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { installErrorHandling, onFrameworkError, sendError } from './error-handler.js';
import { Errors } from '../lib/errors.js';
import { createAuthThrottle } from './auth-throttle.js';
import type { Clock } from '../lib/clock.js';
import { collectRoutes } from './openapi.js';
import { installListenerLimits, isPeerRequest, LISTENER_DEFAULTS, listenerServerOptions, type ListenerLimits } from './listener-limits.js';
import { addressMatcher, type AddressMatcher } from '../lib/cidr.js';
import { entryRoutes } from './routes/entries.js';
import { agentRoutes } from './routes/agents.js';
import { vaultRoutes } from './routes/vaults.js';
import { auditRoutes } from './routes/audit.js';
import { generateRoutes } from './routes/generate.js';
import { operatorRoutes } from './routes/operator.js';
import { quarantineRoutes } from './routes/quarantine.js';
import { refRoutes } from './routes/refs.js';
import { mcpRoutes } from './routes/mcp.js';
import { importRoutes } from './routes/import.js';
import { webRoutes } from './web.js';
import type { AppServices } from './services.js';

/** Client API body limit in bytes (8 MiB: an SSH-key entry with several MiB of notes fits; case F4). */
export const CLIENT_BODY_LIMIT_BYTES = 8 * 1024 * 1024;

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Options of `buildApp`. */
export interface AppOptions {
  readonly logger: Logger;
  readonly services: Omit<AppServices, 'afterWrite'>;
  /** TLS key and certificate (PEM) for HTTPS; plain HTTP when absent. */
  readonly https?: { key: Buffer; cert: Buffer; ca?: Buffer };
  /** Clock of the authentication throttle's windows and blocks (default: the monotonic system clock). */
  readonly clock?: Clock;
  /** Timeouts and connection caps of the listener (default `LISTENER_DEFAULTS`; docs/security.md "Connection limits"). */
  readonly limits?: ListenerLimits;
  /**
   * The current `trusted_proxies`: connections from these addresses may name the client in
   * X-Forwarded-For, which then is `req.ip` for throttling and audit. Default: none trusted.
   * Called per request, so a reload applies without a restart.
   */
  readonly trustedProxies?: () => AddressMatcher;
}

const NO_PROXIES = addressMatcher([]);

/** Builds (but does not start) the HTTP application. */
export async function buildApp(opts: AppOptions): Promise<FastifyInstance> {
  const limits = opts.limits ?? LISTENER_DEFAULTS;
  const trusted = opts.trustedProxies ?? (() => NO_PROXIES);
  const app = Fastify({
    ...listenerServerOptions(limits, trusted),
    loggerInstance: opts.logger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: CLIENT_BODY_LIMIT_BYTES,
    return503OnClosing: true,
    frameworkErrors: onFrameworkError,
    ...(opts.https ? { https: { ...opts.https, minVersion: 'TLSv1.2' as const, requestCert: true, rejectUnauthorized: false } } : {}),
  }) as unknown as FastifyInstance;
  const s: AppServices = { ...opts.services, afterWrite: (req, reply) => opts.services.edition.afterClientWrite(req, reply) };

  installErrorHandling(app);
  installListenerLimits(app, { limits, trusted, logger: opts.logger, peer: (req) => s.edition.isPeerRequest?.(req) ?? false });

  // The replication peer (a valid replication token) is never throttled for other clients'
  // failures from its address (issue 13 §2: a NAT or proxy shared with a guesser).
  const throttle = createAuthThrottle(opts.clock ? { now: opts.clock.nowMs } : {});
  app.addHook('onRequest', async (req, reply) => {
    (req as unknown as { startNs: bigint }).startNs = process.hrtime.bigint();
    const wait = req.routeOptions.url === '/healthz' || isPeerRequest(req) ? undefined : throttle.blockedFor(req.ip);
    if (wait !== undefined) {
      reply.header('retry-after', String(wait));
      return sendError(reply, Errors.RATE_LIMITED.code, 429, 'too many failed authentications from this address; retry later');
    }
    // Gate on the matched route too: `/%61pi/entries` is routed to /api/entries (case F9).
    if (!WRITE_METHODS.has(req.method) || !(req.url.startsWith('/api/') || req.routeOptions.url?.startsWith('/api/'))) return;
    const refusal = s.edition.refuseClientWrite();
    if (!refusal) return;
    const def = Errors[refusal.error];
    for (const [k, v] of Object.entries(refusal.headers)) reply.header(k, v);
    return sendError(reply, def.code, def.status, def.message);
  });

  // Responses of the client API may carry decrypted values (entries, revisions, audit, quarantine):
  // no cache may keep them (issue 11 item 9). Set on every /api/ answer, errors included.
  app.addHook('onSend', async (req, reply) => {
    if (req.url.startsWith('/api/') && !reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    // Audit records of reads and refusals join the next group commit (store/group-commit.ts): the
    // answer leaves only once they are committed, as before when each had its own transaction.
    await s.files.settled();
  });

  app.addHook('onResponse', async (req, reply) => {
    if (reply.statusCode === 401 && !isPeerRequest(req)) {
      const blocked = throttle.failure(req.ip);
      req.log.warn({ event: 'auth.failed', remote: req.ip, route: req.routeOptions.url ?? 'unmatched', blocked }, blocked ? 'authentication failures from this address exceeded the limit; blocking it' : 'authentication failed');
    }
    const start = (req as unknown as { startNs?: bigint }).startNs;
    if (start === undefined) return;
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    s.metrics.httpDuration.observe({ method: req.method, route: req.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) }, seconds);
  });

  // The web vault's static files (docs/web.md), registered before collectRoutes: not client API routes.
  await webRoutes(app);
  const openapi = collectRoutes(app);
  app.get('/api/openapi.json', async function get_openapi() {
    return openapi.document();
  });
  await operatorRoutes(app, s);
  await vaultRoutes(app, s);
  await entryRoutes(app, s);
  await importRoutes(app, s);
  await agentRoutes(app, s);
  await auditRoutes(app, s);
  await generateRoutes(app, s);
  await quarantineRoutes(app, s);
  await refRoutes(app, s);
  await mcpRoutes(app, s);
  await s.edition.registerRoutes(app);
  return app;
}
