/**
 * Issue 15 item 5, end to end on a POP pair: a vault created with a recovery code; `owner rotate`
 * on the primary gives a new owner token that reads on both POPs while the old one is refused on
 * both (the `owner.rotate` revision replicates; the keys are the same, wrapped for the new token);
 * the backup refuses a rotation with 503 like every write; the recovery code mints a new owner
 * token once (revoking the rotated one), opens nothing else, and is useless the second time.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { api, runningPair, tempDir, waitFor } from '../kit/pop.js';
import { runCli } from '../kit/cli.js';

test('owner token rotation and recovery replicate; old tokens are useless on both POPs', async (t) => {
  const pair = await runningPair(t);
  const home = tempDir('clavitor-owner-');
  t.after(() => home.cleanup());
  const P = pair.primary.url;
  const B = pair.backup.url;
  const created = await api(P, 'POST', '/api/vaults', { token: pair.primary.adminToken(), body: { recovery_code: true } });
  assert.equal(created.status, 201);
  const first: string = created.json.owner_token;
  const recovery: string = created.json.recovery_code;
  assert.ok(recovery && recovery !== first);
  const e = await api(P, 'POST', '/api/entries', { token: first, body: { title: 'db', fields: [{ label: 'pw', value: 'secret-1', tier: 'owner' }, { label: 'user', value: 'app', tier: 'agent' }] } });
  assert.equal(e.status, 201);
  const agent = await api(P, 'POST', '/api/agents', { token: first, body: { name: 'bot', scopes: [e.json.id] } });
  assert.equal(agent.status, 201);
  const readsOn = async (base: string, token: string) => (await api(base, 'GET', `/api/entries/${e.json.id}`, { token })).status;

  // The recovery code is not an owner token.
  assert.equal(await readsOn(P, recovery), 401);

  // The backup refuses a rotation like every write.
  await waitFor('the entry reaches the backup', async () => (await readsOn(B, first)) === 200);
  const onBackup = await api(B, 'POST', '/api/owner/rotate', { token: first, body: {} });
  assert.equal(onBackup.status, 503);
  assert.equal(onBackup.json.error.code, 'CV-5001');

  // Rotate with the CLI on the primary.
  const cli = (token: string, ...args: string[]) => runCli(['--server', P, ...args], { env: { CLAVITOR_TOKEN: token, XDG_CONFIG_HOME: home.dir } });
  const r = await cli(first, 'owner', 'rotate');
  assert.equal(r.code, 0, r.stderr);
  const second = r.stdout.trim();
  assert.ok(second.startsWith('cvt1.') && second !== first);
  assert.equal(await readsOn(P, first), 401, 'old token refused on the primary at once');
  const view = await api(P, 'GET', `/api/entries/${e.json.id}`, { token: second });
  assert.equal(view.json.fields[0].value, 'secret-1', 'the new token unwraps the same vault key');
  await waitFor('the rotation reaches the backup', async () => (await readsOn(B, second)) === 200);
  assert.equal(await readsOn(B, first), 401, 'old token refused on the backup');
  assert.equal((await api(B, 'GET', `/api/entries/${e.json.id}`, { token: agent.json.token })).json.fields[1].value, 'app', 'agents are not affected');

  // Recover with the recovery code (once): the rotated token is revoked, a new code is issued.
  const codeFile = join(home.dir, 'recovery');
  writeFileSync(codeFile, `${recovery}\n`, { mode: 0o600 });
  const rec = await runCli(['--server', P, 'owner', 'recover', '--recovery-code-file', codeFile], { env: { XDG_CONFIG_HOME: home.dir } });
  assert.equal(rec.code, 0, rec.stderr);
  const [third, newCode] = rec.stdout.trim().split('\t') as [string, string];
  assert.ok(third.startsWith('cvt1.') && newCode.startsWith('cvt1.') && newCode !== recovery);
  assert.equal(await readsOn(P, third), 200);
  assert.equal(await readsOn(P, second), 401, 'recovery revokes every older owner token');
  const reuse = await api(P, 'POST', '/api/owner/recover', { token: recovery, body: {} });
  assert.equal(reuse.status, 401, 'a recovery code works once');
  assert.equal((await api(P, 'POST', '/api/owner/recover', { token: third, body: {} })).status, 401, 'an owner token is not a recovery code');
  await waitFor('the recovery reaches the backup', async () => (await readsOn(B, third)) === 200);
  assert.equal(await readsOn(B, second), 401);
  assert.equal((await api(P, 'POST', '/api/owner/rotate', { token: agent.json.token, body: {} })).status, 403, 'agents cannot rotate the owner token');
});
