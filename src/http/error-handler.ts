/**
 * Turns every error into `{"error":{"code":"CV-NNNN","message":"…"}}` (DESIGN.md §3): registered
 * ClavitorErrors keep their code, fastify's body-parsing errors map to CV-3xxx codes, anything
 * else becomes CV-9001 with the detail only in the server log — never a stack trace, path or SQL
 * in a response.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ClavitorError, Errors, type ErrorDef } from '../lib/errors.js';

const FASTIFY_MAP: Record<string, ErrorDef> = {
  FST_ERR_CTP_INVALID_JSON_BODY: Errors.BAD_JSON,
  FST_ERR_CTP_EMPTY_JSON_BODY: Errors.BAD_JSON,
  FST_ERR_CTP_BODY_TOO_LARGE: Errors.BODY_TOO_LARGE,
  FST_ERR_CTP_INVALID_MEDIA_TYPE: Errors.UNSUPPORTED_MEDIA,
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: Errors.BAD_REQUEST,
};

/** Sends a registered error as the JSON error body. */
export function sendError(reply: FastifyReply, code: string, status: number, message: string, details?: Record<string, unknown>): FastifyReply {
  return reply.code(status).type('application/json').send({ error: { code, message, ...(details ?? {}) } });
}

/**
 * Fastify's `frameworkErrors` option (set in app.ts): errors its router raises before any hook or
 * handler runs — a URL with malformed percent-encoding, an over-long path parameter — which fastify
 * otherwise answers with its own body, echoing the URL (found by test/fuzz/api.fuzz.test.ts).
 */
export function onFrameworkError(err: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  if (err.code === 'FST_ERR_BAD_URL') return void sendError(reply, Errors.BAD_REQUEST.code, 400, 'request URL is malformed (bad percent-encoding)');
  if (err.code === 'FST_ERR_MAX_PARAM_LENGTH') return void sendError(reply, Errors.BAD_REQUEST.code, 400, 'request URL has an over-long path segment');
  req.log.error({ event: 'request.internal_error', err: { type: err.name, message: err.message } }, 'internal error');
  sendError(reply, Errors.INTERNAL.code, 500, Errors.INTERNAL.message);
}

/** Installs the error and not-found handlers on `app`. */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | ClavitorError, req: FastifyRequest, reply: FastifyReply) => {
    if (err instanceof ClavitorError) {
      if (err.status >= 500) req.log.warn({ event: 'request.error', code: err.code }, err.message);
      if (err.headers) reply.headers(err.headers);
      return sendError(reply, err.code, err.status, err.message, err.details);
    }
    const mapped = typeof err.code === 'string' ? FASTIFY_MAP[err.code] : undefined;
    if (mapped) return sendError(reply, mapped.code, mapped.status, mapped.message);
    if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
      return sendError(reply, Errors.BAD_REQUEST.code, err.statusCode, Errors.BAD_REQUEST.message);
    }
    req.log.error({ event: 'request.internal_error', err: { type: err.name, message: err.message, stack: err.stack } }, 'internal error');
    return sendError(reply, Errors.INTERNAL.code, 500, Errors.INTERNAL.message);
  });
  app.setNotFoundHandler((_req, reply) => sendError(reply, Errors.NOT_FOUND.code, 404, 'no such route'));
}
