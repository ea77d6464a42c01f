/**
 * MCP server (issue 14 item 4): the Model Context Protocol over Streamable HTTP at `/mcp`, with
 * the official TypeScript SDK (`@modelcontextprotocol/sdk`), on both editions and in every role
 * (every tool only reads, so a backup serves them; `/mcp` is not under `/api/`, so the write gate
 * never applies).
 *
 * - **Stateless**: each `POST /mcp` builds a server and a transport for that one request
 *   (`sessionIdGenerator: undefined`) and answers with JSON (`enableJsonResponse`), so any POP, or
 *   any process after a restart, can answer the next request. `GET` and `DELETE /mcp` are answered
 *   by the transport (405: no standalone event stream, no session to end).
 * - **Authentication** happens before the transport runs: `Authorization: Bearer <owner or agent
 *   token>`, as for the HTTP API; a missing or bad token gets the API's `401 CV-2001/CV-2002`
 *   (counted by the auth-failure block like any 401).
 * - **Same services, not a bypass**: each tool calls the service the matching HTTP route calls
 *   (entries, refs, password generator), so the agent gate (lockdown, distinct-entry rate limit,
 *   scope) and the audit trail apply unchanged, and an audit record commits before the tool's
 *   answer leaves (`files.settled()`, as app.ts does for the routes).
 * - **Errors** are MCP tool errors (`isError: true`), the text starting with the `CV-NNNN` code,
 *   and `structuredContent.error` the API's error body (`{code, message, …details}`, e.g.
 *   `retry_after_seconds` for CV-2009). A protocol error (bad JSON-RPC) is the SDK's.
 *
 * Tools (names and inputs are part of the contract, docs/agents.md):
 * | tool | input | result |
 * | --- | --- | --- |
 * | `list_entries` | — | `{entries:[{id,type,parent,title,version,updated_at}]}`: what the token may read |
 * | `get_entry` | `entry` (id or exact title) | the entry; fields of other tiers `{redacted:true}` |
 * | `read_reference` | `ref` (`clavitor://…`) | `{vault_id,entry_id,field,kind,tier,value}` or `{…,code,seconds_left}` |
 * | `get_totp` | `entry`, optional `field` | `{code, seconds_left}` |
 * | `generate_password` | optional `length` (4..1024), `classes` | `{password}` (nothing stored) |
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { principalOf } from '../auth.js';
import { readContextOf } from './entries.js';
import { ClavitorError, Errors } from '../../lib/errors.js';
import { CLASS_NAMES, DEFAULT_LENGTH, generatePassword, MAX_LENGTH, MIN_LENGTH, type CharClass } from '../../vault/password-gen.js';
import type { Principal } from '../../vault/principal.js';
import type { AppServices } from '../services.js';

/**
 * The SDK, loaded on the first `/mcp` request: it takes longer to load than fastify itself, and a
 * server that never serves MCP should not start slower for it.
 */
let sdk: Promise<{ McpServer: typeof McpServer; Transport: typeof import('@modelcontextprotocol/sdk/server/streamableHttp.js').StreamableHTTPServerTransport }> | undefined;
const loadSdk = () => (sdk ??= Promise.all([import('@modelcontextprotocol/sdk/server/mcp.js'), import('@modelcontextprotocol/sdk/server/streamableHttp.js')])
  .then(([m, t]) => ({ McpServer: m.McpServer, Transport: t.StreamableHTTPServerTransport })));

/** Name the server announces in `initialize`. */
export const MCP_SERVER_NAME = 'clavitor';

/** The tool result of a ClavitorError (or any other error, as CV-9001 without its details). */
export function toolError(err: unknown): CallToolResult {
  const body = err instanceof ClavitorError
    ? { code: err.code, message: err.message, ...(err.details ?? {}) }
    : { code: Errors.INTERNAL.code, message: Errors.INTERNAL.message };
  return { isError: true, content: [{ type: 'text', text: `${body.code}: ${body.message}` }], structuredContent: { error: body } };
}

/** The tool result of a value: JSON text for any client, and the same object as structured content. */
function toolResult(value: object): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(value) }], structuredContent: value as Record<string, unknown> };
}

