/**
 * Issue 6 items 3, 4 and 7 over real SQLite data directories and real HTTP servers: the rate-limit
 * and lockdown sequence with small per-agent limits; the lock and the unlock are revisions, so a
 * backup that received them enforces them; a backup never writes a lock itself (its second breach
 * is a 429, and its revision log does not change); every step is audited.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyRevision } from '../../src/vault/apply.js';
import type { VaultId } from '../../src/lib/ids.js';
import { auditOf, backupLikeEdition, newEntry, newVault, startTestServer, type TestServer } from '../kit/in-process.js';

/** Copies the revisions `backup` lacks from `primary` (what a replication push does). */
function replicate(primary: TestServer, backup: TestServer, vaultId: string): void {
  const from = primary.server.files.find(vaultId as VaultId)!;
  if (!backup.server.node.hasVault(vaultId)) backup.server.node.addVault(vaultId as VaultId, new Date().toISOString());
  const to = backup.server.files.openOrCreate(vaultId as VaultId);
  const missing = from.revisionRange(to.maxSeq() + 1, Number.MAX_SAFE_INTEGER);
  to.tx(() => missing.forEach((r) => applyRevision(to, r)));
}

test('breach → 429, second breach → locked and replicated, owner unlock → reads again, on both POPs', async (t) => {
  const p = await startTestServer();
  const b = await startTestServer({ edition: backupLikeEdition });
  t.after(async () => {
    await p.stop();
    await b.stop();
  });
  const { vaultId, owner } = await newVault(p);
  const ids = [];
  for (const title of ['a', 'b', 'c']) ids.push(await newEntry(p, owner, { title, fields: [{ label: 'k', value: `v-${title}`, tier: 'agent' }] }));
  const [A, B, C] = ids as [string, string, string];
  const created = await p.call('POST', '/api/agents', { token: owner, body: { name: 'bot', scopes: [A, B, C], limits: { per_minute: 2, per_hour: 5 } } });
  assert.equal(created.status, 201);
  const { agent_id: agentId, token } = created.json as { agent_id: string; token: string };
  const read = (s: TestServer, id: string) => s.call('GET', `/api/entries/${id}`, { token });

  assert.equal((await read(p, A)).status, 200);
  assert.equal((await read(p, A)).status, 200, 'the same entry again is not a new distinct entry');
  assert.equal((await read(p, B)).status, 200);
  const first = await read(p, C);
  assert.equal(first.status, 429);
  assert.equal(first.json.error.code, 'CV-2009');
  assert.ok(Number(first.headers.get('retry-after')) >= 1 && Number(first.headers.get('retry-after')) <= 60);
  assert.equal((await read(p, B)).status, 200, 'entries already read in the window stay readable after a breach');

  const second = await read(p, C);
  assert.equal(second.status, 403);
  assert.equal(second.json.error.code, 'CV-2010');
  const locked = await read(p, A);
  assert.equal(locked.json.error.code, 'CV-2010', 'a locked agent reads nothing, even within its limits');
  const store = p.server.files.find(vaultId as VaultId)!;
  assert.deepEqual(store.revisionsOf(agentId).map((r) => r.kind), ['agent.create', 'agent.lock']);
  const listed = await p.call('GET', '/api/agents', { token: owner });
  assert.deepEqual([listed.json.agents[0].locked, listed.json.agents[0].limits], [true, { per_minute: 2, per_hour: 5 }]);

  replicate(p, b, vaultId);
  const onBackup = await read(b, A);
  assert.equal(onBackup.status, 403);
  assert.equal(onBackup.json.error.code, 'CV-2010', 'the backup enforces the lock it received');
  const unlockOnBackup = await b.call('POST', `/api/agents/${agentId}/unlock`, { token: owner });
  assert.equal(unlockOnBackup.status, 503, 'unlock is a write: only the primary takes it');

  const unlock = await p.call('POST', `/api/agents/${agentId}/unlock`, { token: owner });
  assert.deepEqual([unlock.status, unlock.json], [200, { agent_id: agentId, was_locked: true }]);
  assert.equal((await read(p, A)).status, 200, 'unlocked: windows start afresh');
  replicate(p, b, vaultId);
  assert.equal((await read(b, A)).status, 200, 'the unlock reached the backup');

  // The backup counts its own reads; its breaches are 429s and it writes no lock revision.
  const seqBefore = b.server.files.find(vaultId as VaultId)!.maxSeq();
  assert.equal((await read(b, B)).status, 200);
  for (let i = 0; i < 3; i++) {
    const r = await read(b, C);
    assert.equal(r.status, 429, `backup breach ${i + 1}`);
    assert.equal(r.json.error.code, 'CV-2009');
  }
  assert.equal(b.server.files.find(vaultId as VaultId)!.maxSeq(), seqBefore, 'a backup never appends a revision');

  const actor = `agent:${agentId}`;
  const trail = (await auditOf(p, owner)).filter((a) => a.actor === actor || a.action.startsWith('agent.un'))
    .map((a) => [a.actor === actor ? 'agent' : a.actor, a.action, a.entry_id, a.outcome, a.code]);
  assert.deepEqual(trail, [
    ['agent', 'entry.read', A, 'ok', null],
    ['agent', 'entry.read', A, 'ok', null],
    ['agent', 'entry.read', B, 'ok', null],
    ['agent', 'agent.rate_limit', C, 'denied', 'CV-2009'],
    ['agent', 'entry.read', B, 'ok', null],
    ['agent', 'agent.rate_limit', C, 'denied', 'CV-2009'],
    ['agent', 'agent.lockdown', C, 'denied', 'CV-2010'],
    ['agent', 'entry.read', A, 'denied', 'CV-2010'],
    ['owner', 'agent.unlock', agentId, 'ok', null],
    ['agent', 'entry.read', A, 'ok', null],
  ]);
  const backupTrail = (await auditOf(b, owner)).filter((a) => a.actor === actor).map((a) => [a.action, a.outcome, a.code]);
  assert.deepEqual(backupTrail, [
    ['entry.read', 'denied', 'CV-2010'], ['entry.read', 'ok', null], ['entry.read', 'ok', null],
    ['agent.rate_limit', 'denied', 'CV-2009'], ['agent.rate_limit', 'denied', 'CV-2009'], ['agent.rate_limit', 'denied', 'CV-2009'],
  ], 'reads served by the backup are audited on the backup');
});

test('default limits are 3 distinct entries per minute; out-of-scope probing counts', async (t) => {
  const s = await startTestServer();
  t.after(() => s.stop());
  const { owner } = await newVault(s);
  const a = await newEntry(s, owner, { title: 'a', fields: [] });
  const agent = await s.call('POST', '/api/agents', { token: owner, body: { name: 'probe', scopes: [a] } });
  const statuses = [];
  for (const id of [a, 'e_AAAAAAAAAAAAAAAAAAAAAA', 'e_BBBBBBBBBBBBBBBBBBBBBB', 'e_CCCCCCCCCCCCCCCCCCCCCC', 'e_DDDDDDDDDDDDDDDDDDDDDD']) {
    statuses.push((await s.call('GET', `/api/entries/${id}`, { token: agent.json.token })).json?.error?.code ?? 'ok');
  }
  assert.deepEqual(statuses, ['ok', 'CV-2007', 'CV-2007', 'CV-2009', 'CV-2010']);
});
