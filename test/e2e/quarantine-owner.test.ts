/**
 * Issue 11 item 8, end to end (DESIGN.md §4.4.7 "Rejoin without loss"): quarantine lists only what
 * the successor does not hold, and the vault owner can read and restore it.
 *
 * calgary-01 (primary) replicates to zurich-01 through a TCP proxy. Write A reaches zurich but its
 * acknowledgement is lost (the proxy drops replies); write B never reaches zurich (the link is
 * refused). Both stay in calgary's backlog. calgary is killed, zurich promoted (epoch 2) and
 * written to; calgary is restarted with a backup file: it quarantines A and B at demotion — the
 * peer was unreachable then — and when zurich streams A back byte-identically, A leaves the
 * quarantine listings (marked held). The owner reads B decrypted on calgary (`GET
 * /api/quarantine`, `clavitor-cli quarantine list`) and restores it with `clavitor-cli quarantine
 * restore`, which writes it on zurich (the location calgary announces); once that replicates back,
 * calgary reports the item `restored`, and `verify` finds the POPs identical.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { api, runCommercial, waitFor } from '../kit/pop.js';
import { promoteByFile, vaultOnPairBehindProxy } from '../kit/pair.js';
import { runCli } from '../kit/cli.js';

const entry = (title: string) => ({ title, fields: [{ label: 'user', value: `u-${title}`, tier: 'agent' }, { label: 'password', value: `pw-${title}`, tier: 'owner' }] });

test('quarantine leaves out what the new primary holds; the owner reads the rest decrypted and restores it on the primary', async (t) => {
  const { pair, calgary, zurich, C, Z, proxy, owner } = await vaultOnPairBehindProxy(t);
  const first = await api(C, 'POST', '/api/entries', { token: owner, body: entry('replicated') });
  assert.equal(first.status, 201);
  const agent = await api(C, 'POST', '/api/agents', { token: owner, body: { name: 'bot', scopes: [first.json.id] } });
  assert.equal(agent.status, 201);
  await waitFor('replicated', async () => (await calgary.status()).replication.backlog === 0);

  // A: applied by zurich, acknowledgement lost. B: never reaches zurich.
  proxy.setMode('drop-replies');
  const a = await api(C, 'POST', '/api/entries', { token: owner, body: entry('held-by-zurich') });
  assert.equal(a.status, 201);
  await waitFor('zurich holds A', async () => (await api(Z, 'GET', `/api/entries/${a.json.id}`, { token: owner })).status === 200, 20000);
  proxy.setMode('refuse');
  const b = await api(C, 'POST', '/api/entries', { token: owner, body: entry('only-on-calgary') });
  assert.equal(b.status, 201);
  assert.equal((await calgary.status()).replication.backlog, 2, 'A and B are both unacknowledged');
  await calgary.kill('SIGKILL');

  await promoteByFile(pair, 'backup');
  const z = await api(Z, 'POST', '/api/entries', { token: owner, body: entry('zurich') });
  assert.equal(z.status, 201);

  proxy.setMode('forward');
  pair.writeConfig('primary', pair.yamlFor('primary', 'backup'));
  await calgary.start();
  await waitFor('zurich drained to calgary', async () => (await zurich.status()).replication.backlog === 0, 20000);
  await waitFor('calgary holds zurich\'s write', async () => (await api(C, 'GET', `/api/entries/${z.json.id}`, { token: owner })).status === 200);
  assert.equal(calgary.logLines().find((l) => l.event === 'pop.demoted')?.quarantined, 2, 'both set aside at demotion');
  assert.equal((await api(C, 'GET', `/api/entries/${a.json.id}`, { token: owner })).status, 200, 'A came back from zurich');
  assert.equal((await api(C, 'GET', `/api/entries/${b.json.id}`, { token: owner })).status, 404, 'B set aside, not merged');

  // Operator view: only B; --all also shows A, marked held.
  const list = await runCommercial(['quarantine', 'list', '--data', calgary.dataDir, '--json']);
  assert.equal(list.code, 0, list.stderr);
  assert.deepEqual((JSON.parse(list.stdout) as { subject: string }[]).map((r) => r.subject), [b.json.id]);
  const all = JSON.parse((await runCommercial(['quarantine', 'list', '--data', calgary.dataDir, '--json', '--all'])).stdout) as { subject: string; heldAt: string | null }[];
  assert.deepEqual(all.map((r) => [r.subject, r.heldAt !== null]), [[a.json.id, true], [b.json.id, false]]);
  assert.ok(calgary.logLines().some((l) => l.event === 'quarantine.held_by_successor' && l.revisions === 1));

  // Owner view on calgary (a backup): B decrypted, with where to write.
  const q = await api(C, 'GET', '/api/quarantine', { token: owner });
  assert.equal(q.status, 200, JSON.stringify(q.json));
  assert.equal(q.headers.get('cache-control'), 'no-store');
  assert.equal(q.json.primary_location, Z);
  assert.equal(q.json.quarantine.length, 1);
  const item = q.json.quarantine[0];
  assert.deepEqual([item.subject, item.kind, item.status, item.restorable, item.epoch], [b.json.id, 'entry.put', 'open', true, 1]);
  assert.equal(item.entry.title, 'only-on-calgary');
  assert.deepEqual(item.entry.fields.map((f: { label: string; tier: string; value: string }) => [f.label, f.tier, f.value]), [['user', 'agent', 'u-only-on-calgary'], ['password', 'owner', 'pw-only-on-calgary']]);
  assert.equal((await api(C, 'GET', `/api/quarantine/${item.id}`, { token: owner })).json.entry.title, 'only-on-calgary');
  assert.equal((await api(C, 'GET', '/api/quarantine', { token: agent.json.token })).status, 403, 'agents cannot read quarantine');

  // The CLI reads on calgary and restores on zurich.
  const env = { CLAVITOR_TOKEN: owner };
  const cliList = await runCli(['--server', C, 'quarantine', 'list'], { env });
  assert.equal(cliList.code, 0, cliList.stderr);
  assert.deepEqual(cliList.stdout.trim().split('\n').map((l) => l.split('\t').slice(0, 6)), [[String(item.id), String(item.seq), 'entry.put', b.json.id, 'open', 'only-on-calgary']]);
  const restored = await runCli(['--server', C, 'quarantine', 'restore', String(item.id)], { env });
  assert.equal(restored.code, 0, restored.stderr);
  const newId = restored.stdout.trim();
  assert.match(restored.stderr, new RegExp(`restored on ${Z.replace(/[.]/g, '\\.')}: created as a new entry`));
  const onZurich = await api(Z, 'GET', `/api/entries/${newId}`, { token: owner });
  assert.equal(onZurich.status, 200);
  assert.deepEqual(onZurich.json.fields.map((f: { label: string; value: string }) => [f.label, f.value]), [['user', 'u-only-on-calgary'], ['password', 'pw-only-on-calgary']]);
  await waitFor('calgary reports the item restored', async () => (await api(C, 'GET', '/api/quarantine', { token: owner })).json.quarantine[0]?.status === 'restored');
  const again = await runCli(['--server', C, '--json', 'quarantine', 'restore', String(item.id)], { env });
  assert.equal(again.code, 0, again.stderr);
  assert.equal(JSON.parse(again.stdout).action, 'already restored', 'a second restore writes nothing');

  const v = await runCommercial(['verify', '--primary', Z, '--backup', C, '--token-file', pair.keyFile]);
  assert.equal(v.code, 0, v.stdout + v.stderr);
});
