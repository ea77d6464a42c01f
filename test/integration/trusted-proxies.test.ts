/**
 * Issue 13 §2: `trusted_proxies` decides whose X-Forwarded-For names the client address, for the
 * authentication throttle and the audit trail alike; no proxy is trusted by default. Real
 * `startServer` over a real data directory; requests injected with a chosen connecting address.
 * Run: node --import tsx --test --test-reporter=spec test/integration/trusted-proxies.test.ts
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { startServer, type RunningServer } from '../../src/http/server.js';
import { createCommunityEdition } from '../../src/edition/community.js';
import { createLogger } from '../../src/lib/logger.js';
import { parseCidrList } from '../../src/lib/cidr.js';
import { tempDir } from '../kit/pop.js';

/** Failures allowed per address before it is blocked (src/http/auth-throttle.ts default: 30 per 60 s). */
const MAX_FAILURES = 30;
const BAD = 'cvt1.vAAAAAAAAAAAAAAAAAAAAAA.tAAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';

async function serverWith(t: { after(fn: () => Promise<void> | void): void }, trusted: string): Promise<{ server: RunningServer; admin: string }> {
  const { dir, cleanup } = tempDir('clavitor-xff-');
  const server = await startServer({ dataDir: join(dir, 'data'), host: '127.0.0.1', port: 0, logger: createLogger({ level: 'silent' }), trustedProxies: parseCidrList(trusted), edition: () => createCommunityEdition() });
  t.after(async () => { await server.close(); cleanup(); });
  return { server, admin: readFileSync(join(dir, 'data', 'admin.token'), 'utf8').trim() };
}

const call = (server: RunningServer, from: string, xff: string | undefined, url: string, token: string, method: 'GET' | 'POST' = 'GET', payload?: unknown) =>
  server.app.inject({ method, url, remoteAddress: from, headers: { authorization: `Bearer ${token}`, ...(xff ? { 'x-forwarded-for': xff } : {}) }, ...(payload !== undefined ? { payload: payload as object } : {}) });

async function auditIps(server: RunningServer, owner: string, from: string): Promise<string[]> {
  const r = await call(server, from, undefined, '/api/audit', owner);
  assert.equal(r.statusCode, 200);
  const ips = (r.json().records as { ip: string | null }[]).map((x) => x.ip);
  assert.ok(ips.length > 0, 'audit records');
  return ips as string[];
}

test('by default X-Forwarded-For is ignored: the connecting address is throttled and audited', async (t) => {
  const { server, admin } = await serverWith(t, '');
  const v = await call(server, '10.0.0.5', undefined, '/api/vaults', admin, 'POST');
  const owner = v.json().owner_token as string;
  for (let i = 0; i <= MAX_FAILURES; i++) await call(server, '10.0.0.5', `203.0.113.${i}`, '/api/entries', BAD);
  const blocked = await call(server, '10.0.0.5', '198.51.100.1', '/api/entries', owner);
  assert.equal(blocked.statusCode, 429, 'a forged X-Forwarded-For does not escape the block');
  assert.equal(blocked.json().error.code, 'CV-2006');
  const created = await call(server, '10.0.0.9', '198.51.100.7', '/api/entries', owner, 'POST', { title: 'x' });
  assert.equal(created.statusCode, 201);
  const ips = await auditIps(server, owner, '10.0.0.9');
  assert.ok(ips.length > 0, 'audit records');
  assert.ok(ips.includes('10.0.0.9'), `audited under the connecting address: ${ips.join(',')}`);
  assert.ok(!ips.includes('198.51.100.7'), 'the forwarded address is not audited');
});

test('with trusted_proxies, a listed proxy names the client: each client is throttled and audited on its own', async (t) => {
  const { server, admin } = await serverWith(t, '10.0.0.0/24');
  const v = await call(server, '10.0.0.5', '198.51.100.50', '/api/vaults', admin, 'POST');
  const owner = v.json().owner_token as string;
  for (let i = 0; i <= MAX_FAILURES; i++) await call(server, '10.0.0.5', '203.0.113.66', '/api/entries', BAD);
  const guesser = await call(server, '10.0.0.5', '203.0.113.66', '/api/entries', owner);
  assert.equal(guesser.statusCode, 429, 'the guessing client behind the proxy is blocked');
  const other = await call(server, '10.0.0.5', '198.51.100.7', '/api/entries', owner);
  assert.equal(other.statusCode, 200, 'another client behind the same proxy is not');
  const created = await call(server, '10.0.0.5', '198.51.100.7', '/api/entries', owner, 'POST', { title: 'x' });
  assert.equal(created.statusCode, 201);
  // A connection from outside the list cannot name a client.
  const outsider = await call(server, '192.0.2.9', '198.51.100.8', '/api/entries', owner, 'POST', { title: 'y' });
  assert.equal(outsider.statusCode, 201);
  const ips = await auditIps(server, owner, '10.0.0.6');
  assert.ok(ips.includes('198.51.100.7'), `audited under the forwarded client: ${ips.join(',')}`);
  assert.ok(ips.includes('192.0.2.9'), 'an untrusted connection is audited under its own address');
  assert.ok(!ips.includes('198.51.100.8'), 'an untrusted X-Forwarded-For is ignored');
});
