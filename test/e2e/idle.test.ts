/**
 * DESIGN.md §4.4.1 (event-driven): an idle primary makes no replication request for 10 s, and its
 * sender holds no timer; nor do the audit-anchor senders of either POP (issue 13 §3).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { api, createVault, sleep, waitFor, runningPair } from '../kit/pop.js';

test('an idle primary sends no push for 10 s', async (t) => {
  const pair = await runningPair(t);
  const { owner } = await createVault(pair.primary.url, pair.primary.adminToken());
  await api(pair.primary.url, 'POST', '/api/entries', { token: owner, body: { title: 'x' } });
  await waitFor('backlog drained', async () => (await pair.primary.status()).replication.backlog === 0);
  await waitFor('audit anchors sent', async () => !(await pair.primary.status()).replication.audit_anchors.scheduled && !(await pair.backup.status()).replication.audit_anchors.scheduled);
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
  // Audit anchors (issue 13 §3) are event-driven too: none sent, none scheduled, once acknowledged.
  assert.deepEqual(p1.replication.audit_anchors, { ...p0.replication.audit_anchors, scheduled: false });
  assert.deepEqual(b1.replication.audit_anchors, { ...b0.replication.audit_anchors, scheduled: false });
  assert.equal(pair.backup.logLines().slice(logLinesBefore).filter((l) => l.event === 'audit.anchors_received').length, 0);
});
