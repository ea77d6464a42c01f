/**
 * Issue 13 §2, commercial wiring: `trusted_proxies` in replication.yaml is applied at start and
 * on SIGHUP (DESIGN.md §4.4.10). A real backup POP process on loopback.
 * Run: npm run build && node --import tsx --test --test-reporter=spec test/e2e/trusted-proxies-pop.test.ts
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent } from 'undici';
import { api, provisionPair, waitFor } from '../kit/pop.js';

/** Failures allowed per address before it is blocked (src/http/auth-throttle.ts default: 30 per 60 s). */
const MAX_FAILURES = 30;

test('a backup trusts X-Forwarded-For only from its trusted_proxies, and a reload applies a new list', async (t) => {
  const pair = await provisionPair();
  t.after(() => pair.stop());
  pair.writeConfig('backup', `${pair.yamlFor('backup', 'backup')}trusted_proxies:\n  - "127.0.0.2"\n`);
  await pair.backup.start();
  const viaProxy = new Agent({ localAddress: '127.0.0.2' });
  const direct = new Agent({ localAddress: '127.0.0.3' });
  t.after(async () => { await viaProxy.close(); await direct.close(); });
  const get = (dispatcher: Agent, xff: string) => api(pair.backup.url, 'GET', '/api/entries', { token: 'cvt1.bogus.x', headers: { 'x-forwarded-for': xff }, dispatcher });

  for (let i = 0; i <= MAX_FAILURES; i++) assert.equal((await get(viaProxy, '203.0.113.5')).status, 401);
  assert.equal((await get(viaProxy, '203.0.113.5')).status, 429, 'the client named by the proxy is blocked');
  assert.equal((await get(viaProxy, '198.51.100.1')).status, 401, 'another client behind the proxy is not');
  assert.equal((await get(direct, '203.0.113.5')).status, 401, 'from an untrusted address the header is ignored: its own address is judged');

  // Reload with the proxy removed: its X-Forwarded-For is ignored from now on.
  pair.writeConfig('backup', pair.yamlFor('backup', 'backup'));
  pair.backup.signal('SIGHUP');
  await waitFor('reload applied', async () => {
    for (let i = 0; i <= MAX_FAILURES; i++) await get(viaProxy, `192.0.2.${i}`);
    return (await get(viaProxy, '192.0.2.200')).status === 429 ? true : undefined;
  });
  assert.equal((await get(direct, '192.0.2.200')).status, 401, 'only the proxy\'s own address is blocked');
});
