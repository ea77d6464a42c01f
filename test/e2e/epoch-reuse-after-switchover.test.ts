/**
 * Found by the chaos harness (issue 8, check b "no two POPs accepted writes in the same epoch"):
 * a planned switchover calgary → zurich, after which zurich takes writes in epoch 2 but cannot
 * reach calgary (the link into calgary is down), then zurich crashes and the operator fails over
 * back to calgary. Calgary had never heard of epoch 2: promotion as "highest seen + 1" gave it
 * epoch 2 again, so two POPs wrote in epoch 2 (DESIGN.md §4.5: "Two POPs never accept client
 * writes in the same epoch"), and zurich's restart with its old file was fenced only by the
 * same-epoch tie rule. A demoted primary knows its successor is promoted to at least its epoch + 1,
 * so it must never reuse that epoch when it is promoted itself.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { api, createVault, provisionPair, runCommercial, waitFor } from '../kit/pop.js';
import { promoteByFile } from '../kit/pair.js';
import { startProxy } from '../kit/tcp-proxy.js';

const entry = (title: string) => ({ title, fields: [{ label: 'n', value: title }] });

test('a POP promoted back after a switchover whose successor it never heard from takes a new epoch', async (t) => {
  const pair = await provisionPair();
  const { primary: calgary, backup: zurich } = pair;
  const intoCalgary = await startProxy(calgary.port);
  t.after(async () => {
    await pair.stop();
    await intoCalgary.close();
  });
  // Zurich, once primary, reaches calgary through the proxy.
  const zurichAsPrimary = pair.yamlFor('backup', 'primary').replace(`:${calgary.port}"`, `:${intoCalgary.port}"`);
  await zurich.start();
  await calgary.start();
  const C = calgary.url;
  const Z = zurich.url;
  const { owner } = await createVault(C, calgary.adminToken());
  assert.equal((await api(C, 'POST', '/api/entries', { token: owner, body: entry('epoch-1') })).status, 201);

  // Planned switchover; the link into calgary goes down as zurich is promoted.
  const drain = await runCommercial(['drain', '--url', C, '--admin-token-file', join(calgary.dataDir, 'admin.token')]);
  assert.equal(drain.code, 0, drain.stdout + drain.stderr);
  intoCalgary.setMode('refuse');
  pair.writeConfig('primary', pair.yamlFor('primary', 'backup'));
  calgary.signal('SIGHUP');
  await waitFor('calgary demoted', async () => (await calgary.status()).role === 'backup');
  pair.writeConfig('backup', zurichAsPrimary);
  zurich.signal('SIGHUP');
  await waitFor('zurich promoted', async () => (await zurich.status()).accepting_writes === true);
  const zEpoch = (await zurich.status()).epoch;
  const onZurich = await api(Z, 'POST', '/api/entries', { token: owner, body: entry('zurich-unpushed') });
  assert.equal(onZurich.status, 201);

  // Zurich crashes before it could push; the operator fails over back to calgary.
  await zurich.kill('SIGKILL');
  await promoteByFile(pair, 'primary');
  const cEpoch = (await calgary.status()).epoch;
  assert.ok(cEpoch > zEpoch, `calgary promoted to epoch ${cEpoch}, but zurich already wrote in epoch ${zEpoch}`);
  const onCalgary = await api(C, 'POST', '/api/entries', { token: owner, body: entry('calgary-after') });
  assert.equal(onCalgary.status, 201);

  // Zurich returns with its old file: fenced by the higher epoch; demoted, its write is quarantined.
  intoCalgary.setMode('forward');
  await zurich.start();
  assert.equal((await zurich.status()).role, 'fenced');
  pair.writeConfig('backup', pair.yamlFor('backup', 'backup'));
  zurich.signal('SIGHUP');
  await waitFor('zurich demoted', async () => (await zurich.status()).role === 'backup');
  await waitFor('calgary drained to zurich', async () => (await calgary.status()).replication.backlog === 0, 30000);
  const q = await runCommercial(['quarantine', 'list', '--data', zurich.dataDir, '--json']);
  assert.deepEqual((JSON.parse(q.stdout) as { subject: string; epoch: number }[]).map((r) => [r.subject, r.epoch]), [[onZurich.json.id, zEpoch]]);
  const history = (await api(C, 'GET', `/api/entries/${onCalgary.json.id}/revisions`, { token: owner })).json.revisions as { epoch: number; origin_pop: string }[];
  assert.deepEqual(history.map((r) => [r.epoch, r.origin_pop]), [[cEpoch, 'calgary-01']]);
  assert.equal((await runCommercial(['verify', '--primary', C, '--backup', Z, '--token-file', pair.keyFile])).code, 0);
});
