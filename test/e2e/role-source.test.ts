/**
 * Issue 11 item 7: after an automatic failover (control-plane promote directive) the files and the
 * running roles disagree. No role change may happen that the operator did not ask for: removing
 * the `control_plane` block and sending SIGHUP keeps the running role (it does not apply the stale
 * file role), and status (`role_source`, `file_role`), the start-up lines and the logs (CV-5020)
 * say where the running role comes from, until the operator makes the file agree.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { api, createVault, waitFor, type ServerProc } from '../kit/pop.js';
import { pairUnderControl } from '../kit/pair.js';

const entry = (title: string) => ({ title, fields: [{ label: 'n', value: title }] });
const reloads = (p: ServerProc): number => p.logLines().filter((l) => l.event === 'pop.reloaded').length;

test('after a control-plane failover, removing the control_plane block and SIGHUP keep the running role, and every view says where it comes from', async (t) => {
  const { pair } = await pairUnderControl(t);
  const { primary: calgary, backup: zurich } = pair;
  await zurich.start();
  await calgary.start();
  const before = await zurich.status();
  assert.equal(before.role_source, 'file');
  assert.equal(before.file_role, 'backup');
  const { owner } = await createVault(calgary.url, calgary.adminToken());
  await waitFor('vault replicated', async () => (await calgary.status()).replication.backlog === 0);

  // Automatic failover: calgary dies, the control plane promotes zurich.
  await calgary.kill('SIGKILL');
  await waitFor('zurich promoted by the control plane', async () => (await zurich.status()).role === 'primary', 30000);
  const promoted = await zurich.status();
  assert.equal(promoted.role_source, 'control_plane');
  assert.equal(promoted.file_role, 'backup');

  // The operator removes the control_plane block (file still says backup) and sends SIGHUP.
  const n = reloads(zurich);
  pair.writeConfig('backup', pair.yamlFor('backup', 'backup'));
  zurich.signal('SIGHUP');
  await waitFor('reload applied', () => reloads(zurich) > n);
  const kept = await zurich.status();
  assert.equal(kept.role, 'primary', 'no role change nobody asked for');
  assert.equal(kept.role_source, 'control_plane');
  assert.equal(kept.file_role, 'backup');
  assert.equal(kept.control_plane, null);
  const warn = zurich.logLines().filter((l) => l.event === 'pop.role_from_control_plane');
  assert.ok(warn.length >= 1, 'the disagreement is logged');
  assert.equal(warn.at(-1)!.code, 'CV-5020');
  await waitFor('zurich takes writes', async () => (await zurich.status()).accepting_writes === true);
  assert.equal((await api(zurich.url, 'POST', '/api/entries', { token: owner, body: entry('kept') })).status, 201);

  // A restart keeps it too, and the start-up lines say the role and where it comes from.
  await zurich.kill('SIGKILL');
  await zurich.start();
  const lines = zurich.stdout.trimEnd().split('\n');
  assert.equal(lines[0], 'Commercial edition: primary POP, replicating to calgary-01');
  assert.match(lines[1] ?? '', /^Role from the control plane: running as primary; replication\.yaml says backup \(CV-5020/);
  assert.equal((await zurich.status()).role, 'primary');

  // The operator makes the file agree: the role now comes from the file, and the start-up line is plain.
  const m = reloads(zurich);
  pair.writeConfig('backup', pair.yamlFor('backup', 'primary'));
  zurich.signal('SIGHUP');
  await waitFor('reload applied', () => reloads(zurich) > m);
  const agreed = await zurich.status();
  assert.equal(agreed.role, 'primary');
  assert.equal(agreed.role_source, 'file');
  assert.equal(agreed.file_role, 'primary');
  await zurich.kill('SIGKILL');
  await zurich.start();
  assert.equal(zurich.stdout, 'Commercial edition: primary POP, replicating to calgary-01\n');
});
