/**
 * `clavitor-cli mcp` (issue 14 item 4): an MCP server on stdio for desktop agents that start their
 * tools as child processes. It holds no tools of its own: every `tools/list` and `tools/call` is
 * sent to the POP's Streamable HTTP endpoint `/mcp` with the configured token (an agent token),
 * the configured server and CA bundle, so the tools, the agent gate, the rate limits and the audit
 * are those of the POP (src/http/routes/mcp.ts), and both POPs of a pair work (reads only).
 *
 * Nothing is written to stdout but MCP messages; messages for a person go to stderr. A POP that
 * cannot be reached answers the call with a tool error carrying CV-6005.
 */
import type { Command } from 'commander';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { fetch as undiciFetch } from 'undici';
import { clientAgent, loadClientTls } from '../../lib/client-tls.js';
import { Errors } from '../../lib/errors.js';
import { resolveConnection } from './config.js';
import { contextOf } from './context.js';
import { versionLine } from '../version.js';

/** A tool error for a failure to reach the POP (CV-6005). */
function unreachable(server: string, e: unknown): CallToolResult {
  const message = `${server}: ${(e as Error)?.message ?? 'request failed'}`;
  return { isError: true, content: [{ type: 'text', text: `${Errors.CLI_UNREACHABLE.code}: ${message}` }], structuredContent: { error: { code: Errors.CLI_UNREACHABLE.code, message } } };
}

async function mcpCmd(_o: unknown, cmd: Command): Promise<void> {
  // The SDK is loaded here, not at the top: every other command would otherwise pay for loading it.
  const [{ Client }, { StreamableHTTPClientTransport }, { Server }, { StdioServerTransport }, { CallToolRequestSchema, ListToolsRequestSchema }] = await Promise.all([
    import('@modelcontextprotocol/sdk/client/index.js'), import('@modelcontextprotocol/sdk/client/streamableHttp.js'),
    import('@modelcontextprotocol/sdk/server/index.js'), import('@modelcontextprotocol/sdk/server/stdio.js'), import('@modelcontextprotocol/sdk/types.js')]);
  const ctx = contextOf(cmd);
  const conn = resolveConnection(ctx.opts);
  const dispatcher = clientAgent(loadClientTls({ caFile: conn.caFile }));
  const url = new URL(`${conn.server}/mcp`);
  const fetchFn = ((input: string | URL, init?: RequestInit) => undiciFetch(input as string, { ...(init as object), ...(dispatcher ? { dispatcher } : {}) })) as unknown as typeof fetch;
  let remote: Client | undefined;
  const connect = async (): Promise<Client> => {
    if (remote) return remote;
    const c = new Client({ name: 'clavitor-cli-mcp', version: '1' });
    await c.connect(new StreamableHTTPClientTransport(url, { requestInit: { headers: { authorization: `Bearer ${conn.token}` } }, fetch: fetchFn }));
    remote = c;
    return c;
  };

  // Requests still running when stdin ends: awaited before the connection to the POP is closed,
  // else a call that connects after the close would keep the process alive (a desktop host's orphan).
  const inflight = new Set<Promise<unknown>>();
  const track = <T>(p: Promise<T>): Promise<T> => {
    inflight.add(p);
    p.then(() => inflight.delete(p), () => inflight.delete(p));
    return p;
  };
  const server = new Server({ name: 'clavitor', version: versionLine('clavitor-cli') }, { capabilities: { tools: {} } });
  server.setRequestHandler(ListToolsRequestSchema, () => track((async () => (await connect()).listTools())()));
  server.setRequestHandler(CallToolRequestSchema, (req) => track((async () => {
    try {
      return (await (await connect()).callTool(req.params)) as CallToolResult;
    } catch (e) {
      remote = undefined;
      return unreachable(conn.server, e);
    }
  })()));
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolveClosed) => { transport.onclose = () => resolveClosed(); });
  await server.connect(transport);
  process.stderr.write(`clavitor-cli mcp: serving MCP on stdio for ${conn.server}/mcp\n`);
  process.stdin.once('end', () => void server.close());
  await closed;
  await Promise.allSettled([...inflight]);
  await remote?.close();
  await dispatcher?.close();
}

/** Adds `mcp` to `program`. */
export function registerMcpCommand(program: Command): void {
  program.command('mcp').description('serve MCP on stdio for a desktop agent, backed by the POP\'s /mcp with this token').action(mcpCmd);
}
