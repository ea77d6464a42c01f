/**
 * The control plane's HTTP API (protocol.ts; issue 5 item 3):
 *
 *   POST /v1/heartbeat   bearer token  → HeartbeatResponse  (400 CV-3001 bad body, 400 CV-6101 timing rule, 503 CV-6102 store)
 *   GET  /v1/status      bearer token  → ControlStatus
 *   GET  /               the status page (holds no data; it asks for the token)
 *
 * Errors use the project's one error body (`installErrorHandling`). Authentication failures are
 * throttled per address like the POP's client API.
 */
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { cvError, Errors, isCvError } from '../../lib/errors.js';
import { installErrorHandling, sendError } from '../../http/error-handler.js';
import { parseInput } from '../../http/parse.js';
import { createAuthThrottle } from '../../http/auth-throttle.js';
import { installListenerLimits, LISTENER_DEFAULTS, listenerServerOptions } from '../../http/listener-limits.js';
import { addressMatcher } from '../../lib/cidr.js';
import { bearerTokenAccepted } from '../../lib/bearer-token.js';
import { CP_STATUS_PATH, HEARTBEAT_PATH, HeartbeatRequest } from '../protocol.js';
import { timingProblem } from './decide.js';
import type { Engine } from './engine.js';
import { STATUS_PAGE_HEADERS, STATUS_PAGE_HTML } from './status-page.js';

/** Largest request body accepted, in bytes (a heartbeat is a few hundred). */
export const CONTROL_BODY_LIMIT_BYTES = 16 * 1024;

/** What the routes need. */
export interface ControlAppDeps {
  readonly engine: Pick<Engine, 'heartbeat' | 'status'>;
  readonly logger: Logger;
  /** Accepted bearer tokens (one or two, for rotation); read on every request so SIGHUP applies. */
  tokens(): readonly string[];
  /** Lease length in milliseconds, for the timing rule. */
  readonly leaseTtlMs: number;
  /** TLS key and certificate (PEM) for HTTPS; plain HTTP when absent. */
  readonly https?: { key: Buffer; cert: Buffer };
}

/** Wraps a store failure (etcd down, SQLite error) as 503 CV-6102; registered errors pass through. */
function storeFailure(req: FastifyRequest, e: unknown): never {
  if (isCvError(e)) throw e;
  req.log.error({ event: 'control.store_error', error: (e as Error).message }, 'state store failed');
  throw cvError('CP_STORE_UNAVAILABLE');
}

/** Builds (does not start) the control plane's HTTP application. */
export async function buildControlApp(deps: ControlAppDeps): Promise<FastifyInstance> {
  // Same timeouts and connection caps as a POP's listener (issue 13 §2); no proxy is trusted.
  const noProxies = addressMatcher([]);
  const app = Fastify({
    ...listenerServerOptions(LISTENER_DEFAULTS, () => noProxies),
    loggerInstance: deps.logger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: CONTROL_BODY_LIMIT_BYTES,
    return503OnClosing: true,
    ...(deps.https ? { https: { ...deps.https, minVersion: 'TLSv1.2' as const } } : {}),
  }) as unknown as FastifyInstance;
  installErrorHandling(app);
  installListenerLimits(app, { limits: LISTENER_DEFAULTS, trusted: () => noProxies, logger: deps.logger });
  const throttle = createAuthThrottle();

  app.addHook('onRequest', async (req, reply) => {
    const wait = throttle.blockedFor(req.ip);
    if (wait !== undefined) {
      reply.header('retry-after', String(wait));
      return sendError(reply, Errors.RATE_LIMITED.code, 429, 'too many failed authentications from this address; retry later');
    }
  });
  /** Bearer check of the two API routes (the page and unknown paths need none). */
  const authenticate = async (req: FastifyRequest, reply: FastifyReply) => {
    const auth = req.headers.authorization;
    if (auth === undefined) return sendError(reply, Errors.AUTH_MISSING.code, 401, Errors.AUTH_MISSING.message);
    if (!bearerTokenAccepted(auth, deps.tokens())) return sendError(reply, Errors.AUTH_INVALID.code, 401, Errors.AUTH_INVALID.message);
  };
  app.addHook('onResponse', async (req, reply) => {
    if (reply.statusCode !== 401) return;
    const blocked = throttle.failure(req.ip);
    req.log.warn({ event: 'auth.failed', remote: req.ip, blocked }, 'control-plane authentication failed');
  });

  app.post(HEARTBEAT_PATH, { onRequest: authenticate }, async (req) => {
    const hb = parseInput(HeartbeatRequest, req.body);
    const problem = timingProblem(hb.heartbeat_interval_seconds, deps.leaseTtlMs);
    if (problem !== null) {
      req.log.warn({ event: 'control.timing_refused', pop: hb.pop_id, interval_s: hb.heartbeat_interval_seconds }, `${hb.pop_id}: ${problem}`);
      throw cvError('CP_TIMING_RULE', `${hb.pop_id}: ${problem}`);
    }
    try {
      return await deps.engine.heartbeat(hb);
    } catch (e) {
      return storeFailure(req, e);
    }
  });
  app.get(CP_STATUS_PATH, { onRequest: authenticate }, async (req, reply) => {
    reply.header('cache-control', 'no-store');
    try {
      return await deps.engine.status();
    } catch (e) {
      return storeFailure(req, e);
    }
  });
  app.get('/', async (_req, reply) => reply.headers(STATUS_PAGE_HEADERS).send(STATUS_PAGE_HTML));
  return app;
}
