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
import { api, waitFor } from '../kit/pop.js';
import { forcePromoteBackup, vaultOnPair, writeReplicated } from '../kit/pair.js';

const entry = (title: string) => ({ title, fields: [{ label: 'password', value: `pw-${title}` }] });

test('a POP fenced by its peer\'s higher epoch refuses writes with CV-5002 and X-Primary-Location of that peer', async (t) => {
  const { pair, calgary, C, Z, owner } = await vaultOnPair(t);
  await writeReplicated(calgary, owner, entry('first'));

  await forcePromoteBackup(pair);
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
