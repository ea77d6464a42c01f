/**
 * A newcomer's try-out from README and docs (issues 13–15 polish), each finding pinned by what the
 * user sees: `export` with an agent token is refused before any value is read (CV-6035);
 * `agent add --folder` of an entry that is not a folder is refused by the server (400 CV-4023);
 * `read` of a malformed reference exits 2 (usage), not 3 (server refused), and sends nothing;
 * `history` and the revisions route show tag changes, and `restore` brings an old version's tags
 * back. Real CLI processes against an in-process community server over loopback HTTP.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { recordingProxy, runCli } from '../kit/cli.js';
import { tempDir } from '../kit/pop.js';
import { auditOf, newEntry, newVault, startTestServer } from '../kit/in-process.js';

test('export with an agent token is refused with CV-6035 before any request that reads values', async (t) => {
  const s = await startTestServer();
  const dir = tempDir('clavitor-export-agent-');
  t.after(async () => { await s.stop(); dir.cleanup(); });
  const { owner } = await newVault(s);
  // Only agent-tier fields: nothing the agent reads comes back redacted, so only the token kind tells.
  const ids = [await newEntry(s, owner, { title: 'ci', fields: [{ label: 'token', value: 'ci-secret', tier: 'agent' }] }),
    await newEntry(s, owner, { title: 'deploy', fields: [{ label: 'key', value: 'deploy-secret', tier: 'agent' }] })];
  const created = await s.call('POST', '/api/agents', { token: owner, body: { name: 'bot', scopes: ids, limits: { per_minute: 100, per_hour: 1000 } } });
  assert.equal(created.status, 201);
  const agent = created.json.token as string;
  const proxy = await recordingProxy(s.url);
  t.after(() => proxy.close());
  const pass = join(dir.dir, 'pass');
  writeFileSync(pass, 'a long enough passphrase\n', { mode: 0o600 });

  for (const format of ['clavitor', 'bitwarden-json']) {
    const out = join(dir.dir, `agent-${format}.json`);
    const r = await runCli(['export', '--format', format, '--out', out, '--passphrase-file', pass], { env: { CLAVITOR_URL: proxy.url, CLAVITOR_TOKEN: agent } });
    assert.equal(r.code, 6, `${format}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, /^clavitor-cli: CV-6035: export needs the vault owner's token/);
    assert.equal(existsSync(out), false, `${format}: no file written`);
    assert.doesNotMatch(r.stdout + r.stderr, /secret/);
  }
  const sent = proxy.requests.map((q) => `${q.method} ${q.url.split('?')[0]}`);
  assert.ok(sent.length > 0, 'the CLI asked the server who the token is');
  assert.deepEqual([...new Set(sent)], ['GET /api/audit'], 'no listing, no entry read');
  // The server side: the agent read nothing and the refusals are in the trail.
  const trail = await auditOf(s, owner);
  assert.equal(trail.filter((a) => a.actor.startsWith('agent:') && a.action.startsWith('entry.')).length, 0);
  assert.equal(trail.filter((a) => a.actor.startsWith('agent:') && a.action === 'audit.read' && a.outcome === 'denied' && a.code === 'CV-2003').length, 2);

  // The owner still exports.
  const ownerOut = join(dir.dir, 'owner.cvx');
  const ok = await runCli(['export', '--out', ownerOut, '--passphrase-file', pass], { env: { CLAVITOR_URL: s.url, CLAVITOR_TOKEN: owner } });
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stderr, /exported 2 entries/);
});

test('an agent scope folder must be a live folder entry: anything else is 400 CV-4023, shown by the CLI', async (t) => {
  const s = await startTestServer();
  t.after(() => s.stop());
  const { owner } = await newVault(s);
  const folder = await newEntry(s, owner, { title: 'infra', type: 'folder' });
  const cred = await newEntry(s, owner, { title: 'github', parent: folder, fields: [{ label: 'pw', value: 'x', tier: 'agent' }] });
  const gone = await newEntry(s, owner, { title: 'old', type: 'folder' });
  assert.equal((await s.call('DELETE', `/api/entries/${gone}`, { token: owner })).status, 204);

  const cases: [string, string, RegExp][] = [
    ['a credential', cred, /is an entry of type credential, not a folder/],
    ['a deleted folder', gone, /is a deleted entry, not a folder/],
    ['an unknown id', 'e_AAAAAAAAAAAAAAAAAAAAAA', /is not an entry of this vault, not a folder/],
  ];
  for (const [what, id, message] of cases) {
    const r = await s.call('POST', '/api/agents', { token: owner, body: { name: 'bot', scopes: [], folders: [folder, id] } });
    assert.equal(r.status, 400, what);
    assert.equal(r.json.error.code, 'CV-4023', what);
    assert.match(r.json.error.message, message, what);
    assert.equal(r.json.error.folder, id, what);
  }
  const agentsBefore = (await s.call('GET', '/api/agents', { token: owner })).json.agents.length;
  assert.equal(agentsBefore, 0, 'nothing was written');

  const made = await s.call('POST', '/api/agents', { token: owner, body: { name: 'bot', scopes: [], folders: [folder] } });
  assert.equal(made.status, 201);
  const agentId = made.json.agent_id as string;
  const patched = await s.call('PATCH', `/api/agents/${agentId}`, { token: owner, body: { folders: [cred] } });
  assert.deepEqual([patched.status, patched.json.error.code], [400, 'CV-4023']);
  const listed = (await s.call('GET', '/api/agents', { token: owner })).json.agents[0];
  assert.deepEqual(listed.folders, [folder], 'the scope is unchanged');

  // The CLI resolves the title, sends it, and shows the server's code.
  const env = { CLAVITOR_URL: s.url, CLAVITOR_TOKEN: owner };
  const add = await runCli(['agent', 'add', 'ci', '--folder', 'github'], { env });
  assert.equal(add.code, 3, add.stderr);
  assert.match(add.stderr, new RegExp(`^clavitor-cli: CV-4023: folders: ${cred} is an entry of type credential, not a folder`));
  const update = await runCli(['agent', 'update', agentId, '--folder', 'github'], { env });
  assert.equal(update.code, 3, update.stderr);
  assert.match(update.stderr, /CV-4023/);
  assert.equal((await runCli(['agent', 'add', 'ci', '--folder', 'infra'], { env })).code, 0);
});

test('read of a malformed reference exits 2 with CV-3020 and sends nothing', async (t) => {
  const s = await startTestServer();
  t.after(() => s.stop());
  const { owner, vaultId } = await newVault(s);
  const proxy = await recordingProxy(s.url);
  t.after(() => proxy.close());
  const env = { CLAVITOR_URL: proxy.url, CLAVITOR_TOKEN: owner };
  for (const ref of ['clavitor://', `clavitor://${vaultId}/only-title`, `clavitor://${vaultId}/a/b/c?x`, 'op://vault/item/field']) {
    const r = await runCli(['read', ref], { env });
    assert.equal(r.code, 2, `${ref}: ${r.stderr}`);
    assert.match(r.stderr, /^clavitor-cli: CV-3020: /, ref);
    const j = await runCli(['--json', 'read', ref], { env });
    assert.equal(j.code, 2);
    assert.equal(JSON.parse(j.stdout).error.code, 'CV-3020');
  }
  // run resolves references the same way: a malformed one stops it before the command runs.
  const run = await runCli(['run', '--', 'true'], { env: { ...env, DB_PASSWORD: 'clavitor://' } });
  assert.equal(run.code, 2, run.stderr);
  assert.equal(proxy.requests.length, 0, 'nothing was sent');
});

test('history shows each version\'s tags and the revisions route returns them; restore brings the tags back', async (t) => {
  const s = await startTestServer();
  t.after(() => s.stop());
  const { owner } = await newVault(s);
  const env = { CLAVITOR_URL: s.url, CLAVITOR_TOKEN: owner };
  const ok = async (...args: string[]): Promise<string> => {
    const r = await runCli(args, { env });
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const id = (await ok('put', '--title', 'github', '--agent-field', 'user=alice', '--tag', 'ci', '--tag', 'deploy')).trim();
  await ok('put', id, '--tag', 'prod');
  await ok('put', id, '--clear-tags');
  await ok('put', id, '--agent-field', 'user=bob');

  const revs = (await s.call('GET', `/api/entries/${id}/revisions`, { token: owner })).json.revisions as { seq: number; entry?: { tags: string[] } }[];
  assert.equal(revs.length, 4);
  assert.deepEqual(revs.map((r) => r.entry?.tags), [['ci', 'deploy'], ['prod'], [], []]);

  const lines = (await ok('history', id)).split('\n');
  const tagLines = lines.filter((l) => l.startsWith('  tags: '));
  assert.deepEqual(tagLines, ['  tags: ci, deploy', '  tags: prod', '  tags: (none)'], lines.join('\n'));
  // Each tags line follows its version's header line.
  for (const [seq, tags] of [[revs[0]!.seq, '  tags: ci, deploy'], [revs[1]!.seq, '  tags: prod'], [revs[2]!.seq, '  tags: (none)']] as const) {
    assert.equal(lines[lines.findIndex((l) => l.startsWith(`${seq}\t`)) + 1], tags);
  }
  const json = JSON.parse(await ok('--json', 'history', id)) as { entry?: { tags: string[] } }[];
  assert.deepEqual(json.map((r) => r.entry?.tags), [['ci', 'deploy'], ['prod'], [], []]);

  // restore --version N writes a revision equal to version N: its tags included.
  await ok('restore', id, '--version', String(revs[0]!.seq));
  const now = await s.call('GET', `/api/entries/${id}`, { token: owner });
  assert.deepEqual(now.json.tags, ['ci', 'deploy']);
  assert.equal(now.json.fields[0].value, 'alice');
});
