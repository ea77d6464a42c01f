/**
 * Issue 2, end to end with two real POP processes on loopback: creates, updates, deletes, new vaults
 * and agents replicate; the owner token reads on the backup; backup reads work.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { api, createVault, waitFor, runningPair } from '../kit/pop.js';

test('a POP pair replicates vaults, entries, updates, deletes and agents', async (t) => {
  const pair = await runningPair(t);
  assert.match(pair.primary.stdout, /^Commercial edition: primary POP, replicating to zurich-01\n$/);
  assert.match(pair.backup.stdout, /^Commercial edition: backup POP, accepting replication from primary\n$/);

  const P = pair.primary.url;
  const B = pair.backup.url;
  const { owner } = await createVault(P, pair.primary.adminToken());
  const created = await api(P, 'POST', '/api/entries', { token: owner, body: { title: 'github', type: 'credential', fields: [{ label: 'password', value: 'hunter2', tier: 'agent' }, { label: 'recovery', value: 'r-123', tier: 'owner' }] } });
  assert.equal(created.status, 201);
  const id = created.json.id;

  const onBackup = await waitFor('entry on backup', async () => {
    const r = await api(B, 'GET', `/api/entries/${id}`, { token: owner });
    return r.status === 200 ? r.json : undefined;
  });
  assert.equal(onBackup.title, 'github');
  assert.deepEqual(onBackup.fields.map((f: { value: string }) => f.value), ['hunter2', 'r-123']);
  assert.equal(onBackup.version, created.json.version);

  const updated = await api(P, 'PUT', `/api/entries/${id}`, { token: owner, headers: { 'if-match': `"${created.json.version}"` }, body: { title: 'github (work)', fields: [{ label: 'password', value: 'hunter3', tier: 'agent' }] } });
  assert.equal(updated.status, 200);
  await waitFor('update on backup', async () => {
    const r = await api(B, 'GET', `/api/entries/${id}`, { token: owner });
    return r.status === 200 && r.json.version === updated.json.version && r.json.fields[0].value === 'hunter3';
  });

  const agent = await api(P, 'POST', '/api/agents', { token: owner, body: { name: 'ci-bot', scopes: [id] } });
  assert.equal(agent.status, 201);
  const agentRead = await waitFor('agent token works on backup', async () => {
    const r = await api(B, 'GET', `/api/entries/${id}`, { token: agent.json.token });
    return r.status === 200 ? r.json : undefined;
  });
  assert.equal(agentRead.fields[0].value, 'hunter3');

  const revoke = await api(P, 'DELETE', `/api/agents/${agent.json.agent_id}`, { token: owner });
  assert.equal(revoke.status, 204);
  await waitFor('revocation on backup', async () => (await api(B, 'GET', `/api/entries/${id}`, { token: agent.json.token })).status === 401);

  const del = await api(P, 'DELETE', `/api/entries/${id}`, { token: owner });
  assert.equal(del.status, 204);
  await waitFor('tombstone on backup', async () => (await api(B, 'GET', `/api/entries/${id}`, { token: owner })).status === 404);
  const hist = await api(B, 'GET', `/api/entries/${id}/revisions`, { token: owner });
  // Create, update, the re-key written by the revocation (docs/agents.md: revoking an agent re-keys,
  // in the same commit, every entry it could read, shown in history as a new version), delete.
  assert.deepEqual(hist.json.revisions.map((r: { kind: string }) => r.kind), ['entry.put', 'entry.put', 'entry.put', 'entry.delete']);

  const second = await createVault(P, pair.primary.adminToken());
  await waitFor('second vault on backup', async () => (await api(B, 'GET', '/api/entries', { token: second.owner })).status === 200);

  const list = await api(B, 'GET', '/api/entries', { token: owner });
  assert.equal(list.status, 200);
  assert.deepEqual(list.json.entries, []);

  const bs = await pair.backup.status();
  assert.equal(bs.role, 'backup');
  assert.ok(bs.replication.pushes_received >= 1);
  const ps = await pair.primary.status();
  assert.equal(ps.role, 'primary');
  assert.equal(ps.replication.backlog, 0);
  assert.equal(ps.replication.peer, 'zurich-01');
  assert.equal(ps.epoch, 1);
});
