/**
 * Case F9 (DESIGN.md §4.3, §4.4.10): a client hammers the backup with every write verb on every
 * write route — vault creation and agent creation included — while the backup is reloaded with
 * SIGHUP several times (valid files, and once an invalid one, which is refused with the one-line
 * `<file>:<line>:<col>: <key>: <what>` error while the old configuration keeps running). Every
 * answer is 503 with Retry-After and X-Primary-Location — also for percent-encoded spellings of the
 * routes (`/%61pi/entries`), which the router decodes — and the backup's data does not change.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { api, BIN, createVault, sleep, waitFor, type ApiResponse, runningPair } from '../kit/pop.js';

test('F9: every client write to the backup gets 503 + Retry-After + X-Primary-Location, across SIGHUP reloads', async (t) => {
  const pair = await runningPair(t);
  const P = pair.primary.url;
  const B = pair.backup.url;

  const { owner } = await createVault(P, pair.primary.adminToken());
  const e1 = await api(P, 'POST', '/api/entries', { token: owner, body: { title: 'db', fields: [{ label: 'password', value: 's3cret', tier: 'agent' }] } });
  const e2 = await api(P, 'POST', '/api/entries', { token: owner, body: { title: 'api', fields: [{ label: 'key', value: 'k-1' }] } });
  const upd = await api(P, 'PUT', `/api/entries/${e2.json.id}`, { token: owner, headers: { 'if-match': `"${e2.json.version}"` }, body: { title: 'api v2', fields: [{ label: 'key', value: 'k-2' }] } });
  assert.equal(upd.status, 200);
  const agent = await api(P, 'POST', '/api/agents', { token: owner, body: { name: 'ci', scopes: [e1.json.id] } });
  assert.equal(agent.status, 201);
  await waitFor('replicated', async () => (await pair.primary.status()).replication.backlog === 0);
  await waitFor('agent on backup', async () => (await api(B, 'GET', `/api/entries/${e1.json.id}`, { token: agent.json.token })).status === 200);

  const snapshot = async () => {
    const list = (await api(B, 'GET', '/api/entries', { token: owner })).json;
    const revs: unknown[] = [];
    for (const e of list.entries as { id: string }[]) revs.push((await api(B, 'GET', `/api/entries/${e.id}/revisions`, { token: owner })).json);
    const agents = (await api(B, 'GET', '/api/agents', { token: owner })).json;
    const entries = [];
    for (const e of list.entries as { id: string }[]) entries.push((await api(B, 'GET', `/api/entries/${e.id}`, { token: owner })).json);
    return { list, revs, agents, entries };
  };
  const before = await snapshot();
  const pushesBefore = (await pair.backup.status()).replication.pushes_received;
  assert.equal(before.list.entries.length, 2);

  // The hammer: every write verb and route, valid and invalid tokens, in concurrent loops.
  const admin = pair.backup.adminToken();
  const id1 = e1.json.id as string;
  const attempts: { name: string; method: string; path: string; token?: string; body?: unknown; headers?: Record<string, string> }[] = [
    { name: 'POST /api/vaults', method: 'POST', path: '/api/vaults', token: admin },
    { name: 'POST /api/vaults (no token)', method: 'POST', path: '/api/vaults' },
    { name: 'POST /api/entries', method: 'POST', path: '/api/entries', token: owner, body: { title: 'x', fields: [{ label: 'a', value: 'b' }] } },
    { name: 'POST /api/entries (bad token)', method: 'POST', path: '/api/entries', token: 'bogus', body: { title: 'x' } },
    { name: 'PUT /api/entries/{id}', method: 'PUT', path: `/api/entries/${id1}`, token: owner, body: { title: 'y' }, headers: { 'if-match': `"${e1.json.version}"` } },
    { name: 'PATCH /api/entries/{id}', method: 'PATCH', path: `/api/entries/${id1}`, token: owner, body: { title: 'y' } },
    { name: 'DELETE /api/entries/{id}', method: 'DELETE', path: `/api/entries/${id1}`, token: owner },
    { name: 'POST /api/agents', method: 'POST', path: '/api/agents', token: owner, body: { name: 'evil', scopes: [id1] } },
    { name: 'DELETE /api/agents/{id}', method: 'DELETE', path: `/api/agents/${agent.json.agent_id}`, token: owner },
    // The same routes spelt with percent-encoding: the router decodes them, so must the write gate.
    { name: 'POST /%61pi/vaults', method: 'POST', path: '/%61pi/vaults', token: admin },
    { name: 'POST /%61pi/entries', method: 'POST', path: '/%61pi/entries', token: owner, body: { title: 'x', fields: [{ label: 'a', value: 'b' }] } },
    { name: 'DELETE /a%70i/entries/{id}', method: 'DELETE', path: `/a%70i/entries/${id1}`, token: owner },
    { name: 'POST /%61pi/agents', method: 'POST', path: '/%61pi/agents', token: owner, body: { name: 'evil', scopes: [id1] } },
  ];
  const results = new Map<string, ApiResponse[]>(attempts.map((a) => [a.name, []]));
  let hammering = true;
  const worker = async (offset: number) => {
    for (let i = offset; hammering; i++) {
      const a = attempts[i % attempts.length]!;
      const r = await api(B, a.method, a.path, { ...(a.token ? { token: a.token } : {}), ...(a.body !== undefined ? { body: a.body } : {}), ...(a.headers ? { headers: a.headers } : {}) });
      results.get(a.name)!.push(r);
    }
  };
  const workers = [0, 3, 5, 7].map((o) => worker(o));

  const reloaded = () => pair.backup.logLines().filter((l) => l.event === 'pop.reloaded').length;
  const validYaml = pair.yamlFor('backup', 'backup');
  // Three valid reloads, each a real change of settings.
  for (const [batch, retries] of [[50, 3], [200, 7], [100, 5]] as const) {
    await sleep(150);
    const n = reloaded();
    pair.writeConfig('backup', validYaml.replace(/batch_size: \d+/, `batch_size: ${batch}`).replace(/max_retries: \d+/, `max_retries: ${retries}`));
    pair.backup.signal('SIGHUP');
    await waitFor('valid reload applied', () => reloaded() === n + 1, 5000);
  }

  // An invalid file: refused with one line on stderr, the old configuration keeps running.
  await sleep(150);
  const plainLines = () => pair.backup.stderr.split('\n').filter((l) => l !== '' && !l.startsWith('{'));
  const plainBefore = plainLines().length;
  const n = reloaded();
  pair.writeConfig('backup', validYaml.replace('replication:\n', 'replication:\n  batch_sise: 10\n'));
  pair.backup.signal('SIGHUP');
  await waitFor('reload refused', () => pair.backup.logLines().some((l) => l.event === 'pop.reload_refused'), 5000);
  const errLines = plainLines().slice(plainBefore);
  assert.equal(errLines.length, 1, `one line on stderr: ${JSON.stringify(errLines)}`);
  const lineNo = validYaml.split('\n').indexOf('replication:') + 2;
  assert.equal(errLines[0]!.startsWith(`${pair.backupConfig}:${lineNo}:3: replication.batch_sise: `), true, errLines[0]);
  assert.doesNotMatch(pair.backup.stderr, /\n\s+at /, 'no stack trace');
  assert.equal(reloaded(), n, 'the invalid file was not applied');
  await sleep(300); // keep hammering under the old configuration
  assert.equal(pair.backup.exitCode, null, 'still running');

  // Back to a valid file.
  pair.writeConfig('backup', validYaml);
  pair.backup.signal('SIGHUP');
  await waitFor('valid reload after the refused one', () => reloaded() === n + 1, 5000);
  await sleep(150);
  await waitFor('every route tried several times', () => results.size > 0 && [...results.values()].every((rs) => rs.length >= 5), 10_000);
  hammering = false;
  await Promise.all(workers);

  let total = 0;
  for (const [name, rs] of results) {
    assert.ok(rs.length >= 5, `${name}: ${rs.length} attempts`);
    for (const r of rs) {
      assert.equal(r.status, 503, `${name}: ${r.status} ${JSON.stringify(r.json)}`);
      assert.equal(r.json?.error?.code, 'CV-5001', name);
      assert.equal(r.headers.get('retry-after'), '5', name);
      assert.equal(r.headers.get('x-primary-location'), P, name);
    }
    total += rs.length;
  }
  t.diagnostic(`${total} refused writes over ${results.size} routes during ${reloaded()} applied reloads and 1 refused one`);

  // The backup's data is unchanged and still identical to the primary.
  const after = await snapshot();
  assert.deepEqual(after, before);
  const bs = await pair.backup.status();
  assert.equal(bs.role, 'backup');
  assert.equal(bs.replication.pushes_received, pushesBefore);
  assert.equal((await api(B, 'GET', `/api/entries/${id1}`, { token: agent.json.token })).status, 200, 'the agent is not revoked');
  const verify = await new Promise<{ code: number; stdout: string }>((resolve) => {
    execFile(process.execPath, [BIN.commercial, 'verify', '--primary', P, '--backup', B, '--token-file', pair.keyFile], (err, stdout) => resolve({ code: err ? 1 : 0, stdout }));
  });
  assert.equal(verify.code, 0, verify.stdout);
  assert.match(verify.stdout, /^identical: 1 vaults/);
  assert.equal((await pair.primary.status()).replication.backlog, 0);
});
