/**
 * DESIGN.md §4.4.3 and §4.4.12: a primary presenting the wrong token gets 401 from the backup;
 * after max_retries it raises an operator alert (error log CV-5007, status degraded, metric) and
 * keeps its backlog.
 * Also: a repeated batch changes nothing; a captured push replayed, or altered in flight, is refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { api, createVault, provisionPair, runCommercial, waitFor } from '../kit/pop.js';
import { writeKeyFile } from '../../src/config/keygen.js';
import { writeSigningKeyFile } from '../../src/config/signing-key.js';
import { pushMac } from '../../src/replication/push-mac.js';
import { keyOf, peerPost } from '../kit/peer-sign.js';
import { readFileSync } from 'node:fs';

test('a wrong replication token gets 401, then an alert after max_retries, with the backlog intact', async (t) => {
  const pair = await provisionPair({ maxRetries: 1 });
  t.after(() => pair.stop());
  const otherKey = join(pair.dir, 'other.key');
  writeKeyFile(otherKey);
  pair.writeConfig('backup', pair.yamlFor('backup', 'backup').replace(pair.keyFile, otherKey));
  await pair.backup.start();
  await pair.primary.start();
  const { owner } = await createVault(pair.primary.url, pair.primary.adminToken());
  await api(pair.primary.url, 'POST', '/api/entries', { token: owner, body: { title: 'kept' } });

  const s = await waitFor('degraded', async () => {
    const st = await pair.primary.status();
    return st.replication.state === 'degraded' ? st : undefined;
  }, 20000);
  assert.equal(s.replication.backlog, 2);
  assert.ok(s.replication.alerts >= 1);
  // The peer's code is carried into last error (a wrong token: CV-2005).
  assert.equal(s.replication.last_error, 'authentication refused (HTTP 401 CV-2005)');
  const alert = pair.primary.logLines().find((l) => l.event === 'replication.alert');
  assert.ok(alert, 'alert logged');
  assert.equal(alert.code, 'CV-5007');
  assert.equal(alert.level, 50);
  const metrics = await api(pair.primary.url, 'GET', '/metrics', { token: pair.primary.adminToken() });
  assert.match(String(metrics.json), /clavitor_replication_alerts_total\{reason="retries_exhausted"\} [1-9]/);
  assert.match(String(metrics.json), /clavitor_replication_pushes_total\{direction="sent",result="auth"\} 2/);
  assert.match(String(metrics.json), /clavitor_replication_backlog_revisions 2/);
  const refused = pair.backup.logLines().filter((l) => l.event === 'replication.auth_failed' && l.path === '/replication/v1/push');
  assert.equal(refused.length, 2, 'first attempt + 1 retry');
  assert.equal((await pair.backup.status()).replication.pushes_received, 0);
});

test('a push signed with a key the backup does not pin shows CV-5040 in the sender\'s last error and status', async (t) => {
  const pair = await provisionPair({ maxRetries: 1 });
  t.after(() => pair.stop());
  // The backup pins a stranger's public key instead of calgary's (a signing key replaced on one side only).
  const stranger = writeSigningKeyFile(join(pair.dir, 'stranger.signing.key'));
  pair.writeConfig('backup', pair.yamlFor('backup', 'backup').replace(pair.signing.primary.publicKey, stranger));
  await pair.backup.start();
  await pair.primary.start();
  const { owner } = await createVault(pair.primary.url, pair.primary.adminToken());
  await api(pair.primary.url, 'POST', '/api/entries', { token: owner, body: { title: 'kept' } });
  const s = await waitFor('a refused push', async () => {
    const st = await pair.primary.status();
    return st.replication.last_error ? st : undefined;
  }, 20000);
  assert.equal(s.replication.last_error, 'authentication refused (HTTP 401 CV-5040)');
  assert.ok(pair.backup.logLines().some((l) => l.event === 'replication.signature_refused' && l.code === 'CV-5040'));
  const shown = await runCommercial(['status', '--url', pair.primary.url, '--admin-token-file', join(pair.primary.dataDir, 'admin.token')]);
  assert.equal(shown.code, 0, shown.stderr);
  assert.match(shown.stdout, /last error: authentication refused \(HTTP 401 CV-5040\)/);
});

test('the backup answers a bad token on every replication route with 401 and CV-2005', async (t) => {
  const pair = await provisionPair();
  t.after(() => pair.stop());
  await pair.backup.start();
  for (const [method, path] of [['POST', '/replication/v1/push'], ['POST', '/replication/v1/hello'], ['GET', '/replication/v1/epoch']] as const) {
    for (const token of [undefined, 'nope', 'clavitor-pop-v1-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA']) {
      const r = await api(pair.backup.url, method, path, { ...(token ? { token } : {}), ...(method === 'POST' ? { body: {} } : {}) });
      assert.equal(r.status, 401, `${method} ${path}`);
      assert.equal(r.json.error.code, 'CV-2005');
    }
  }
});

test('a repeated batch changes nothing; a replayed or altered push is refused', async (t) => {
  const pair = await provisionPair();
  t.after(() => pair.stop());
  await pair.backup.start();
  const token = readFileSync(pair.keyFile, 'utf8').trim();
  await pair.primary.start();
  const { owner, vaultId } = await createVault(pair.primary.url, pair.primary.adminToken());
  await api(pair.primary.url, 'POST', '/api/entries', { token: owner, body: { title: 'once' } });
  await waitFor('drained', async () => (await pair.primary.status()).replication.backlog === 0);
  await pair.primary.kill();
  const Database = (await import('better-sqlite3')).default;
  const db = new Database(join(pair.primary.dataDir, 'clavitor.db'), { readonly: true });
  const rows = db.prepare('SELECT * FROM revisions WHERE vault_id = ? ORDER BY seq').all(vaultId) as { lsn: number; seq: number; kind: string; subject: string | null; body: string; epoch: number; origin_pop: string; created_at: string }[];
  // Issue 12 item 3: a push carries log positions and the sender's epoch history.
  const history = db.prepare('SELECT epoch, start_lsn, pop_id FROM epoch_history ORDER BY epoch').all();
  db.close();
  const items = rows.map((r) => ({ vault_id: vaultId, seq: r.seq, kind: r.kind, subject: r.subject, body: r.body, epoch: r.epoch, origin_pop: r.origin_pop, created_at: r.created_at, lsn: r.lsn }));
  let pushSeq = Date.now() * 1000 + 1e9;
  // Signed with calgary's own key, as calgary sends (issue 13 §1); these cases are about the MAC and replays.
  const send = (body: string, mac = pushMac(token, body)) => mac === pushMac(token, body)
    ? peerPost(pair.backup.url, '/replication/v1/push', { token, body, signer: 'calgary-01', key: keyOf(pair.signing.primary.file) })
    : api(pair.backup.url, 'POST', '/replication/v1/push', { token, body, headers: { 'x-clavitor-push-mac': mac } });
  const push = (extra: Record<string, unknown> = {}) => JSON.stringify({ epoch: 1, sender: 'calgary-01', push_seq: ++pushSeq, prev_lsn: 0, history, items, ...extra });
  const before = await api(pair.backup.url, 'GET', '/api/entries', { token: owner });

  // The sender's retry of a batch the backup already holds (new push_seq): accepted, changes nothing.
  const retry = await send(push());
  assert.equal(retry.status, 200);
  assert.deepEqual({ applied: retry.json.applied, skipped: retry.json.skipped }, { applied: 0, skipped: 2 });

  // The same bytes captured and replayed: refused.
  const captured = push();
  assert.equal((await send(captured)).status, 200);
  const replay = await send(captured);
  assert.equal(replay.status, 409);
  assert.equal(replay.json.error.code, 'CV-5013');

  // Altered in flight (a revision body swapped) with the original MAC: refused.
  const altered = captured.replace('"kind":"entry.put"', '"kind":"entry.delete"');
  assert.notEqual(altered, captured);
  const a = await send(altered, pushMac(token, captured));
  assert.equal(a.status, 401);
  assert.equal(a.json.error.code, 'CV-5014');
  const noMac = await send(push(), '');
  assert.equal(noMac.status, 401);

  // A gap is refused with the expected position, and nothing is written.
  const g = await send(push({ prev_lsn: items[1]!.lsn, items: [{ ...items[1]!, seq: 5, lsn: items[1]!.lsn + 1 }] }));
  assert.equal(g.status, 409);
  assert.equal(g.json.error.code, 'CV-5005');
  assert.deepEqual(g.json.error.expected, [{ vault_id: vaultId, seq: 3 }]);

  // A different revision at a held position is refused, never overwritten.
  const f = await send(push({ items: [{ ...items[1]!, body: items[0]!.body }] }));
  assert.equal(f.status, 409);
  assert.equal(f.json.error.code, 'CV-5010');

  // A push from a lower epoch is refused.
  const stale = await send(push({ epoch: 0 }));
  assert.equal(stale.status, 409);
  assert.equal(stale.json.error.code, 'CV-5004');
  assert.equal(stale.json.error.epoch, 1);

  const after = await api(pair.backup.url, 'GET', '/api/entries', { token: owner });
  assert.deepEqual(after.json, before.json);
});
