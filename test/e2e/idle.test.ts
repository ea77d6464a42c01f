/**
 * DESIGN.md §4.4.1 (event-driven): an idle primary makes no replication request for 10 s, and its
 * sender holds no timer.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { api, createVault, sleep, waitFor, runningPair } from '../helpers/pop.js';

test('an idle primary sends no push for 10 s', async (t) => {
  const pair = await runningPair(t);
  const { owner } = await createVault(pair.primary.url, pair.primary.adminToken());
  await api(pair.primary.url, 'POST', '/api/entries', { token: owner, body: { title: 'x' } });
  await waitFor('backlog drained', async () => (await pair.primary.status()).replication.backlog === 0);
  const p0 = await pair.primary.status();
  const b0 = await pair.backup.status();
  const logLinesBefore = pair.backup.logLines().length;
  await sleep(10_000);
  const p1 = await pair.primary.status();
  const b1 = await pair.backup.status();
  assert.equal(p1.replication.pushes_sent, p0.replication.pushes_sent);
  assert.equal(p1.replication.state, 'idle');
  assert.equal(b1.replication.pushes_received, b0.replication.pushes_received);
  const pushesLogged = pair.backup.logLines().slice(logLinesBefore).filter((l) => l.event === 'replication.push_applied');
  assert.equal(pushesLogged.length, 0);
});
