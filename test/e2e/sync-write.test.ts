/**
 * DESIGN.md §4.4.11 "optional synchronous write", end to end: a write carrying
 * `x-clavitor-sync-timeout-ms` waits (bounded) for the backup's acknowledgement and says in
 * `x-clavitor-replicated` whether it came in time. With the backup up: `true`, and the revision is
 * already on the backup when the response arrives. With the replication link black-holed by a TCP
 * proxy (the peer accepts connections, never answers): the write still commits (2xx) and returns
 * after about the requested wait with `false`. A write without the header carries no such header.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { api, createVault, waitFor, runningPairBehindProxy } from '../kit/pop.js';

const SYNC = 'x-clavitor-sync-timeout-ms';
const REPLICATED = 'x-clavitor-replicated';

test('a synchronous write reports whether the backup acknowledged it in time', async (t) => {
  const { pair, proxy } = await runningPairBehindProxy(t);
  const { primary, backup } = pair;
  const P = primary.url;
  const B = backup.url;
  const { owner } = await createVault(P, primary.adminToken());

  // Backup up: replicated true, and readable on the backup as soon as the response is back.
  const created = await api(P, 'POST', '/api/entries', { token: owner, headers: { [SYNC]: '2000' }, body: { title: 'sync', fields: [{ label: 'k', value: 'v1' }] } });
  assert.equal(created.status, 201);
  assert.equal(created.headers.get(REPLICATED), 'true');
  const id = created.json.id as string;
  const onBackup = await api(B, 'GET', `/api/entries/${id}`, { token: owner });
  assert.equal(onBackup.status, 200, 'acknowledged by the backup before the response');
  assert.equal(onBackup.json.version, created.json.version);
  const updated = await api(P, 'PUT', `/api/entries/${id}`, { token: owner, headers: { [SYNC]: '2000', 'if-match': `"${created.json.version}"` }, body: { title: 'sync', fields: [{ label: 'k', value: 'v2' }] } });
  assert.equal(updated.status, 200);
  assert.equal(updated.headers.get(REPLICATED), 'true');
  assert.equal((await api(B, 'GET', `/api/entries/${id}`, { token: owner })).json.fields[0].value, 'v2');
  const plain = await api(P, 'POST', '/api/entries', { token: owner, body: { title: 'async' } });
  assert.equal(plain.status, 201);
  assert.equal(plain.headers.get(REPLICATED), null, 'no header without the request header');

  // Link black-holed: the write commits, waits about 500 ms and says it was not replicated.
  await waitFor('backlog drained', async () => (await primary.status()).replication.backlog === 0);
  proxy.setMode('blackhole');
  const t0 = performance.now();
  const late = await api(P, 'POST', '/api/entries', { token: owner, headers: { [SYNC]: '500' }, body: { title: 'late', fields: [{ label: 'k', value: 'v' }] } });
  const elapsed = performance.now() - t0;
  assert.equal(late.status, 201, 'the write is committed on the primary even though the backup did not answer');
  assert.equal(late.headers.get(REPLICATED), 'false');
  assert.ok(elapsed >= 400 && elapsed < 3000, `sync write returned after ${elapsed.toFixed(0)} ms for a 500 ms wait`);
  const del = await api(P, 'DELETE', `/api/entries/${plain.json.id}`, { token: owner, headers: { [SYNC]: '500' } });
  assert.equal(del.status, 204);
  assert.equal(del.headers.get(REPLICATED), 'false');
  const readBack = await api(P, 'GET', `/api/entries/${late.json.id}`, { token: owner });
  assert.equal(readBack.status, 200, 'committed and readable on the primary');
  assert.equal((await api(B, 'GET', `/api/entries/${late.json.id}`, { token: owner })).status, 404, 'not on the backup');
  assert.ok((await primary.status()).replication.backlog >= 2, 'kept in the backlog for later');
});
