/**
 * Issue 15 item 4, end to end on a POP pair: the owner's history shows old values (decrypted, and
 * masked by the CLI unless --reveal); `restore --version N` writes a new revision equal to version
 * N (If-Match respected); a deleted entry is listed in the trash and undeleted. Restore and
 * undelete are plain entry revisions: they replicate to the backup, and the backup refuses them
 * with 503 like every write (DESIGN.md §4.3).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { api, createVault, runningPair, tempDir, waitFor } from '../kit/pop.js';
import { runCli, type CliResult } from '../kit/cli.js';

type Field = { label: string; value?: string; tier: string };

test('history shows old values; restore and undelete replicate to the backup, which refuses them', async (t) => {
  const pair = await runningPair(t);
  const home = tempDir('clavitor-history-');
  t.after(() => home.cleanup());
  const P = pair.primary.url;
  const B = pair.backup.url;
  const { owner } = await createVault(P, pair.primary.adminToken());
  const cli = (server: string, ...args: string[]) => runCli(['--server', server, ...args], { env: { CLAVITOR_TOKEN: owner, XDG_CONFIG_HOME: home.dir } });
  const ok = (r: CliResult): string => {
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  };

  const v1 = await api(P, 'POST', '/api/entries', { token: owner, body: { title: 'github', fields: [{ label: 'user', value: 'octo', tier: 'agent' }, { label: 'password', value: 'first-pw' }] } });
  assert.equal(v1.status, 201);
  const id: string = v1.json.id;
  const v2 = await api(P, 'PUT', `/api/entries/${id}`, { token: owner, headers: { 'if-match': `"${v1.json.version}"` }, body: { title: 'github', fields: [{ label: 'user', value: 'octo', tier: 'agent' }, { label: 'password', value: 'second-pw' }] } });
  assert.equal(v2.status, 200);

  // History with values (API), oldest first.
  const h = await api(P, 'GET', `/api/entries/${id}/revisions`, { token: owner });
  assert.equal(h.status, 200);
  assert.equal(h.headers.get('cache-control'), 'no-store');
  const puts = (h.json.revisions as { seq: number; kind: string; entry?: { fields: Field[] } }[]).filter((r) => r.kind === 'entry.put');
  assert.equal(puts.length, 2);
  assert.deepEqual(puts.map((r) => r.entry!.fields.find((f) => f.label === 'password')!.value), ['first-pw', 'second-pw']);

  // CLI history masks values unless --reveal.
  const masked = ok(await cli(P, 'history', id));
  assert.ok(!masked.includes('first-pw') && masked.includes('********'), masked);
  const revealed = ok(await cli(P, 'history', id, '--reveal'));
  assert.ok(revealed.includes('first-pw') && revealed.includes('second-pw'), revealed);

  // Restore with a stale If-Match is a conflict; nothing written.
  const stale = await api(P, 'POST', `/api/entries/${id}/restore`, { token: owner, headers: { 'if-match': `"${v1.json.version}"` }, body: { version: v1.json.version } });
  assert.equal(stale.status, 409);
  assert.equal(stale.json.error.code, 'CV-4001');
  // A version that is not a value of this entry.
  const wrong = await api(P, 'POST', `/api/entries/${id}/restore`, { token: owner, body: { version: 1 } });
  assert.equal(wrong.status, 422);
  assert.equal(wrong.json.error.code, 'CV-4040');

  // CLI restore --version N: a new revision equal to version N.
  ok(await cli(P, 'restore', id, '--version', String(v1.json.version)));
  const now = await api(P, 'GET', `/api/entries/${id}`, { token: owner });
  assert.ok(now.json.version > v2.json.version);
  assert.deepEqual(now.json.fields.map((f: Field) => [f.label, f.value, f.tier]), [['user', 'octo', 'agent'], ['password', 'first-pw', 'owner']]);
  await waitFor('restore reaches the backup', async () => {
    const r = await api(B, 'GET', `/api/entries/${id}`, { token: owner });
    return r.status === 200 && r.json.version === now.json.version && r.json.fields[1].value === 'first-pw';
  });

  // The backup refuses restore and undelete like every write.
  const onBackup = await api(B, 'POST', `/api/entries/${id}/restore`, { token: owner, body: { version: v2.json.version } });
  assert.equal(onBackup.status, 503);
  assert.equal(onBackup.json.error.code, 'CV-5001');
  const cliOnBackup = await cli(B, 'restore', id, '--version', String(v2.json.version));
  assert.equal(cliOnBackup.code, 5, cliOnBackup.stderr);

  // Delete → trash (on both POPs) → undelete on the primary → live on the backup.
  ok(await cli(P, 'rm', id));
  const live = await api(P, 'POST', '/api/entries', { token: owner, body: { title: 'still-here' } });
  assert.equal(live.status, 201);
  const trash = await api(P, 'GET', '/api/trash', { token: owner });
  assert.equal(trash.status, 200);
  assert.deepEqual(trash.json.trash.map((x: { id: string; title: string }) => [x.id, x.title]), [[id, 'github']]);
  await waitFor('the backup lists the deleted entry in its trash', async () => {
    const r = await api(B, 'GET', '/api/trash', { token: owner });
    return r.status === 200 && r.json.trash.length === 1 && r.json.trash[0].id === id;
  });
  assert.equal((await api(B, 'GET', `/api/entries/${id}`, { token: owner })).status, 404);
  assert.ok(ok(await cli(B, 'trash')).includes('github'));
  const again = await api(P, 'POST', `/api/entries/${live.json.id}/restore`, { token: owner, body: {} });
  assert.equal(again.json.error.code, 'CV-4041', 'a live entry cannot be undeleted');
  assert.equal((await cli(B, 'undelete', id)).code, 5, 'the backup refuses an undelete');
  ok(await cli(P, 'undelete', 'github'));
  const back = await waitFor('undelete reaches the backup', async () => {
    const r = await api(B, 'GET', `/api/entries/${id}`, { token: owner });
    return r.status === 200 ? r.json : undefined;
  });
  assert.deepEqual(back.fields.map((f: Field) => f.value), ['octo', 'first-pw']);
  assert.equal((await api(B, 'GET', '/api/trash', { token: owner })).json.trash.length, 0);
  assert.ok(ok(await cli(P, 'trash')).length === 0);

  // Agents see neither history nor trash.
  const agent = await api(P, 'POST', '/api/agents', { token: owner, body: { name: 'bot', scopes: [id] } });
  assert.equal(agent.status, 201);
  assert.equal((await api(P, 'GET', `/api/entries/${id}/revisions`, { token: agent.json.token })).status, 403);
  assert.equal((await api(P, 'GET', '/api/trash', { token: agent.json.token })).status, 403);
  assert.equal((await api(P, 'POST', `/api/entries/${id}/restore`, { token: agent.json.token, body: { version: v2.json.version } })).status, 403);
});
