/**
 * Issue 14 item 2 over a real SQLite data directory and a real HTTP server: an agent's scope names
 * entries, folders (an entry's parent chain) and tags; `GET /api/entries` lists exactly what the
 * agent may read (titles and field labels, no value); the owner changes the scope with
 * `PATCH /api/agents/{id}` (audited); a token given `expires_at` or `ttl_seconds` is refused with
 * 401 CV-4030 once expired (audited). Expected values come from docs/api.md.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { auditOf, newEntry, newVault, startTestServer, type TestServer } from '../kit/in-process.js';
import type { Clock } from '../../src/lib/clock.js';

/** A clock whose wall and monotonic readings tests can move independently. */
function steppableClock() {
  let wallOffset = 0;
  let monoOffset = 0;
  const clock: Clock = {
    nowMs: () => performance.now() + monoOffset,
    wallNow: () => new Date(Date.now() + wallOffset),
    steadyWallMs: () => Date.now() + wallOffset,
  };
  return { clock, stepWall: (ms: number) => { wallOffset += ms; }, advanceMono: (ms: number) => { monoOffset += ms; } };
}

const agentField = (value: string) => [{ label: 'key', value, tier: 'agent' }, { label: 'owner-note', value: `owner-${value}`, tier: 'owner' }];

async function tree(s: TestServer, owner: string) {
  const folder = await newEntry(s, owner, { title: 'infra', type: 'folder' });
  const sub = await newEntry(s, owner, { title: 'infra/prod', type: 'folder', parent: folder });
  const child = await newEntry(s, owner, { title: 'db', parent: folder, fields: agentField('db-secret') });
  const grandchild = await newEntry(s, owner, { title: 'deploy', parent: sub, fields: agentField('deploy-secret') });
  const tagged = await newEntry(s, owner, { title: 'ci-token', tags: ['ci', 'github'], fields: agentField('ci-secret') });
  const named = await newEntry(s, owner, { title: 'named', fields: agentField('named-secret') });
  const outside = await newEntry(s, owner, { title: 'bank', tags: ['finance'], fields: agentField('bank-secret') });
  return { folder, sub, child, grandchild, tagged, named, outside };
}

test('scopes by entry, folder and tag; the agent lists exactly its scope; the owner narrows it', async (t) => {
  const s = await startTestServer();
  t.after(() => s.stop());
  const { owner } = await newVault(s);
  const e = await tree(s, owner);
  const created = await s.call('POST', '/api/agents', { token: owner, body: { name: 'bot', scopes: [e.named], folders: [e.folder], tags: ['ci'], limits: { per_minute: 100, per_hour: 1000 } } });
  assert.equal(created.status, 201);
  assert.equal(created.json.expires_at, null);
  const token = created.json.token as string;
  const agentId = created.json.agent_id as string;

  const inScope = [e.folder, e.sub, e.child, e.grandchild, e.tagged, e.named];
  const list = await s.call('GET', '/api/entries', { token });
  assert.equal(list.status, 200);
  assert.deepEqual(list.json.entries.map((x: { id: string }) => x.id).sort(), [...inScope].sort());
  const ci = list.json.entries.find((x: { id: string }) => x.id === e.tagged);
  assert.deepEqual(ci, { ...ci, title: 'ci-token', tags: ['ci', 'github'], fields: [{ label: 'key', kind: 'text', tier: 'agent' }, { label: 'owner-note', kind: 'text', tier: 'owner' }] });
  assert.doesNotMatch(JSON.stringify(list.json), /secret|bank/, 'a listing holds no value and nothing out of scope');

  for (const id of inScope.filter((x) => x !== e.folder && x !== e.sub)) {
    const r = await s.call('GET', `/api/entries/${id}`, { token });
    assert.equal(r.status, 200, id);
    assert.match(r.json.fields[0].value, /-secret$/);
    assert.equal(r.json.fields[1].redacted, true);
  }
  const out = await s.call('GET', `/api/entries/${e.outside}`, { token });
  assert.deepEqual([out.status, out.json.error.code], [403, 'CV-2007']);

  // Narrow: the folder goes, the tag changes to `github`; the named entry stays (not given).
  const patched = await s.call('PATCH', `/api/agents/${agentId}`, { token: owner, body: { folders: [], tags: ['github'] } });
  assert.equal(patched.status, 200);
  assert.deepEqual([patched.json.scopes, patched.json.folders, patched.json.tags, patched.json.expires_at], [[e.named], [], ['github'], null]);
  const after = await s.call('GET', '/api/entries', { token });
  assert.deepEqual(after.json.entries.map((x: { id: string }) => x.id).sort(), [e.tagged, e.named].sort());
  const gone = await s.call('GET', `/api/entries/${e.grandchild}`, { token });
  assert.deepEqual([gone.status, gone.json.error.code], [403, 'CV-2007']);
  const listed = await s.call('GET', '/api/agents', { token: owner });
  assert.deepEqual(listed.json.agents[0].tags, ['github']);

  // Only the owner may change a scope; an agent's attempt is refused and audited.
  const byAgent = await s.call('PATCH', `/api/agents/${agentId}`, { token, body: { tags: ['finance'] } });
  assert.deepEqual([byAgent.status, byAgent.json.error.code], [403, 'CV-2003']);
  const unknown = await s.call('PATCH', '/api/agents/a_nope', { token: owner, body: { tags: [] } });
  assert.deepEqual([unknown.status, unknown.json.error.code], [404, 'CV-3004']);
  const badTag = await s.call('PATCH', `/api/agents/${agentId}`, { token: owner, body: { tags: ['has space'] } });
  assert.deepEqual([badTag.status, badTag.json.error.code], [400, 'CV-3001']);

  assert.equal((await s.call('DELETE', `/api/agents/${agentId}`, { token: owner })).status, 204);
  const revoked = await s.call('PATCH', `/api/agents/${agentId}`, { token: owner, body: { tags: [] } });
  assert.deepEqual([revoked.status, revoked.json.error.code], [409, 'CV-4031']);

  const audit = (await auditOf(s, owner)).map((a) => [a.actor, a.action, a.entry_id, a.outcome, a.code]);
  assert.ok(audit.some((a) => a[0] === 'owner' && a[1] === 'agent.update' && a[2] === agentId && a[3] === 'ok'), 'the scope change is audited');
  assert.ok(audit.some((a) => a[0] === `agent:${agentId}` && a[1] === 'agent.update' && a[3] === 'denied' && a[4] === 'CV-2003'), 'the agent\'s attempt is audited');
  assert.ok(audit.some((a) => a[0] === `agent:${agentId}` && a[1] === 'entry.list' && a[3] === 'ok'), 'the agent\'s listing is audited');

  // Tags on entries: set on create, replaced on update, refused when malformed.
  const entry = await s.call('GET', `/api/entries/${e.tagged}`, { token: owner });
  const put = await s.call('PUT', `/api/entries/${e.tagged}`, { token: owner, headers: { 'if-match': `"${entry.json.version}"` }, body: { title: 'ci-token', tags: ['ops'] } });
  assert.deepEqual([put.status, put.json.tags], [200, ['ops']]);
  const bad = await s.call('POST', '/api/entries', { token: owner, body: { title: 'x', tags: ['a,b'] } });
  assert.deepEqual([bad.status, bad.json.error.code], [400, 'CV-3001']);
});

