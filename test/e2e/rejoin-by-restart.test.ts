/**
 * Found with the chaos harness (issue 8, nemesis kind `failover-restart`): DESIGN.md §4.5 lets the
 * operator change roles by editing the YAML files "and send SIGHUP, or restart". After an unplanned
 * failover the operator edits the old primary's file to `role: backup` while it is down and starts
 * it. Started that way it must rejoin exactly as a SIGHUP demotion does (§4.4.7): the writes its
 * successor never acknowledged go to quarantine and it follows the new primary's stream — not keep
 * them in its vault files where the successor's revisions at the same positions are refused as a
 * divergence (CV-5010) for ever.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { api, runCommercial, waitFor } from '../kit/pop.js';
import { promoteByFile, vaultOnPairBehindProxy, writeReplicated } from '../kit/pair.js';

const entry = (title: string) => ({ title, fields: [{ label: 'n', value: title }] });

test('an old primary restarted with a backup file quarantines its unacknowledged writes and follows the new primary', async (t) => {
  const { pair, calgary, zurich, C, Z, proxy, owner } = await vaultOnPairBehindProxy(t);
  await writeReplicated(calgary, owner, entry('replicated'));
  proxy.setMode('refuse');
  const unacked = await api(C, 'POST', '/api/entries', { token: owner, body: entry('unacked') });
  assert.equal(unacked.status, 201);
  await calgary.kill('SIGKILL');

  // Failover to zurich, which takes a write at the position calgary's unacknowledged one holds.
  await promoteByFile(pair, 'backup');
  const onZurich = await api(Z, 'POST', '/api/entries', { token: owner, body: entry('zurich') });
  assert.equal(onZurich.status, 201);
  assert.equal(onZurich.json.version, unacked.json.version, 'same position in the vault log');

  // The operator edits calgary's file to backup while it is down, then starts it.
  proxy.setMode('forward');
  pair.writeConfig('primary', pair.yamlFor('primary', 'backup'));
  await calgary.start();
  assert.equal((await calgary.status()).role, 'backup');
  await waitFor('zurich drained to calgary', async () => (await zurich.status()).replication.backlog === 0, 20000);
  assert.equal((await api(C, 'GET', `/api/entries/${onZurich.json.id}`, { token: owner })).status, 200, 'calgary follows the new primary');
  assert.equal((await api(C, 'GET', `/api/entries/${unacked.json.id}`, { token: owner })).status, 404, 'set aside, not merged');
  const q = await runCommercial(['quarantine', 'list', '--data', calgary.dataDir, '--json']);
  assert.deepEqual((JSON.parse(q.stdout) as { subject: string }[]).map((r) => r.subject), [unacked.json.id]);
  const v = await runCommercial(['verify', '--primary', Z, '--backup', C, '--token-file', pair.keyFile]);
  assert.equal(v.code, 0, v.stdout + v.stderr);
});
