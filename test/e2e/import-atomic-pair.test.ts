/**
 * Issue 15, "nothing is half-imported", end to end on a POP pair: an import is ONE request,
 * `POST /api/import`, written in one transaction or not at all (docs/api.md "Import").
 *
 * - `clavitor-cli import` of a file whose 3rd entry the server refuses (a field too large for one
 *   entry: over the 8 MiB a `POST /api/entries` takes) fails with CV-3042 naming that entry, and
 *   creates nothing, on the primary nor on the backup (checked after a later marker write has
 *   replicated: the stream is in order, so anything written before it would be there too).
 *   Before the bulk route the CLI posted entry by entry and left the first two behind.
 * - `POST /api/import` whose 3rd entry breaks a server rule (a totp field without a TOTP secret)
 *   is refused with CV-3041 and `index: 2`, and creates nothing; a dry run writes nothing.
 * - A good import creates every entry with consecutive versions (one group-commit job), parents
 *   resolved, and replicates to the backup, which refuses the import route like every write (503).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { api, createVault, runningPair, tempDir, waitFor } from '../kit/pop.js';
import { runCli } from '../kit/cli.js';

type Listed = { id: string; title: string; parent: string | null; version: number };

test('an import is all or nothing, on the primary and the backup', async (t) => {
  const pair = await runningPair(t);
  const home = tempDir('clavitor-import-atomic-');
  t.after(() => home.cleanup());
  const P = pair.primary.url;
  const B = pair.backup.url;
  const { owner } = await createVault(P, pair.primary.adminToken());
  const auth = { token: owner };
  const titles = async (base: string): Promise<string[]> => ((await api(base, 'GET', '/api/entries', auth)).json.entries as Listed[]).map((e) => e.title).sort();

  // A generic CSV whose 3rd entry has a 9 MiB notes field: larger than one entry may be.
  const big = 'x'.repeat(9 * 1024 * 1024);
  const csv = join(home.dir, 'too-big.csv');
  writeFileSync(csv, `title,folder,password,notes\nfirst,Work,pw-1,\nsecond,Work,pw-2,\nthird,,pw-3,${big}\nfourth,,pw-4,\n`);
  const r = await runCli(['--server', P, 'import', '--from', 'csv', csv], { env: { CLAVITOR_TOKEN: owner, XDG_CONFIG_HOME: home.dir } });
  assert.equal(r.code, 3, r.stderr); // refused by the server (docs/cli.md exit statuses)
  assert.match(r.stderr, /CV-3042.*entries\.3: larger than/);
  assert.match(r.stderr, /"third"/, 'the CLI names the refused entry of the file');
  assert.ok(!r.stderr.includes('pw-'), 'no value in the error');
  assert.deepEqual(await titles(P), [], 'nothing created on the primary');

  // Through the API: the 3rd entry breaks the totp rule; nothing is created, the index is named.
  const entries = [
    { ref: 'f', type: 'folder', title: 'Imported' },
    { ref: 'a', parent_ref: 'f', title: 'alpha', fields: [{ label: 'password', value: 'a-pw' }] },
    { ref: 'b', parent_ref: 'f', title: 'beta', fields: [{ label: 'otp', kind: 'totp', value: 'not a totp secret!' }] },
    { ref: 'c', title: 'gamma', fields: [{ label: 'password', value: 'c-pw', tier: 'agent' }] },
  ];
  const bad = await api(P, 'POST', '/api/import', { ...auth, body: { entries } });
  assert.equal(bad.status, 400);
  assert.equal(bad.json.error.code, 'CV-3041');
  assert.equal(bad.json.error.index, 2);
  assert.match(bad.json.error.message, /^entries\.2: fields\.0\.value: a totp field/);
  assert.deepEqual(await titles(P), []);
  // An unknown parent_ref is refused the same way.
  const orphan = await api(P, 'POST', '/api/import', { ...auth, body: { entries: [{ title: 'x' }, { title: 'y', parent_ref: 'nope' }] } });
  assert.deepEqual([orphan.status, orphan.json.error.code, orphan.json.error.index], [400, 'CV-3041', 1]);

  // The backup holds none of it: a marker written after the refusals replicates, and it is alone there.
  const marker = await api(P, 'POST', '/api/entries', { ...auth, body: { title: 'marker' } });
  assert.equal(marker.status, 201);
  await waitFor('the marker on the backup', async () => (await titles(B)).includes('marker'));
  assert.deepEqual(await titles(B), ['marker'], 'nothing of the refused imports reached the backup');

  // A dry run checks everything and writes nothing.
  entries[2] = { ref: 'b', parent_ref: 'f', title: 'beta', fields: [{ label: 'otp', kind: 'totp', value: 'JBSWY3DPEHPK3PXP' }] };
  const dry = await api(P, 'POST', '/api/import', { ...auth, body: { entries, dry_run: true } });
  assert.deepEqual([dry.status, dry.json], [200, { dry_run: true, would_create: 4 }]);
  assert.deepEqual(await titles(P), ['marker']);

  // The good import: all created, consecutive versions (one job of one group commit), parents resolved.
  const good = await api(P, 'POST', '/api/import', { ...auth, body: { entries } });
  assert.equal(good.status, 201, JSON.stringify(good.json));
  const created = good.json.created as { ref: string; id: string; version: number; title: string }[];
  assert.deepEqual(created.map((c) => c.ref), ['f', 'a', 'b', 'c']);
  const v0 = created[0]!.version;
  assert.deepEqual(created.map((c) => c.version), [v0, v0 + 1, v0 + 2, v0 + 3]);
  const folderId = created[0]!.id;
  const onP = (await api(P, 'GET', '/api/entries', auth)).json.entries as Listed[];
  assert.deepEqual(onP.filter((e) => e.parent === folderId).map((e) => e.title).sort(), ['alpha', 'beta']);
  await waitFor('the import on the backup', async () => (await titles(B)).length === 5);
  assert.deepEqual(await titles(B), ['Imported', 'alpha', 'beta', 'gamma', 'marker']);
  const betaOnB = await api(B, 'GET', `/api/entries/${created[2]!.id}`, auth);
  assert.deepEqual([betaOnB.json.parent, betaOnB.json.fields[0].kind, betaOnB.json.fields[0].value], [folderId, 'totp', 'JBSWY3DPEHPK3PXP']);

  // The backup refuses an import (and the parse step) like every write.
  const onB = await api(B, 'POST', '/api/import', { ...auth, body: { entries: [{ title: 'x' }] } });
  assert.deepEqual([onB.status, onB.json.error.code, onB.headers.get('x-primary-location')], [503, 'CV-5001', P]);
  const parseOnB = await api(B, 'POST', '/api/import/parse', { ...auth, body: { format: 'csv', data: Buffer.from('title\nx\n').toString('base64') } });
  assert.equal(parseOnB.status, 503);
});
