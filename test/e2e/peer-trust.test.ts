/**
 * Issue 13 §1 ("the replication token is trusted with too much"), end to end on real POPs: a
 * replication token alone must not decide which POP takes writes or what a backup holds
 * (DESIGN.md §4.5 "Peer claims are authenticated"; docs/security.md "Trust model").
 *
 * - A token-only hello claiming the backup's role one epoch above the primary's, or one signed by
 *   a key the primary does not pin (the primary's own, a stranger's), is refused with CV-5040,
 *   logged and counted; the primary keeps taking writes, across a restart too.
 * - An epoch claim of 9007199254740991, 2^31 or a jump of more than 1000, even signed by the real
 *   peer key, is refused with CV-5041 and never adopted; a failover afterwards works: the new
 *   primary takes a small epoch and its pushes are accepted by the rejoined old primary.
 * - Forged `entry.delete` and `agent.unlock` revisions at the backup's next position (valid token
 *   and push MAC, no or wrong signature) are refused; the backup is unchanged and the primary's
 *   next writes replicate (it is not left `diverged`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { api, createVault, runningPair, waitFor, type Pair } from '../kit/pop.js';
import { promoteByFile, vaultOnPair, writeReplicated } from '../kit/pair.js';
import { keyOf, peerPost, strangerKey } from '../kit/peer-sign.js';
import { readFileSync } from 'node:fs';

const entry = (title: string) => ({ title, fields: [{ label: 'password', value: `pw-${title}` }] });
const token = (pair: Pair): string => readFileSync(pair.keyFile, 'utf8').trim();
const metrics = async (base: string, admin: string): Promise<string> => String((await api(base, 'GET', '/metrics', { token: admin })).json);
const alertCount = (text: string, reason: string): number => Number(new RegExp(`clavitor_replication_alerts_total\\{reason="${reason}"\\} (\\d+)`).exec(text)?.[1] ?? 0);

test('a token-only or wrongly signed hello cannot fence the primary, before or after a restart', async (t) => {
  const pair = await runningPair(t);
  const C = pair.primary.url;
  const { owner } = await createVault(C, pair.primary.adminToken());
  assert.equal((await api(C, 'POST', '/api/entries', { token: owner, body: entry('before') })).status, 201);
  const epoch = (await pair.primary.status()).epoch as number;
  const hello = JSON.stringify({ pop_id: 'zurich-01', role: 'backup', epoch: epoch + 1 });

  const attempts = [
    { what: 'no signature (token only)', key: undefined },
    { what: 'signed with the primary\'s own key', key: keyOf(pair.signing.primary.file) },
    { what: 'signed with a key nobody pins', key: strangerKey() },
  ];
  for (const a of attempts) {
    const r = await peerPost(C, '/replication/v1/hello', { token: token(pair), body: hello, signer: 'zurich-01', key: a.key });
    assert.equal(r.status, 401, a.what);
    assert.equal(r.json.error.code, 'CV-5040', a.what);
  }
  const s = await pair.primary.status();
  assert.deepEqual({ role: s.role, epoch: s.epoch, seen: s.seen_epoch, writes: s.accepting_writes }, { role: 'primary', epoch, seen: epoch, writes: true });
  assert.equal((await api(C, 'POST', '/api/entries', { token: owner, body: entry('after-forgery') })).status, 201);
  const refusals = pair.primary.logLines().filter((l) => l.event === 'replication.signature_refused');
  assert.equal(refusals.length, attempts.length, 'each refusal is logged');
  assert.ok(refusals.every((l) => l.code === 'CV-5040' && l.level === 50));
  assert.equal(alertCount(await metrics(C, pair.primary.adminToken()), 'peer_signature_invalid'), attempts.length);

  // Nothing was persisted: after a restart the primary still takes writes in its epoch.
  await pair.primary.kill('SIGKILL');
  await pair.primary.start();
  const s2 = await pair.primary.status();
  assert.deepEqual({ role: s2.role, epoch: s2.epoch, seen: s2.seen_epoch }, { role: 'primary', epoch, seen: epoch });
  assert.equal((await api(C, 'POST', '/api/entries', { token: owner, body: entry('after-restart') })).status, 201);
});

test('epoch claims beyond the bound are refused even when signed; failover afterwards works', async (t) => {
  const { pair, calgary, zurich, C, Z, owner } = await vaultOnPair(t);
  await writeReplicated(calgary, owner, entry('first'), 'drained');
  const epoch = (await calgary.status()).epoch as number;
  const zKey = keyOf(pair.signing.backup.file);

  // Signed by the real backup key: authentic, but out of bounds (lib/epoch-bounds.ts: 2^31 − 1, jump 1000).
  const item = { vault_id: 'v_AAAAAAAAAAAAAAAAAAAAAA', seq: 1, kind: 'vault.create', subject: null, body: '{}', epoch: 1, origin_pop: 'zurich-01', created_at: new Date().toISOString() };
  for (const claim of [9007199254740991, 2 ** 31, epoch + 1001]) {
    const push = await peerPost(C, '/replication/v1/push', { token: token(pair), body: JSON.stringify({ epoch: claim, sender: 'zurich-01', push_seq: 1, items: [item] }), signer: 'zurich-01', key: zKey });
    assert.equal(push.status, 400, `push claiming ${claim}`);
    assert.equal(push.json.error.code, 'CV-5041', `push claiming ${claim}`);
    const hello = await peerPost(C, '/replication/v1/hello', { token: token(pair), body: JSON.stringify({ pop_id: 'zurich-01', role: 'backup', epoch: claim }), signer: 'zurich-01', key: zKey });
    assert.equal(hello.status, 400, `hello claiming ${claim}`);
    assert.equal(hello.json.error.code, 'CV-5041', `hello claiming ${claim}`);
  }
  const cKey = keyOf(pair.signing.primary.file);
  const toBackup = await peerPost(Z, '/replication/v1/push', { token: token(pair), body: JSON.stringify({ epoch: 9007199254740991, sender: 'calgary-01', push_seq: 9e15, items: [item] }), signer: 'calgary-01', key: cKey });
  assert.equal(toBackup.status, 400);
  assert.equal(toBackup.json.error.code, 'CV-5041');
  for (const [p, s] of [[calgary, await calgary.status()], [zurich, await zurich.status()]] as const) {
    assert.equal(s.epoch, epoch, `${p.name} epoch unchanged`);
    assert.equal(s.seen_epoch, epoch, `${p.name} never adopted the claim`);
  }
  assert.equal((await calgary.status()).role, 'primary');
  const refused = calgary.logLines().filter((l) => l.event === 'replication.epoch_refused');
  assert.equal(refused.length, 6, 'an alert line per refused claim');
  assert.ok(refused.every((l) => l.code === 'CV-5041' && l.level === 50));
  assert.equal(alertCount(await metrics(C, calgary.adminToken()), 'epoch_out_of_range'), 6);

  // The documented manual failover: calgary is lost, zurich is promoted; calgary rejoins as backup.
  await calgary.kill('SIGKILL');
  const zs = await promoteByFile(pair, 'backup');
  assert.equal(zs.epoch, epoch + 1, 'promotion: one more than the highest epoch seen');
  const later = await api(Z, 'POST', '/api/entries', { token: owner, body: entry('after-failover') });
  assert.equal(later.status, 201);
  pair.writeConfig('primary', pair.yamlFor('primary', 'backup'));
  await calgary.start();
  const got = await waitFor('calgary follows zurich', async () => {
    const r = await api(C, 'GET', `/api/entries/${later.json.id}`, { token: owner });
    return r.status === 200 ? r : undefined;
  }, 30000);
  assert.equal(got.json.title, 'after-failover');
  const cs = await calgary.status();
  assert.deepEqual({ role: cs.role, epoch: cs.epoch }, { role: 'backup', epoch: epoch + 1 });
});

test('forged entry.delete and agent.unlock revisions at the backup\'s next position are refused', async (t) => {
  const { pair, calgary, zurich, C, Z, owner, vaultId } = await vaultOnPair(t);
  const e = await api(C, 'POST', '/api/entries', { token: owner, body: entry('keep-me') });
  assert.equal(e.status, 201);
  const agent = await api(C, 'POST', '/api/agents', { token: owner, body: { name: 'ci', scopes: [e.json.id] } });
  assert.equal(agent.status, 201);
  await waitFor('drained', async () => (await calgary.status()).replication.backlog === 0);
  const before = await api(Z, 'GET', `/api/entries/${e.json.id}`, { token: owner });
  assert.equal(before.status, 200);

  const positions = await api(Z, 'GET', '/replication/v1/positions', { token: token(pair) });
  assert.equal(positions.status, 200, 'the token reads positions (a read, allowed)');
  // One vault on a fresh pair: the backup's last log position (issue 12 item 3) is its head seq.
  const head = positions.json.lsn as number;
  assert.ok(head >= 3);
  const history = positions.json.history as unknown[];
  const epoch = positions.json.epoch as number;
  const at = new Date().toISOString();
  const items = [
    { vault_id: vaultId, seq: head + 1, kind: 'entry.delete', subject: e.json.id, body: '{}', epoch, origin_pop: 'calgary-01', created_at: at, lsn: head + 1 },
    { vault_id: vaultId, seq: head + 2, kind: 'agent.unlock', subject: agent.json.agent_id ?? agent.json.id, body: '{}', epoch, origin_pop: 'calgary-01', created_at: at, lsn: head + 2 },
  ];
  const body = JSON.stringify({ epoch, sender: 'calgary-01', push_seq: 9e15, prev_lsn: head, history, items });
  for (const [what, key] of [['no signature', undefined], ['the backup\'s own key', keyOf(pair.signing.backup.file)], ['a stranger\'s key', strangerKey()]] as const) {
    const r = await peerPost(Z, '/replication/v1/push', { token: token(pair), body, signer: 'calgary-01', key });
    assert.equal(r.status, 401, what);
    assert.equal(r.json.error.code, 'CV-5040', what);
  }
  const after = await api(Z, 'GET', '/replication/v1/positions', { token: token(pair) });
  assert.equal(after.json.lsn, head, 'the backup holds nothing new');
  assert.equal((await api(Z, 'GET', `/api/entries/${e.json.id}`, { token: owner })).status, 200, 'the entry is still there');
  assert.equal((await zurich.status()).replication.pushes_received > 0, true);

  // The primary is not stuck: its next write replicates at that very position.
  const next = await api(C, 'POST', '/api/entries', { token: owner, body: entry('next') });
  assert.equal(next.status, 201);
  await waitFor('next write replicated', async () => (await api(Z, 'GET', `/api/entries/${next.json.id}`, { token: owner })).status === 200);
  const cs = await calgary.status();
  assert.equal(cs.replication.last_error, null);
  assert.notEqual(cs.replication.state, 'diverged');
  assert.equal(cs.accepting_writes, true);
});
