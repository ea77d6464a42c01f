/**
 * DESIGN.md §4.3 and case F9: a backup answers every client write — every verb, every write route,
 * vault and agent creation included, valid token or not — with 503, Retry-After and
 * X-Primary-Location, and its data does not change. Reads are served.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { api, createVault, waitFor, runningPair } from '../kit/pop.js';

test('the backup refuses every client write with 503 and the primary location', async (t) => {
  const pair = await runningPair(t);
  const P = pair.primary.url;
  const B = pair.backup.url;
  const { owner } = await createVault(P, pair.primary.adminToken());
  const e = await api(P, 'POST', '/api/entries', { token: owner, body: { title: 't', fields: [{ label: 'k', value: 'v' }] } });
  const id = e.json.id;
  await waitFor('entry on backup', async () => (await api(B, 'GET', `/api/entries/${id}`, { token: owner })).status === 200);
  // Readable on the backup from its commit; counted once its fsync returned and it was acknowledged.
  await waitFor('push acknowledged', async () => (await pair.primary.status()).replication.backlog === 0);
  const before = await pair.backup.status();

  const admin = pair.backup.adminToken();
  const attempts: [string, string, string | undefined, unknown][] = [
    ['POST', '/api/vaults', admin, undefined],
    ['POST', '/api/vaults', undefined, undefined],
    ['POST', '/api/entries', owner, { title: 'x' }],
    ['POST', '/api/entries', 'bogus', { title: 'x' }],
    ['PUT', `/api/entries/${id}`, owner, { title: 'y' }],
    ['PATCH', `/api/entries/${id}`, owner, { title: 'y' }],
    ['DELETE', `/api/entries/${id}`, owner, undefined],
    ['POST', '/api/agents', owner, { name: 'a', scopes: [id] }],
    ['DELETE', '/api/agents/a_AAAAAAAAAAAAAAAAAAAAAA', owner, undefined],
    ['POST', '/api/anything/else', owner, {}],
  ];
  for (const [method, path, token, body] of attempts) {
    const r = await api(B, method, path, { ...(token ? { token } : {}), ...(body !== undefined ? { body } : {}), headers: method === 'PUT' ? { 'if-match': '"2"' } : {} });
    assert.equal(r.status, 503, `${method} ${path}`);
    assert.equal(r.json.error.code, 'CV-5001', `${method} ${path}`);
    assert.equal(r.headers.get('retry-after'), '5', `${method} ${path}`);
    assert.equal(r.headers.get('x-primary-location'), P, `${method} ${path}`);
  }

  const read = await api(B, 'GET', `/api/entries/${id}`, { token: owner });
  assert.equal(read.status, 200);
  assert.equal(read.json.version, e.json.version);
  const list = await api(B, 'GET', '/api/entries', { token: owner });
  assert.equal(list.json.entries.length, 1);
  const after = await pair.backup.status();
  assert.equal(after.replication.pushes_received, before.replication.pushes_received);
});
