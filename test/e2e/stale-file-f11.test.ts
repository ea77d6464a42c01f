/**
 * Case F11 (issue 11 item 2; DESIGN.md §4.5 "No self-promotion over a live primary"): calgary-01 is
 * demoted cleanly by SIGHUP, zurich-01 is promoted (epoch 2) and takes writes, then calgary is
 * killed and restarted with its old file saying `role: primary`. It must not promote itself over a
 * peer that answers as an unfenced primary: no client write accepted (503 CV-5017), the reason in
 * its start-up line, status (`hold`) and an alert (metric and error log with the code); zurich
 * stays primary, unfenced. The operator then demotes zurich: calgary's re-check lets it proceed.
 * The same holds for a promotion by SIGHUP while the peer is a live primary, and the explicit
 * override `clavitor-commercial promote --force` is logged.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { api, runCommercial, waitFor, type Pair } from '../kit/pop.js';
import { promoteByFile, vaultOnPair, writeReplicated } from '../kit/pair.js';

const entry = (title: string) => ({ title, fields: [{ label: 'n', value: title }] });

/** Clean switchover calgary → zurich by SIGHUP (demote first); returns zurich's epoch. */
async function switchToZurich(pair: Pair): Promise<number> {
  const { primary: calgary, backup: zurich } = pair;
  pair.writeConfig('primary', pair.yamlFor('primary', 'backup'));
  calgary.signal('SIGHUP');
  await waitFor('calgary demoted', async () => (await calgary.status()).role === 'backup');
  await promoteByFile(pair, 'backup');
  return (await zurich.status()).epoch as number;
}

async function metric(url: string, token: string, line: RegExp): Promise<string | undefined> {
  const r = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
  return (await r.text()).split('\n').find((l) => line.test(l));
}

test('F11: a POP restarted with a stale primary file never promotes itself over a live primary; it waits for the operator', async (t) => {
  const { pair, calgary, zurich, C, Z, owner } = await vaultOnPair(t);
  await writeReplicated(calgary, owner, entry('epoch-1'));

  const zEpoch = await switchToZurich(pair);
  assert.equal(zEpoch, 2);
  const onZurich = await api(Z, 'POST', '/api/entries', { token: owner, body: entry('on-zurich') });
  assert.equal(onZurich.status, 201);
  await waitFor('zurich replicated to calgary', async () => (await zurich.status()).replication.backlog === 0);

  // Configuration management restores calgary's old file; calgary is killed and restarted.
  await calgary.kill('SIGKILL');
  pair.writeConfig('primary', pair.yamlFor('primary', 'primary'));
  await calgary.start();

  const cs = await calgary.status();
  assert.equal(cs.epoch, zEpoch, 'calgary did not promote itself to a new epoch');
  assert.equal(cs.accepting_writes, false);
  assert.equal(cs.role, 'fenced');
  assert.equal(cs.hold?.reason, 'peer_is_primary');
  assert.equal(cs.hold?.code, 'CV-5017');
  assert.equal(cs.hold?.peer?.pop_id, 'zurich-01');
  const lines = calgary.stdout.trimEnd().split('\n');
  assert.equal(lines[0], 'Commercial edition: primary POP, replicating to zurich-01');
  assert.match(lines[1] ?? '', /^Refusing client writes: CV-5017: .*zurich-01 answers as a live primary in epoch 2/);
  const alertLog = calgary.logLines().filter((l) => l.event === 'pop.peer_is_primary');
  assert.equal(alertLog.length, 1);
  assert.equal(alertLog[0]!.code, 'CV-5017');
  assert.ok(await metric(C, calgary.adminToken(), /^clavitor_replication_alerts_total\{reason="peer_is_primary"\} 1$/), 'alert metric');

  const refused = await api(C, 'POST', '/api/entries', { token: owner, body: entry('refused') });
  assert.equal(refused.status, 503);
  assert.equal(refused.json.error.code, 'CV-5017');
  assert.equal(refused.headers.get('x-primary-location'), `http://127.0.0.1:${zurich.port}`);

  // zurich stays the one unfenced primary and keeps taking writes.
  const zs = await zurich.status();
  assert.equal(zs.role, 'primary');
  assert.equal(zs.epoch, zEpoch);
  assert.equal((await api(Z, 'POST', '/api/entries', { token: owner, body: entry('still-zurich') })).status, 201);
  assert.equal((await zurich.status()).role, 'primary');

  // The operator demotes zurich first; its hello lets calgary re-check and proceed, above epoch 2.
  pair.writeConfig('backup', pair.yamlFor('backup', 'backup'));
  zurich.signal('SIGHUP');
  await waitFor('zurich demoted', async () => (await zurich.status()).role === 'backup');
  await waitFor('calgary promoted after the re-check', async () => (await calgary.status()).accepting_writes === true);
  const after = await calgary.status();
  assert.equal(after.role, 'primary');
  assert.equal(after.hold, null);
  assert.ok(after.epoch > zEpoch, `calgary epoch ${after.epoch}`);
  const onCalgary = await api(C, 'POST', '/api/entries', { token: owner, body: entry('calgary-again') });
  assert.equal(onCalgary.status, 201);
  await waitFor('calgary replicated to zurich', async () => (await api(Z, 'GET', `/api/entries/${onCalgary.json.id}`, { token: owner })).status === 200, 20000);
  assert.equal((await api(C, 'GET', `/api/entries/${onZurich.json.id}`, { token: owner })).status, 200, 'the write zurich replicated is kept');
});

