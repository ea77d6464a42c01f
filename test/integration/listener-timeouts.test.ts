/**
 * Issue 13 §2: every listener bounds how long a connection may stay silent before its first
 * request, withhold its body, or idle between keep-alive requests (src/http/listener-limits.ts).
 * Real `startServer` on loopback with short limits injected (the defaults — 15 s, 60 s, 10 s —
 * are too long for a test); each case waits for the server to close the connection.
 * Run: node --import tsx --test --test-reporter=spec test/integration/listener-timeouts.test.ts
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { startServer, type RunningServer } from '../../src/http/server.js';
import { createCommunityEdition } from '../../src/edition/community.js';
import { createLogger } from '../../src/lib/logger.js';
import { LISTENER_DEFAULTS } from '../../src/http/listener-limits.js';
import { tempDir, waitFor } from '../kit/pop.js';

const LIMITS = { ...LISTENER_DEFAULTS, headersTimeoutMs: 400, bodyTimeoutMs: 400, keepAliveTimeoutMs: 400 };

let lastDataDir = '';
const sockets: Socket[] = [];
async function server(t: { after(fn: () => Promise<void>): void }): Promise<RunningServer> {
  const { dir, cleanup } = tempDir('clavitor-timeouts-');
  lastDataDir = join(dir, 'data');
  const s = await startServer({ dataDir: join(dir, 'data'), host: '127.0.0.1', port: 0, logger: createLogger({ level: 'silent' }), limits: LIMITS, edition: () => createCommunityEdition() });
  t.after(async () => {
    for (const c of sockets.splice(0)) c.destroy(); // first, so that close() never waits on them
    await s.close();
    cleanup();
  });
  return s;
}

/** A raw connection that records what the server sent and when it closed. */
function raw(address: string): { socket: Socket; received: () => string; closed: () => boolean } {
  const [host, port] = address.split(':');
  const socket = connect({ host: host!, port: Number(port) });
  sockets.push(socket);
  let data = '';
  let closed = false;
  socket.setEncoding('utf8');
  socket.on('data', (d) => (data += d));
  socket.on('error', () => {});
  socket.on('close', () => (closed = true));
  return { socket, received: () => data, closed: () => closed };
}

test('a connection that never sends a request is closed', async (t) => {
  const s = await server(t);
  const c = raw(s.address);
  await waitFor('silent connection closed by the server', () => c.closed(), 10_000);
  assert.equal(c.received(), '');
});

test('a withheld body gets 408 CV-2011 and the connection is closed', async (t) => {
  const s = await server(t);
  const c = raw(s.address);
  c.socket.write('POST /api/entries HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"title":"');
  await waitFor('slow body closed by the server', () => c.closed(), 10_000);
  assert.match(c.received(), /^HTTP\/1\.1 408 /);
  const body = JSON.parse(c.received().split('\r\n\r\n')[1]!);
  assert.equal(body.error.code, 'CV-2011');
});

test('headers that stop half-way are closed without an answer; trickled headers get 408 CV-2013 (docs/security.md)', async (t) => {
  const s = await server(t);
  const stalled = raw(s.address);
  stalled.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
  await waitFor('stalled headers closed by the server', () => stalled.closed(), 10_000);
  assert.equal(stalled.received(), '');
  // A byte now and then keeps the connection active; Node's headersTimeout then answers 408, on
  // its check that runs every 30 s (so up to 30 s after the 400 ms limit).
  const trickle = raw(s.address);
  trickle.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
  const drip = setInterval(() => { if (!trickle.closed()) trickle.socket.write('X-Slow: 1\r\n'); }, 100);
  t.after(() => clearInterval(drip));
  await waitFor('trickled headers closed by the server', () => trickle.closed(), 60_000);
  clearInterval(drip);
  assert.match(trickle.received(), /^HTTP\/1\.1 408 /);
  const body = JSON.parse(trickle.received().split('\r\n\r\n')[1]!);
  assert.equal(body.error.code, 'CV-2013');
});

test('an idle keep-alive connection is closed after its last answer', async (t) => {
  const s = await server(t);
  const c = raw(s.address);
  c.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
  await waitFor('answered', () => /\r\n\r\n/.test(c.received()), 10_000);
  assert.match(c.received(), /^HTTP\/1\.1 200 /);
  assert.match(c.received(), /keep-alive/i);
  await waitFor('idle keep-alive connection closed', () => c.closed(), 10_000);
});

test('a prompt request with a body is unaffected by the body deadline', async (t) => {
  const s = await server(t);
  const admin = readFileSync(join(lastDataDir, 'admin.token'), 'utf8').trim();
  const v = await fetch(`http://${s.address}/api/vaults`, { method: 'POST', headers: { authorization: `Bearer ${admin}` } });
  assert.equal(v.status, 201);
  const { owner_token: owner } = await v.json() as { owner_token: string };
  const r = await fetch(`http://${s.address}/api/entries`, { method: 'POST', headers: { authorization: `Bearer ${owner}`, 'content-type': 'application/json' }, body: JSON.stringify({ title: 'prompt' }) });
  assert.equal(r.status, 201);
});
