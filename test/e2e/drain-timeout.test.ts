/**
 * A drain that does not finish in time leaves the POP draining (client writes refused, 503
 * CV-5008) until the operator resumes it or drains again (DESIGN.md §4.5 planned switchover,
 * docs/operations.md). The newcomer try-out found that the command said only `not drained: backlog
 * N`, so an operator could walk away from a primary that refuses every write: it must say so.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { api, createVault, provisionPair, runCommercial, waitFor } from '../kit/pop.js';

test('a drain that times out says the POP is still draining and how to end it; resume ends it', async (t) => {
  const pair = await provisionPair();
  t.after(() => pair.stop());
  const { primary } = pair; // the backup is never started: the backlog cannot drain
  await primary.start();
  const P = primary.url;
  const { owner } = await createVault(P, primary.adminToken());
  await waitFor('the primary takes writes', async () => (await api(P, 'POST', '/api/entries', { token: owner, body: { title: 'kept' } })).status === 201);
  const admin = ['--url', P, '--admin-token-file', join(primary.dataDir, 'admin.token')];

  const drain = await runCommercial(['drain', ...admin, '--timeout-seconds', '1']);
  assert.equal(drain.code, 1, drain.stdout + drain.stderr);
  assert.match(drain.stdout, /^not drained: backlog [1-9]\d* \(role primary\)/);
  assert.match(drain.stdout, /still draining: client writes are refused \(CV-5008\) until you run clavitor-commercial resume/);
  const refused = await api(P, 'POST', '/api/entries', { token: owner, body: { title: 'refused' } });
  assert.deepEqual([refused.status, refused.json?.error?.code], [503, 'CV-5008'], 'what the message says is true');

  const resumed = await runCommercial(['resume', ...admin]);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.equal((await api(P, 'POST', '/api/entries', { token: owner, body: { title: 'after' } })).status, 201);
});