test('F11 by SIGHUP: a backup told to be primary while its peer is a live primary holds; promote --force is the logged override', async (t) => {
  const { pair, calgary, zurich, C, Z, owner } = await vaultOnPair(t);
  // The vault reaches zurich before the switch: a revision still in calgary's backlog at its
  // demotion would be quarantined there, and whether zurich's resync then pushes to calgary (and
  // so whether calgary learns epoch 2 before the reload) would depend on that race.
  await waitFor('replicated', async () => (await calgary.status()).replication.backlog === 0);
  const zEpoch = await switchToZurich(pair);
  const epochBefore = (await calgary.status()).epoch as number;

  // calgary, a running backup, is reloaded with role primary while zurich is a live primary.
  const refusedForce = await runCommercial(['promote', '--force', '--url', C, '--admin-token-file', join(calgary.dataDir, 'admin.token')]);
  assert.equal(refusedForce.code, 2, 'nothing to force yet');
  assert.match(refusedForce.stderr, /CV-5021/);
  pair.writeConfig('primary', pair.yamlFor('primary', 'primary'));
  calgary.signal('SIGHUP');
  await waitFor('calgary held', async () => (await calgary.status()).hold?.reason === 'peer_is_primary');
  const cs = await calgary.status();
  assert.equal(cs.epoch, epochBefore, 'a hold raises no epoch (unlike a promotion or a fence)');
  assert.ok(cs.epoch <= zEpoch);
  assert.equal(cs.accepting_writes, false);
  assert.equal((await api(C, 'POST', '/api/entries', { token: owner, body: entry('refused') })).json.error.code, 'CV-5017');
  assert.equal((await zurich.status()).role, 'primary', 'zurich not fenced');

  const noForce = await runCommercial(['promote', '--url', C, '--admin-token-file', join(calgary.dataDir, 'admin.token')]);
  assert.notEqual(noForce.code, 0);
  assert.equal((await calgary.status()).accepting_writes, false);

  const forced = await runCommercial(['promote', '--force', '--url', C, '--admin-token-file', join(calgary.dataDir, 'admin.token')]);
  assert.equal(forced.code, 0, forced.stdout + forced.stderr);
  await waitFor('calgary promoted by the override', async () => (await calgary.status()).accepting_writes === true);
  assert.ok((await calgary.status()).epoch > zEpoch);
  const logged = calgary.logLines().filter((l) => l.event === 'pop.force_promoted');
  assert.equal(logged.length, 1, 'the override is logged');
  const w = await api(C, 'POST', '/api/entries', { token: owner, body: entry('forced') });
  assert.equal(w.status, 201);
  await waitFor('zurich fenced by calgary\'s first push', async () => (await zurich.status()).role === 'fenced', 20000);
  assert.equal((await api(Z, 'POST', '/api/entries', { token: owner, body: entry('zurich-late') })).json.error.code, 'CV-5002');
});
