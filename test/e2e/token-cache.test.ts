/**
 * Issue 12 item 5 (the token-key cache, src/vault/token-cache.ts) on two real POP processes: an
 * agent token that has been verified, and so is cached, on both POPs stops working on the very
 * next request once its lock or revocation is committed (primary) or applied (backup). DESIGN.md
 * §2 and issue 6 items 3–4 give the expected answers: a locked agent gets 403 CV-2010 on every
 * read, a revoked agent's token gets 401 CV-2002. No polling with the agent's own token after a
 * change: the backup is known to hold the change through the owner's agent listing, and then
 * exactly one agent request must be refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { api, createVault, runningPair, waitFor } from '../kit/pop.js';

test('a cached agent token is refused at once after a committed or replicated lock and revocation', async (t) => {
  const pair = await runningPair(t);
  const P = pair.primary.url;
  const B = pair.backup.url;
  const { owner } = await createVault(P, pair.primary.adminToken());
  const ids: string[] = [];
  for (const title of ['a', 'b', 'c']) {
    const r = await api(P, 'POST', '/api/entries', { token: owner, body: { title, fields: [{ label: 'k', value: `v-${title}`, tier: 'agent' }] } });
    assert.equal(r.status, 201);
    ids.push(r.json.id);
  }
  const [A, Bn, C] = ids as [string, string, string];
  const created = await api(P, 'POST', '/api/agents', { token: owner, body: { name: 'bot', scopes: ids, limits: { per_minute: 2, per_hour: 50 } } });
  assert.equal(created.status, 201);
  const { agent_id: agentId, token } = created.json as { agent_id: string; token: string };
  const read = (base: string, id: string) => api(base, 'GET', `/api/entries/${id}`, { token });
  const agentOn = async (base: string) => {
    const r = await api(base, 'GET', '/api/agents', { token: owner });
    return r.status === 200 ? (r.json.agents as { agent_id: string; locked: boolean; revoked: boolean }[]).find((a) => a.agent_id === agentId) : undefined;
  };

  // Verified (and so cached) on both POPs.
  for (let i = 0; i < 3; i++) assert.equal((await read(P, A)).status, 200);
  await waitFor('agent readable on the backup', async () => (await read(B, A)).status === 200);
  assert.equal((await read(B, A)).status, 200);

  // Lock: second breach of 2 distinct entries per minute on the primary (issue 6 item 3).
  assert.equal((await read(P, Bn)).status, 200);
  assert.equal((await read(P, C)).status, 429);
  assert.equal((await read(P, C)).status, 403);
  const lockedP = await read(P, A);
  assert.equal(lockedP.status, 403, 'the next read on the primary after the lock is refused');
  assert.equal(lockedP.json.error.code, 'CV-2010');
  await waitFor('lock applied on the backup', async () => (await agentOn(B))?.locked === true);
  const lockedB = await read(B, A);
  assert.equal(lockedB.status, 403, 'the next read on the backup after the lock is applied is refused');
  assert.equal(lockedB.json.error.code, 'CV-2010');

  // Unlock (owner): the same token reads again on both POPs.
  assert.equal((await api(P, 'POST', `/api/agents/${agentId}/unlock`, { token: owner })).status, 200);
  assert.equal((await read(P, A)).status, 200);
  await waitFor('unlock applied on the backup', async () => (await agentOn(B))?.locked === false);
  assert.equal((await read(B, A)).status, 200);

  // Revocation: 401 on the very next request, on the primary and then on the backup.
  assert.equal((await api(P, 'DELETE', `/api/agents/${agentId}`, { token: owner })).status, 204);
  const revokedP = await read(P, A);
  assert.equal(revokedP.status, 401, 'the next request on the primary after the revocation is refused');
  assert.equal(revokedP.json.error.code, 'CV-2002');
  await waitFor('revocation applied on the backup', async () => (await agentOn(B))?.revoked === true);
  const revokedB = await read(B, A);
  assert.equal(revokedB.status, 401, 'the next request on the backup after the revocation is applied is refused');
  assert.equal(revokedB.json.error.code, 'CV-2002');
  // The owner's cached token is unaffected.
  assert.equal((await api(B, 'GET', `/api/entries/${A}`, { token: owner })).status, 200);
});
