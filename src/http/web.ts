/**
 * The web vault's static files (issue 15 item 1; docs/web.md), served by every POP at `/`.
 *
 * Exactly three files, from a fixed table — no directory is ever read from a request path, so there
 * is no listing and no path traversal: `GET /` (web/index.html), `GET /app.css` (web/app.css) and
 * `GET /app.js` (dist/web/app.js, compiled from web/app.ts by `npm run build`). Fastify adds HEAD;
 * any other method or path is the usual `404 CV-3004`. A missing file (an incomplete build) is
 * `404 CV-3040`.
 *
 * Every answer carries a strict Content-Security-Policy (only this origin's script, style and
 * requests; no inline code; no framing), `X-Frame-Options: DENY`, `X-Content-Type-Options: nosniff`,
 * `Referrer-Policy: no-referrer` and `Cache-Control: no-store`. The files hold no data: the page
 * asks for the owner token and calls the client API (docs/api.md), whose answers are `no-store` too.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { Errors } from '../lib/errors.js';
import { sendError } from './error-handler.js';

/** The Content-Security-Policy of the web vault (docs/web.md "Security properties"). */
export const WEB_CSP = [
  "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self'", "connect-src 'self'",
  "font-src 'none'", "object-src 'none'", "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'",
].join('; ');

/** Headers of every web vault file. */
export const WEB_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-security-policy': WEB_CSP,
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cache-control': 'no-store',
});

/** The repository (or installation) root: the nearest ancestor of this module holding package.json. */
function installRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    dir = dirname(dir);
  }
  return dirname(fileURLToPath(import.meta.url));
}

/** URL path → file (relative to the installation root) and content type. */
const FILES: Readonly<Record<string, { file: string; type: string }>> = {
  '/': { file: 'web/index.html', type: 'text/html; charset=utf-8' },
  '/app.css': { file: 'web/app.css', type: 'text/css; charset=utf-8' },
  '/app.js': { file: 'dist/web/app.js', type: 'text/javascript; charset=utf-8' },
};

/**
 * Registers `GET /`, `/app.css` and `/app.js` (and their HEAD). Register them before
 * `collectRoutes` so the OpenAPI document of the client API does not list them. Files are read once,
 * on first request; a missing one answers `404 CV-3040` (and is looked for again next time).
 */
export async function webRoutes(app: FastifyInstance): Promise<void> {
  const root = installRoot();
  const cache = new Map<string, Buffer>();
  for (const [path, { file, type }] of Object.entries(FILES)) {
    app.get(path, async function get_web_file(_req, reply) {
      let body = cache.get(path);
      if (!body) {
        try {
          body = readFileSync(join(root, file));
        } catch {
          return sendError(reply, Errors.WEB_NOT_BUILT.code, Errors.WEB_NOT_BUILT.status, Errors.WEB_NOT_BUILT.message);
        }
        cache.set(path, body);
      }
      return reply.headers(WEB_HEADERS).type(type).send(body);
    });
  }
}
