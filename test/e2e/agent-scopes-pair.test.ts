/**
 * Issue 14 item 2, end to end on a real POP pair (two clavitor-commercial processes) driven with
 * clavitor-cli: an agent scoped by folder and tag lists and reads exactly its scope on the
 * backup; the owner narrows the scope on the primary (`agent update`) and the backup enforces the
 * new scope from the replicated `agent.update` revision; a token created with a TTL is refused
 * with 401 CV-4030 on both POPs once it has run out (the backup decides from replicated state);
 * the refusals are audited on the POP that served them. Expected codes come from docs/errors.md.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { api, waitFor } from '../kit/pop.js';
import { ownerCliOnPair, runCli } from '../kit/cli.js';

test('scopes by folder and tag, scope changes and TTL expiry replicate and are enforced on both POPs', async (t) => {
  const { pair, P, B, ownerConfigHome, owner, ok } = await ownerCliOnPair(t, 'clavitor-scopes-e2e-');
  ok(await owner('--server', P, 'vault', 'create', '--admin-token-file', join(pair.primary.dataDir, 'admin.token'), '--save'));
  const folder = ok(await owner('put', '--title', 'infra', '--type', 'folder')).trim();
  const sub = ok(await owner('put', '--title', 'prod', '--type', 'folder', '--parent', folder)).trim();
  const deep = ok(await owner('put', '--title', 'db', '--parent', sub, '--agent-field', 'pw=db-pw')).trim();
  const tagged = ok(await owner('put', '--title', 'ci-token', '--tag', 'ci', '--agent-field', 'tok=ci-tok')).trim();
  const finance = ok(await owner('put', '--title', 'finance', '--type', 'folder')).trim();
  const other = ok(await owner('put', '--title', 'bank', '--tag', 'finance', '--parent', finance, '--agent-field', 'pin=1234')).trim();

  const [agentId, token] = ok(await owner('agent', 'create', 'deployer', '--folder', 'infra', '--tag', 'ci', '--per-minute', '50', '--per-hour', '500')).trim().split('\t') as [string, string];
  const agent = (server: string, ...args: string[]) => runCli(['--server', server, ...args], { env: { CLAVITOR_TOKEN: token } });
  const listed = (out: string) => out.trim().split('\n').filter(Boolean).map((l) => l.split('\t')[0]).sort();

  const onBackup = await waitFor('the agent lists its scope on the backup', async () => {
    const r = await agent(B, 'list');
    return r.code === 0 && listed(r.stdout).length === 4 ? listed(r.stdout) : undefined;
  });
  assert.deepEqual(onBackup, [folder, sub, deep, tagged].sort());
  assert.equal(ok(await agent(B, 'get', deep, '--field', 'pw')), 'db-pw\n');
  const refused = await agent(B, 'get', other);
  assert.equal(refused.code, 3);
  assert.match(refused.stderr, /CV-2007/);

  // Narrow on the primary: only the tag remains. The backup follows the replicated revision.
  // (A scope folder must be a folder entry, CV-4023: `--folder bank` is refused.)
  ok(await owner('agent', 'update', agentId, '--tag', 'ci', '--folder', 'finance'));
  const ls = ok(await owner('agent', 'ls'));
  assert.match(ls, new RegExp(`${agentId}\\tdeployer\\tactive\\t50/min 500/h\\tfolder:${finance},tag:ci\\tnever`));
  await waitFor('the narrowed scope on the backup', async () => (await api(B, 'GET', `/api/entries/${deep}`, { token })).status === 403);
  const after = await api(B, 'GET', '/api/entries', { token });
  assert.deepEqual(after.json.entries.map((e: { id: string }) => e.id).sort(), [tagged, finance, other].sort());
  const ownerTok = (JSON.parse(readFileSync(join(ownerConfigHome, 'clavitor', 'config.json'), 'utf8')) as { token: string }).token;
  const patchOnBackup = await api(B, 'PATCH', `/api/agents/${agentId}`, { token: ownerTok, body: { tags: [] } });
  assert.deepEqual([patchOnBackup.status, patchOnBackup.json.error.code], [503, 'CV-5001']);

  // A short TTL: valid on both POPs first, then refused on both with CV-4030.
  const [ttlId, ttlToken] = ok(await owner('agent', 'add', 'short-lived', '--scope', 'ci-token', '--ttl', '8s')).trim().split('\t') as [string, string];
  await waitFor('the short-lived token works on the backup', async () => (await api(B, 'GET', `/api/entries/${tagged}`, { token: ttlToken })).status === 200);
  for (const [name, url] of [['backup', B], ['primary', P]] as const) {
    const r = await waitFor(`the TTL to run out on the ${name}`, async () => {
      const x = await api(url, 'GET', `/api/entries/${tagged}`, { token: ttlToken });
      return x.status === 401 ? x : undefined;
    }, 30_000);
    assert.equal(r.json.error.code, 'CV-4030', name);
  }
  const denied = await api(B, 'GET', '/api/audit?limit=1000', { token: ownerTok });
  assert.ok(denied.json.records.some((a: { actor: string; action: string; code: string | null }) => a.actor === `agent:${ttlId}` && a.action === 'auth' && a.code === 'CV-4030'),
    'the backup audits the expired token it refused');
});
