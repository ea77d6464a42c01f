/**
 * Issue 6 items 6 and 7, end to end: `clavitor-cli` against a real POP pair (two
 * clavitor-commercial processes on loopback). An agent created on the primary reads its entry on
 * the backup; a write sent to the backup fails with exit status 5 naming the primary; a lockdown
 * earned on the primary, the owner's unlock and a revocation all reach the backup; each POP's
 * audit chain verifies, and the backup's trail holds the reads it served.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { waitFor } from '../kit/pop.js';
import { ownerCliOnPair, runCli } from '../kit/cli.js';

test('the CLI drives a POP pair: agents, lockdown, unlock and revocation replicate', async (t) => {
  const { pair, P, B, owner, ok } = await ownerCliOnPair(t, 'clavitor-cli-e2e-');

  ok(await owner('--server', P, 'vault', 'create', '--admin-token-file', join(pair.primary.dataDir, 'admin.token'), '--save'));
  const id = ok(await owner('put', '--title', 'deploy-key', '--agent-field', 'key=ssh-ed25519 AAAA-deploy', '--field', 'note=owner only')).trim();
  const other = ok(await owner('put', '--title', 'payroll', '--agent-field', 'pw=p4y')).trim();
  const [agentId, agentToken] = ok(await owner('agent', 'add', 'ci-bot', '--scope', 'deploy-key', '--per-minute', '1', '--per-hour', '5')).trim().split('\t') as [string, string];
  const agent = (server: string, ...args: string[]) => runCli(['--server', server, ...args], { env: { CLAVITOR_TOKEN: agentToken } });

  const onBackup = await waitFor('agent reads its entry on the backup', async () => {
    const r = await agent(B, 'get', id, '--field', 'key');
    return r.code === 0 ? r.stdout : undefined;
  });
  assert.equal(onBackup, 'ssh-ed25519 AAAA-deploy\n');
  const json = JSON.parse(ok(await agent(B, '--json', 'get', id)));
  assert.deepEqual(json.fields.map((f: { label: string; value?: string; redacted?: boolean }) => [f.label, f.value ?? 'redacted']), [['key', 'ssh-ed25519 AAAA-deploy'], ['note', 'redacted']]);
  // Issue 14 item 2: an agent lists exactly its scope, on the backup too.
  const listByAgent = ok(await agent(B, 'list'));
  assert.deepEqual(listByAgent.trim().split('\n').map((l) => [l.split('\t')[0], l.split('\t')[3]]), [[id, 'deploy-key']]);

  const writeOnBackup = await owner('--server', B, 'put', '--title', 'nope');
  assert.equal(writeOnBackup.code, 5);
  assert.match(writeOnBackup.stderr, /CV-5001/);
  assert.ok(writeOnBackup.stderr.includes(`the primary is at ${P}`), writeOnBackup.stderr);

  // Lockdown earned on the primary (limit 1 distinct entry per minute there).
  ok(await agent(P, 'get', id));
  const breach = await agent(P, 'get', other);
  assert.equal(breach.code, 3);
  assert.match(breach.stderr, /CV-2009/);
  const lock = await agent(P, 'get', other);
  assert.equal(lock.code, 3);
  assert.match(lock.stderr, /CV-2010/);
  await waitFor('the lock reaches the backup', async () => /CV-2010/.test((await agent(B, 'get', id)).stderr));
  assert.match(ok(await owner('--server', B, 'agent', 'ls')), new RegExp(`${agentId}\tci-bot\tLOCKED\t1/min 5/h\t${id}`));
  assert.equal((await owner('--server', B, 'agent', 'unlock', agentId)).code, 5, 'unlock is a write');

  ok(await owner('agent', 'unlock', agentId));
  await waitFor('the unlock reaches the backup', async () => (await agent(B, 'get', id, '--field', 'key')).code === 0);

  ok(await owner('agent', 'revoke', agentId));
  const revoked = await waitFor('the revocation reaches the backup', async () => {
    const r = await agent(B, 'get', id);
    return r.code === 3 ? r : undefined;
  });
  assert.match(revoked.stderr, /CV-2002/);

  for (const server of [P, B]) assert.match(ok(await owner('--server', server, 'audit', 'verify')), /^audit chain intact: \d+ records\n$/);
  const backupTrail = JSON.parse(ok(await owner('--server', B, '--json', 'audit'))) as { actor: string; action: string; outcome: string; code: string | null }[];
  const mine = backupTrail.filter((r) => r.actor === `agent:${agentId}`);
  assert.ok(mine.some((r) => r.action === 'entry.read' && r.outcome === 'ok'), 'reads served by the backup are audited there');
  assert.ok(mine.some((r) => r.code === 'CV-2010'), 'and so are its refusals of the locked agent');
  assert.ok(mine.some((r) => r.action === 'auth' && r.code === 'CV-2004'), 'and the revoked token\'s use');
});
