/**
 * The OpenAPI 3.1 document of the client API (issue 7 item 4), served at `GET /api/openapi.json`.
 * Paths come from the routes actually registered (fastify's onRoute hook), so the document cannot
 * list a route the server does not have; request bodies come from the same zod schemas the
 * handlers validate with (`z.toJSONSchema`). Inter-POP routes (`/replication/…`) are left out.
 */
import type { FastifyInstance, RouteOptions } from 'fastify';
import { z } from 'zod';
import { EntryBodySchema } from './routes/entries.js';
import { AgentBody, AgentPatchBody } from './routes/agents.js';
import { ImportEntrySchema, ImportParseBodySchema } from './routes/import.js';

/** `POST /api/import` as documented: the entries' own schema inside (the route checks each entry alone, to name its index). */
const ImportBodyDoc = z.strictObject({ entries: z.array(ImportEntrySchema).min(1), dry_run: z.boolean().default(false) });

/** Request bodies by `METHOD path`. */
const BODIES: Record<string, z.ZodType> = {
  'POST /api/entries': EntryBodySchema,
  'PUT /api/entries/{id}': EntryBodySchema,
  'POST /api/agents': AgentBody,
  'PATCH /api/agents/{id}': AgentPatchBody,
  'POST /api/import': ImportBodyDoc,
  'POST /api/import/parse': ImportParseBodySchema,
};

/** Who may call a route, by path prefix (DESIGN.md §3). */
function whoMay(method: string, path: string): string {
  if (path === '/healthz' || path === '/api/openapi.json') return 'anyone';
  if (path === '/api/vaults' || path === '/api/status' || path === '/metrics' || path.startsWith('/admin/')) return 'operator (admin token)';
  if (method === 'GET' && path === '/api/entries') return 'owner (every entry), or agent (the entries in its scope)';
  if (method === 'GET' && (path === '/api/entries/{id}' || path === '/api/entries/{id}/totp' || path === '/api/generate' || path === '/api/read')) return 'owner, or agent in scope';
  if (path === '/mcp') return 'owner or agent (MCP, Streamable HTTP)';
  return 'owner';
}

/** Collects registered routes; call before any route is registered, then `document()`. */
export function collectRoutes(app: FastifyInstance): { document(): Record<string, unknown> } {
  const routes: { method: string; path: string }[] = [];
  app.addHook('onRoute', (r: RouteOptions) => {
    const methods = Array.isArray(r.method) ? r.method : [r.method];
    for (const m of methods) {
      if (m === 'HEAD' || r.url.startsWith('/replication/')) continue;
      routes.push({ method: m, path: r.url.replace(/:([A-Za-z_]+)/g, '{$1}') });
    }
  });
  return {
    document() {
      const paths: Record<string, Record<string, unknown>> = {};
      const errorRef = { $ref: '#/components/schemas/Error' };
      for (const { method, path } of routes) {
        const body = BODIES[`${method} ${path}`];
        const params = [...path.matchAll(/\{([A-Za-z_]+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
        (paths[path] ??= {})[method.toLowerCase()] = {
          summary: `${method} ${path}`,
          description: `Who: ${whoMay(method, path)}.`,
          ...(params.length ? { parameters: params } : {}),
          ...(whoMay(method, path) === 'anyone' ? { security: [] } : {}),
          ...(body ? { requestBody: { required: true, content: { 'application/json': { schema: z.toJSONSchema(body, { io: 'input' }) } } } } : {}),
          responses: {
            '2XX': { description: 'success' },
            '4XX': { description: 'client error (`docs/errors.md`)', content: { 'application/json': { schema: errorRef } } },
            '503': { description: 'this POP accepts no client writes now (backup, fenced, draining, starting, no lease): see Retry-After and X-Primary-Location', content: { 'application/json': { schema: errorRef } } },
          },
        };
      }
      return {
        openapi: '3.1.0',
        info: { title: 'Clavitor client API', version: '1', description: 'See docs/api.md. Errors are {"error":{"code":"CV-NNNN","message":"…"}} with codes from docs/errors.md.' },
        security: [{ bearer: [] }],
        components: {
          securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'owner or agent token (cvt1.…), or the admin token from <data>/admin.token' } },
          schemas: { Error: { type: 'object', required: ['error'], properties: { error: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string', pattern: '^CV-\\d{4}$' }, message: { type: 'string' } } } } } },
        },
        paths,
      };
    },
  };
}