/** Builds the MCP server of one request, its tools bound to `p` and the request's context. */
function serverFor(Server: typeof McpServer, req: FastifyRequest, s: AppServices, p: Principal): McpServer {
  const server = new Server({ name: MCP_SERVER_NAME, version: '1' }, { capabilities: { tools: {} } });
  const ctx = readContextOf(req, s);
  /** Runs a tool body; waits for its audit records to commit; maps errors to tool errors. */
  const run = async (body: () => object): Promise<CallToolResult> => {
    let out: CallToolResult;
    try {
      out = toolResult(body());
    } catch (e) {
      if (!(e instanceof ClavitorError)) req.log.error({ event: 'mcp.internal_error', error: (e as Error)?.message }, 'an MCP tool failed');
      out = toolError(e);
    }
    await s.files.settled();
    return out;
  };
  const ro = { readOnlyHint: true, openWorldHint: false } as const;

  server.registerTool('list_entries', {
    title: 'List entries',
    description: 'Entries this token may read (an agent: those in its scope): id, type, parent, title, version. No field values.',
    annotations: ro,
  }, async () => run(() => ({ entries: s.refs.readable(p, ctx.ip) })));

  server.registerTool('get_entry', {
    title: 'Get an entry',
    description: 'One entry by id (e_…) or exact title. Fields outside the token\'s tiers come back as {"redacted":true} (an agent reads only agent-tier fields).',
    inputSchema: { entry: z.string().min(1).max(1024).describe('entry id (e_…) or exact title') },
    annotations: ro,
  }, async ({ entry }) => run(() => s.entries.get(p, s.refs.resolveEntry(p, entry, ctx.ip), ctx)));

  server.registerTool('read_reference', {
    title: 'Read a secret reference',
    description: 'The value of one field named by a reference clavitor://<vault>/<entry title or id>/<field label> (percent-encode / as %2F), or with ?totp the current TOTP code.',
    inputSchema: { ref: z.string().min(1).max(4096).describe('clavitor://<vault>/<entry>/<field>[?totp]') },
    annotations: ro,
  }, async ({ ref }) => run(() => s.refs.read(p, ref, ctx)));

  server.registerTool('get_totp', {
    title: 'Current TOTP code',
    description: 'The current TOTP code of an entry\'s first totp field, or of the one labelled `field`, and the seconds it stays valid.',
    inputSchema: {
      entry: z.string().min(1).max(1024).describe('entry id (e_…) or exact title'),
      field: z.string().min(1).max(256).optional().describe('label of the totp field (default: the first)'),
    },
    annotations: ro,
  }, async ({ entry, field }) => run(() => s.entries.totp(p, s.refs.resolveEntry(p, entry, ctx.ip), ctx, field)));

  server.registerTool('generate_password', {
    title: 'Generate a password',
    description: `A random password; nothing is stored. length ${MIN_LENGTH}..${MAX_LENGTH} (default ${DEFAULT_LENGTH}); classes: any of ${CLASS_NAMES.join(', ')} (default all), each used at least once.`,
    inputSchema: {
      length: z.number().int().min(MIN_LENGTH).max(MAX_LENGTH).optional(),
      classes: z.array(z.enum(CLASS_NAMES as [CharClass, ...CharClass[]])).min(1).max(4).optional(),
    },
    annotations: { ...ro, idempotentHint: false },
  }, async ({ length, classes }) => run(() => {
    const cls = [...new Set(classes ?? CLASS_NAMES)];
    const n = length ?? DEFAULT_LENGTH;
    if (n < cls.length) throw new ClavitorError(Errors.BAD_REQUEST, `length: at least ${cls.length} to fit one character of each class`);
    return { password: generatePassword(n, cls) };
  }));
  return server;
}

/** Hands the request to a fresh stateless transport once the token is verified. */
async function handle(req: FastifyRequest, reply: FastifyReply, s: AppServices): Promise<void> {
  const p = principalOf(req, s.vaults);
  const { McpServer: Server, Transport } = await loadSdk();
  const server = serverFor(Server, req, s, p);
  const transport = new Transport({ sessionIdGenerator: undefined, enableJsonResponse: true });
  reply.hijack();
  reply.raw.setHeader('cache-control', 'no-store');
  reply.raw.on('close', () => {
    void transport.close();
    void server.close();
  });
  try {
    await server.connect(transport);
    await transport.handleRequest(req.raw, reply.raw, req.body);
  } catch (e) {
    req.log.error({ event: 'mcp.internal_error', error: (e as Error)?.message }, 'the MCP transport failed');
    if (!reply.raw.headersSent) {
      reply.raw.writeHead(500, { 'content-type': 'application/json' });
      reply.raw.end(JSON.stringify({ error: { code: Errors.INTERNAL.code, message: Errors.INTERNAL.message } }));
    }
  }
}

/** Registers `POST`, `GET` and `DELETE /mcp`. */
export async function mcpRoutes(app: FastifyInstance, s: AppServices): Promise<void> {
  app.post('/mcp', async function post_mcp(req, reply) {
    await handle(req, reply, s);
  });
  app.get('/mcp', async function get_mcp(req, reply) {
    await handle(req, reply, s);
  });
  app.delete('/mcp', async function delete_mcp(req, reply) {
    await handle(req, reply, s);
  });
}
