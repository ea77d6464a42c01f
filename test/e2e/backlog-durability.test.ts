/**
 * DESIGN.md §4.4.2–3 and case F10: writes accepted while the backup is down are kept in a durable
 * backlog and all arrive after it returns — also when the primary was SIGKILLed in between — in
 * batches of at most batch_size, with no duplicate revision.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { api, createVault, provisionPair, waitFor } from '../kit/pop.js';

test('writes made while the backup is down arrive after it returns, across a SIGKILL of the primary', async (t) => {
  const pair = await provisionPair({ batchSize: 7, maxRetries: 2 });
  t.after(() => pair.stop());
  await pair.primary.start();
  const P = pair.primary.url;
  const { owner } = await createVault(P, pair.primary.adminToken());
  const ids: string[] = [];
  for (let i = 0; i < 40; i++) {
    const r = await api(P, 'POST', '/api/entries', { token: owner, body: { title: `entry ${i}`, fields: [{ label: 'n', value: String(i) }] } });
    assert.equal(r.status, 201);
    ids.push(r.json.id);
  }
  const del = await api(P, 'DELETE', `/api/entries/${ids[0]}`, { token: owner });
  assert.equal(del.status, 204);
  assert.equal((await pair.primary.status()).replication.backlog, 42);

  await pair.primary.kill('SIGKILL');
  await pair.primary.start();
  assert.equal((await pair.primary.status()).replication.backlog, 42, 'backlog survives kill -9');

  await pair.backup.start();
  // The backup's hello wakes the primary at once (no polling).
  const B = pair.backup.url;
  await waitFor('backlog drained', async () => (await pair.primary.status()).replication.backlog === 0, 20000);
  for (const [i, id] of ids.entries()) {
    const r = await api(B, 'GET', `/api/entries/${id}`, { token: owner });
    if (i === 0) assert.equal(r.status, 404);
    else assert.equal(r.json.fields[0].value, String(i));
  }
  const hist = await api(B, 'GET', `/api/entries/${ids[0]}/revisions`, { token: owner });
  assert.deepEqual(hist.json.revisions.map((r: { kind: string }) => r.kind), ['entry.put', 'entry.delete']);
  const pushes = pair.backup.logLines().filter((l) => l.event === 'replication.push_applied');
  assert.ok(pushes.length >= 6, `42 revisions in batches of 7 need ≥ 6 pushes, saw ${pushes.length}`);
  for (const p of pushes) assert.ok((p.items as number) <= 7, `push of ${p.items} > batch_size`);
  const appliedTotal = pushes.reduce((n, p) => n + (p.applied as number), 0);
  assert.equal(appliedTotal, 42, 'every revision applied exactly once');
});