test('expiry: a date on the wall clock, a TTL counted down on the monotonic clock; 401 CV-4030, audited', async (t) => {
  const c = steppableClock();
  const s = await startTestServer({ clock: c.clock });
  t.after(() => s.stop());
  const { owner } = await newVault(s);
  const id = await newEntry(s, owner, { title: 'k', fields: agentField('v') });
  const limits = { per_minute: 100, per_hour: 1000 };

  await t.test('expires_at: refused once the wall clock passes the date', async (t2) => {
    let stepped = 0;
    t2.after(() => c.stepWall(-stepped));
    const at = new Date(c.clock.wallNow().getTime() + 3_600_000).toISOString();
    const a = await s.call('POST', '/api/agents', { token: owner, body: { name: 'dated', scopes: [id], expires_at: at, limits } });
    assert.deepEqual([a.status, a.json.expires_at], [201, at]);
    assert.equal((await s.call('GET', `/api/entries/${id}`, { token: a.json.token })).status, 200);
    c.stepWall(3_600_000);
    stepped = 3_600_000;
    const r = await s.call('GET', `/api/entries/${id}`, { token: a.json.token });
    assert.deepEqual([r.status, r.json.error.code, r.json.error.expired_at], [401, 'CV-4030', at]);
    assert.equal((await s.call('GET', '/api/entries', { token: a.json.token })).status, 401, 'listing too');
    const listed = (await s.call('GET', '/api/agents', { token: owner })).json.agents.find((x: { agent_id: string }) => x.agent_id === a.json.agent_id);
    assert.equal(listed.expired, true);
    // The owner extends it: the same token works again.
    const ext = await s.call('PATCH', `/api/agents/${a.json.agent_id}`, { token: owner, body: { ttl_seconds: 600 } });
    assert.equal(ext.status, 200);
    assert.equal((await s.call('GET', `/api/entries/${id}`, { token: a.json.token })).status, 200);
  });

  await t.test('ttl_seconds: a wall-clock step back does not stretch the TTL', async (t2) => {
    const a = await s.call('POST', '/api/agents', { token: owner, body: { name: 'ttl', scopes: [id], ttl_seconds: 60, limits } });
    assert.equal(a.status, 201);
    assert.ok(Math.abs(Date.parse(a.json.expires_at) - (c.clock.wallNow().getTime() + 60_000)) < 5_000);
    assert.equal((await s.call('GET', `/api/entries/${id}`, { token: a.json.token })).status, 200);
    c.stepWall(-3_600_000);
    t2.after(() => c.stepWall(3_600_000));
    c.advanceMono(61_000);
    const r = await s.call('GET', `/api/entries/${id}`, { token: a.json.token });
    assert.deepEqual([r.status, r.json.error.code], [401, 'CV-4030'], '61 s of monotonic time ends a 60 s TTL whatever the wall clock says');
    const audit = (await auditOf(s, owner)).filter((x) => x.actor === `agent:${a.json.agent_id}` && x.action === 'auth');
    assert.ok(audit.length > 0);
    assert.ok(audit.every((x) => x.outcome === 'denied' && x.code === 'CV-4030'));
  });

  await t.test('invalid expiry: 400 CV-3030, nothing created', async () => {
    const before = (await s.call('GET', '/api/agents', { token: owner })).json.agents.length;
    for (const body of [
      { expires_at: '2020-01-01T00:00:00Z' }, { expires_at: 'tomorrow' }, { ttl_seconds: 0 }, { ttl_seconds: 60, expires_at: new Date(Date.now() + 86_400_000).toISOString() },
      { ttl_seconds: 400 * 366 * 86_400 },
    ]) {
      const r = await s.call('POST', '/api/agents', { token: owner, body: { name: 'x', scopes: [id], ...body } });
      assert.deepEqual([r.status, r.json.error.code], [400, 'CV-3030'], JSON.stringify(body));
    }
    assert.equal((await s.call('GET', '/api/agents', { token: owner })).json.agents.length, before);
  });
});
