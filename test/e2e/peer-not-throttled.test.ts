/**
 * Issue 13 §2: 31 bad tokens sent from the address the primary pushes from (a shared NAT or
 * proxy) made the backup refuse the primary's pushes with 429 for 60 s. A peer presenting a valid
 * replication token is never throttled by other clients' failures; the guessing clients still are.
 * Two real POP processes on loopback (the primary pushes from 127.0.0.1, as the guesser does).
 * Run: npm run build && node --import tsx --test --test-reporter=spec test/e2e/peer-not-throttled.test.ts
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent } from 'undici';
import { api, createVault, runningPair, waitFor } from '../kit/pop.js';

/** Failures allowed per address before it is blocked (src/http/auth-throttle.ts default: 30 per 60 s). */
const MAX_FAILURES = 30;

test('bad tokens from the primary\'s address block the guesser, never the primary\'s pushes', async (t) => {
  const pair = await runningPair(t);
  const { owner } = await createVault(pair.primary.url, pair.primary.adminToken());
  await waitFor('vault replicated', async () => (await pair.primary.status()).replication.backlog === 0);

  const bad = 'clavitor-pop-v1-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
  for (let i = 0; i <= MAX_FAILURES; i++) {
    const r = i % 2 === 0
      ? await api(pair.backup.url, 'POST', '/replication/v1/hello', { token: bad, body: {} })
      : await api(pair.backup.url, 'GET', '/api/entries', { token: `${owner}x` });
    assert.equal(r.status, 401, `failure ${i + 1}`);
  }
  const guesser = await api(pair.backup.url, 'GET', '/api/entries', { token: owner });
  assert.equal(guesser.status, 429, 'the address is blocked for ordinary clients');
  assert.equal(guesser.json.error.code, 'CV-2006');

  const created = await api(pair.primary.url, 'POST', '/api/entries', { token: owner, body: { title: 'after the guesses' } });
  assert.equal(created.status, 201);
  const st = await waitFor('the push reaches the blocked address\'s backup', async () => {
    const s = await pair.primary.status();
    return s.replication.backlog === 0 && s.replication.state === 'idle' ? s : undefined;
  });
  assert.equal(st.replication.backlog, 0);
  const refused = pair.primary.logLines().filter((l) => JSON.stringify(l).includes('429'));
  assert.deepEqual(refused, [], 'no push was refused with 429');
  // Looked at from another address (127.0.0.1 is blocked for ordinary clients for 60 s).
  const elsewhere = new Agent({ localAddress: '127.0.0.3' });
  t.after(() => elsewhere.close());
  const onBackup = await api(pair.backup.url, 'GET', `/api/entries/${created.json.id}`, { token: owner, dispatcher: elsewhere });
  assert.equal(onBackup.status, 200, 'the entry is on the backup');
  assert.equal(onBackup.json.title, 'after the guesses');
});
