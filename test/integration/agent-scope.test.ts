/**
 * Issue 6 items 1, 2 and 4 over a real SQLite data directory and a real HTTP server: an agent reads
 * only entries in its scope, receives only agent-tier values (owner and sealed redacted), lists only
 * its scope (issue 14 item 2), cannot call owner routes, stops working on revocation; every denial is audited.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { auditOf, newEntry, newVault, startTestServer } from '../kit/in-process.js';
import { deriveSealKey, sealValue } from '../../src/vault/sealed.js';

test('scope, redaction per tier, listing, owner routes and revocation for agents', async (t) => {
  const s = await startTestServer();
  t.after(() => s.stop());
  const { vaultId, owner } = await newVault(s);
  const sealed = sealValue(deriveSealKey('correct horse battery staple', vaultId), vaultId, 'recovery', 'r-42');
  const inScope = await newEntry(s, owner, {
    title: 'github', fields: [
      { label: 'user', value: 'alice', tier: 'agent' },
      { label: 'password', value: 'hunter2', tier: 'owner' },
      { label: 'recovery', value: sealed, tier: 'sealed' },
    ],
  });
  const outOfScope = await newEntry(s, owner, { title: 'bank', fields: [{ label: 'pin', value: '1234', tier: 'agent' }] });
  const agent = await s.call('POST', '/api/agents', { token: owner, body: { name: 'ci-bot', scopes: [inScope] } });
  assert.equal(agent.status, 201);
  const tok = agent.json.token as string;

  await t.test('in scope: 200, agent tier readable, owner and sealed redacted', async () => {
    const r = await s.call('GET', `/api/entries/${inScope}`, { token: tok });
    assert.equal(r.status, 200);
    assert.equal(r.json.title, 'github');
    assert.deepEqual(r.json.fields, [
      { label: 'user', kind: 'text', tier: 'agent', value: 'alice' },
      { label: 'password', kind: 'text', tier: 'owner', redacted: true },
      { label: 'recovery', kind: 'text', tier: 'sealed', redacted: true },
    ]);
  });

  await t.test('owner: every tier; the sealed value comes back as the client ciphertext', async () => {
    const r = await s.call('GET', `/api/entries/${inScope}`, { token: owner });
    assert.deepEqual(r.json.fields.map((f: { value: string }) => f.value), ['alice', 'hunter2', sealed]);
  });

  await t.test('out of scope: 403 CV-2007', async () => {
    const r = await s.call('GET', `/api/entries/${outOfScope}`, { token: tok });
    assert.equal(r.status, 403);
    assert.equal(r.json.error.code, 'CV-2007');
    assert.doesNotMatch(JSON.stringify(r.json), /1234|bank/);
  });

  await t.test('listing (issue 14 item 2): exactly the entries in scope, labels without values; owner-only routes: 403 CV-2003', async () => {
    const list = await s.call('GET', '/api/entries', { token: tok });
    assert.equal(list.status, 200);
    assert.deepEqual(list.json.entries.map((e: { id: string; title: string; fields: unknown }) => [e.id, e.title, e.fields]), [[inScope, 'github', [
      { label: 'user', kind: 'text', tier: 'agent' }, { label: 'password', kind: 'text', tier: 'owner' }, { label: 'recovery', kind: 'text', tier: 'sealed' },
    ]]]);
    assert.doesNotMatch(JSON.stringify(list.json), /alice|hunter2|r-42|bank|1234/);
    for (const [method, path, body] of [
      ['POST', '/api/entries', { title: 'x' }], ['GET', `/api/entries/${inScope}/revisions`, undefined],
      ['DELETE', `/api/entries/${inScope}`, undefined], ['GET', '/api/agents', undefined],
      ['POST', '/api/agents', { name: 'b', scopes: [outOfScope] }], ['GET', '/api/audit', undefined],
    ] as const) {
      const r = await s.call(method, path, { token: tok, ...(body ? { body } : {}) });
      assert.equal(r.status, 403, `${method} ${path}`);
      assert.equal(r.json.error.code, 'CV-2003', `${method} ${path}`);
    }
  });

  await t.test('revoked: the next request is 401, and the attempt is audited', async () => {
    assert.equal((await s.call('DELETE', `/api/agents/${agent.json.agent_id}`, { token: owner })).status, 204);
    const r = await s.call('GET', `/api/entries/${inScope}`, { token: tok });
    assert.equal(r.status, 401);
    assert.equal(r.json.error.code, 'CV-2002');
  });

  await t.test('the audit trail holds every read and denial with actor, entry, outcome and code', async () => {
    const actor = `agent:${agent.json.agent_id}`;
    const mine = (await auditOf(s, owner)).filter((a) => a.actor === actor).map((a) => [a.action, a.entry_id, a.outcome, a.code]);
    assert.deepEqual(mine, [
      ['entry.read', inScope, 'ok', null],
      ['entry.read', outOfScope, 'denied', 'CV-2007'],
      ['entry.list', null, 'ok', null],
      ['entry.create', null, 'denied', 'CV-2003'],
      ['entry.history', inScope, 'denied', 'CV-2003'],
      ['entry.delete', inScope, 'denied', 'CV-2003'],
      ['agent.list', null, 'denied', 'CV-2003'],
      ['agent.create', null, 'denied', 'CV-2003'],
      ['audit.read', null, 'denied', 'CV-2003'],
      ['auth', null, 'denied', 'CV-2004'],
    ]);
  });
});

test('the server refuses invalid totp secrets without echoing them', async (t) => {
  const s = await startTestServer();
  t.after(() => s.stop());
  const { owner } = await newVault(s);
  const totp = await s.call('POST', '/api/entries', { token: owner, body: { title: 'x', fields: [{ label: 'otp', value: 'hello-not-a-secret', kind: 'totp' }] } });
  assert.equal(totp.status, 400);
  assert.equal(totp.json.error.code, 'CV-3001');
  assert.match(totp.json.error.message, /fields\.0\.value/);
  assert.doesNotMatch(totp.json.error.message, /hello-not-a-secret/);
});
