/**
 * Issue 14 item 4, "Done when": a real POP pair (two clavitor-commercial processes) driven by the
 * MCP SDK's own client (`@modelcontextprotocol/sdk`, Streamable HTTP at `/mcp`) as an agent:
 * list, get, totp, a reference by title, a refusal out of scope, and a 429 on the fourth distinct
 * entry (the agent rate limit of docs/api.md: 3 distinct entries a minute by default, out-of-scope
 * ids counting too) — on the primary, then the same on the backup (reads work there; each POP
 * counts its own reads). Also: no token → 401 CV-2001 before any MCP handling, and
 * `clavitor-cli mcp` bridges stdio to a POP for desktop agents.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { TOTP } from 'otpauth';
import { api, BIN, createVault, provisionPair, waitFor } from '../kit/pop.js';

const SECRET = 'JBSWY3DPEHPK3PXP';

async function agentClient(base: string, token: string): Promise<Client> {
  const c = new Client({ name: 'test-agent', version: '1' });
  await c.connect(new StreamableHTTPClientTransport(new URL(`${base}/mcp`), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  return c;
}

type Structured = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const call = async (c: Client, name: string, args: Record<string, unknown> = {}): Promise<CallToolResult & { structuredContent?: Structured }> =>
  (await c.callTool({ name, arguments: args })) as CallToolResult & { structuredContent?: Structured };
const errorCode = (r: CallToolResult & { structuredContent?: Structured }): string | undefined => (r.isError ? r.structuredContent?.error?.code : undefined);

test('an agent speaks MCP to both POPs of a pair: list, get, totp, references, scope refusal, 429 on the fourth entry', async (t) => {
  const pair = await provisionPair();
  t.after(() => pair.stop());
  await pair.backup.start();
  await pair.primary.start();
  const P = pair.primary.url;
  const B = pair.backup.url;
  const { vaultId, owner } = await createVault(P, pair.primary.adminToken());
  const put = async (body: unknown): Promise<string> => {
    const r = await api(P, 'POST', '/api/entries', { token: owner, body });
    assert.equal(r.status, 201);
    return r.json.id;
  };
  const gh = await put({ title: 'GitHub', fields: [{ label: 'user', value: 'alice', tier: 'agent' }, { label: 'password', value: 'owner-only-pw' }, { label: 'otp', value: SECRET, kind: 'totp', tier: 'agent' }] });
  const db = await put({ title: 'Prod DB', fields: [{ label: 'password', value: 'db-s3cret', tier: 'agent' }] });
  const fourth = await put({ title: 'ci/deploy key', fields: [{ label: 'token', value: 'deploy-tok', tier: 'agent' }] });
  const payroll = await put({ title: 'Payroll', fields: [{ label: 'pw', value: 'payroll-pw', tier: 'agent' }] });
  const agent = await api(P, 'POST', '/api/agents', { token: owner, body: { name: 'mcp-bot', scopes: [gh, db, fourth] } });
  assert.equal(agent.status, 201);
  const token: string = agent.json.token;

  const noToken = await api(P, 'POST', '/mcp', { body: { jsonrpc: '2.0', id: 1, method: 'tools/list' } });
  assert.deepEqual([noToken.status, noToken.json.error.code], [401, 'CV-2001']);

  await waitFor('the agent and its entries reach the backup', async () => (await api(B, 'GET', '/api/entries', { token: owner })).json?.entries?.length === 4);

  for (const [where, base] of [['primary', P], ['backup', B]] as const) {
    const c = await agentClient(base, token);
    t.after(() => c.close());
    const tools = (await c.listTools()).tools.map((x) => x.name).sort();
    assert.deepEqual(tools, ['generate_password', 'get_entry', 'get_totp', 'list_entries', 'read_reference'], where);

    const list = await call(c, 'list_entries');
    assert.equal(list.isError, undefined, where);
    const titles = (list.structuredContent!.entries as { title: string; id: string }[]).map((e) => e.title).sort();
    assert.deepEqual(titles, ['GitHub', 'Prod DB', 'ci/deploy key'], `${where}: exactly the entries in scope, never Payroll`);
    assert.ok(!JSON.stringify(list).includes('alice'), 'a listing carries no field values');

    // Distinct entry 1: GitHub (get and totp of the same entry count once).
    const e = await call(c, 'get_entry', { entry: 'GitHub' });
    assert.equal(e.structuredContent!.id, gh);
    assert.deepEqual(e.structuredContent!.fields.map((f: { label: string; value?: string; redacted?: boolean }) => [f.label, f.value ?? (f.redacted ? 'redacted' : '?')]),
      [['user', 'alice'], ['password', 'redacted'], ['otp', SECRET]], `${where}: agent-tier fields only`);
    assert.ok(!JSON.stringify(e).includes('owner-only-pw'));
    const totp = await call(c, 'get_totp', { entry: gh });
    assert.match(totp.structuredContent!.code, /^\d{6}$/);
    assert.ok(new TOTP({ secret: SECRET }).validate({ token: totp.structuredContent!.code, window: 1 }) !== null, 'the RFC 6238 code of the secret');
    const byRefTotp = await call(c, 'read_reference', { ref: `clavitor://${vaultId}/GitHub?totp` });
    assert.match(byRefTotp.structuredContent!.code, /^\d{6}$/);
    const ownerTier = await call(c, 'read_reference', { ref: `clavitor://${vaultId}/GitHub/password` });
    assert.equal(errorCode(ownerTier), 'CV-2003', 'an owner-tier field is refused');
    assert.match((ownerTier.content as { text: string }[])[0]!.text, /^CV-2003: /, 'the error text starts with the code');

    // Distinct entry 2: Prod DB by reference, title with a space.
    const ref = await call(c, 'read_reference', { ref: `clavitor://${vaultId}/Prod%20DB/password` });
    assert.deepEqual([ref.structuredContent!.entry_id, ref.structuredContent!.value], [db, 'db-s3cret']);

    // A title outside the scope is simply not found (nothing learnt, nothing counted).
    assert.equal(errorCode(await call(c, 'get_entry', { entry: 'Payroll' })), 'CV-3004');
    // Distinct entry 3: Payroll by id, out of scope: refused, and it counts.
    const out = await call(c, 'get_entry', { entry: payroll });
    assert.equal(errorCode(out), 'CV-2007', `${where}: out of scope`);
    // Distinct entry 4: over the limit of 3 a minute.
    const limited = await call(c, 'read_reference', { ref: `clavitor://${vaultId}/ci%2Fdeploy%20key/token` });
    assert.equal(errorCode(limited), 'CV-2009', `${where}: the fourth distinct entry is rate limited`);
    assert.ok(limited.structuredContent!.error.retry_after_seconds >= 1);
    assert.ok(!JSON.stringify(limited).includes('deploy-tok'));
    // Entries already read stay readable within the limit.
    assert.equal((await call(c, 'get_entry', { entry: db })).isError, undefined);
    const pw = await call(c, 'generate_password', { length: 20, classes: ['digits'] });
    assert.match(pw.structuredContent!.password, /^\d{20}$/);
  }

  // The audit trail on each POP holds the agent's MCP reads and refusals.
  for (const base of [P, B]) {
    const trail = (await api(base, 'GET', '/api/audit', { token: owner })).json.records as { actor: string; action: string; outcome: string; code: string | null }[];
    const mine = trail.filter((r) => r.actor === `agent:${agent.json.agent_id}`);
    assert.ok(mine.length > 0);
    assert.ok(mine.some((r) => r.action === 'entry.read' && r.outcome === 'ok'));
    assert.ok(mine.some((r) => r.code === 'CV-2007') && mine.some((r) => r.code === 'CV-2009'));
  }

  // clavitor-cli mcp: stdio for desktop agents, backed by the backup's /mcp.
  const stdio = new Client({ name: 'desktop', version: '1' });
  await stdio.connect(new StdioClientTransport({ command: process.execPath, args: [BIN.cli, '--server', B, 'mcp'], env: { PATH: process.env.PATH ?? '', HOME: join(pair.backup.dataDir, '..'), CLAVITOR_TOKEN: token }, stderr: 'pipe' }));
  t.after(() => stdio.close());
  assert.ok((await stdio.listTools()).tools.some((x) => x.name === 'read_reference'));
  const viaStdio = await call(stdio, 'read_reference', { ref: `clavitor://${vaultId}/Prod%20DB/password` });
  assert.equal(viaStdio.structuredContent!.value, 'db-s3cret');
  assert.equal(errorCode(await call(stdio, 'get_entry', { entry: payroll })), 'CV-2007');

  // docs/cli.md: "It ends when stdin closes", also after a tool call went to the POP (a newcomer's
  // try-out found it hanging until killed once it had called a tool: a desktop host's orphan).
  const child = spawn(process.execPath, [BIN.cli, '--server', B, 'mcp'], { env: { PATH: process.env.PATH ?? '', HOME: join(pair.backup.dataDir, '..'), CLAVITOR_TOKEN: token }, stdio: ['pipe', 'pipe', 'ignore'] });
  let out = '';
  let exit: number | null | undefined;
  child.stdout.on('data', (d) => (out += d));
  child.on('exit', (code) => (exit = code));
  t.after(() => { if (exit === undefined) child.kill('SIGKILL'); });
  const send = (m: object): boolean => child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', ...m })}\n`);
  // As `printf '…' | clavitor-cli mcp` does: everything at once, then end of input.
  send({ id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'pipe', version: '1' } } });
  send({ method: 'notifications/initialized' });
  send({ id: 2, method: 'tools/call', params: { name: 'list_entries', arguments: {} } });
  child.stdin.end();
  await waitFor('clavitor-cli mcp to exit once stdin closed', () => exit !== undefined);
  assert.equal(exit, 0);
});
