/**
 * A fenced POP names the primary it learnt of (issue 12 item 6; DESIGN.md §4.3: a refused client
 * write carries `X-Primary-Location: <url>` "when known"). calgary-01 is primary; zurich-01 is
 * promoted over it by the logged override (`promote --force`, DESIGN.md §4.5), and zurich's first
 * push in the higher epoch fences calgary. From then on calgary refuses client writes with 503
 * CV-5002 and points the client at zurich, the POP whose push carried the higher epoch, as a backup
 * points at its primary.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { api, createVault, runCommercial, waitFor, runningPair } from '../kit/pop.js';

const entry = (title: string) => ({ title, fields: [{ label: 'password', value: `pw-${title}` }] });

test('a POP fenced by its peer\'s higher epoch refuses writes with CV-5002 and X-Primary-Location of that peer', async (t) => {
  const pair = await runningPair(t);
  const { primary: calgary, backup: zurich } = pair;
  const C = calgary.url;
  const Z = zurich.url;
  const { owner } = await createVault(C, calgary.adminToken());
  assert.equal((await api(C, 'POST', '/api/entries', { token: owner, body: entry('first') })).status, 201);
  await waitFor('replicated', async () => (await calgary.status()).replication.backlog === 0);

  pair.writeConfig('backup', pair.yamlFor('backup', 'primary'));
  zurich.signal('SIGHUP');
  await waitFor('zurich held: calgary is a live primary', async () => (await zurich.status()).hold?.reason === 'peer_is_primary');
  const forced = await runCommercial(['promote', '--force', '--url', Z, '--admin-token-file', join(zurich.dataDir, 'admin.token')]);
  assert.equal(forced.code, 0, forced.stdout + forced.stderr);
  await waitFor('zurich promoted', async () => (await zurich.status()).accepting_writes === true);
  assert.equal((await api(Z, 'POST', '/api/entries', { token: owner, body: entry('zurich') })).status, 201);
  const fenced = await waitFor('calgary fenced', async () => {
    const s = await calgary.status();
    return s.role === 'fenced' ? s : undefined;
  });
  assert.equal(fenced.hold, null, 'fenced by an epoch, not held');
  assert.ok(fenced.seen_epoch > fenced.epoch);

  for (const [verb, path] of [['POST', '/api/entries'], ['POST', '/api/vaults']] as const) {
    const r = await api(C, verb, path, { token: path === '/api/vaults' ? calgary.adminToken() : owner, body: entry('refused') });
    assert.equal(r.status, 503, `${verb} ${path}`);
    assert.equal(r.json.error.code, 'CV-5002', `${verb} ${path}`);
    assert.ok(r.headers.get('retry-after'), 'Retry-After on the refusal');
    assert.equal(r.headers.get('x-primary-location'), Z, 'the fenced POP points at the POP that fenced it');
  }
});
