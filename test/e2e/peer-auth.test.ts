/**
 * DESIGN.md §4.4.3 and §4.4.12: a primary presenting the wrong token gets 401 from the backup;
 * after max_retries it raises an operator alert (error log CV-5007, status degraded, metric) and
 * keeps its backlog.
 * Also: a captured push replayed to the backup changes nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { api, createVault, provisionPair, waitFor } from '../helpers/pop.js';
import { writeKeyFile } from '../../src/config/keygen.js';

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
  assert.match(s.replication.last_error, /authentication refused \(HTTP 401\)/);
  const alert = pair.primary.logLines().find((l) => l.event === 'replication.alert');
  assert.ok(alert, 'alert logged');
  assert.equal(alert.code, 'CV-5007');
  assert.equal(alert.level, 50);
  const metrics = await api(pair.primary.url, 'GET', '/metrics', { token: pair.primary.adminToken() });
  assert.match(String(metrics.json), /clavitor_replication_alerts_total [1-9]/);
  assert.match(String(metrics.json), /clavitor_replication_backlog_revisions 2/);
  const refused = pair.backup.logLines().filter((l) => l.event === 'replication.auth_failed' && l.path === '/replication/v1/push');
  assert.equal(refused.length, 2, 'first attempt + 1 retry');
  assert.equal((await pair.backup.status()).replication.pushes_received, 0);
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

test('a repeated (replayed) push changes nothing on the backup', async (t) => {
  const pair = await provisionPair();
  t.after(() => pair.stop());
  await pair.backup.start();
  const token = (await import('node:fs')).readFileSync(pair.keyFile, 'utf8').trim();
  // Build a real push from a primary-written vault: run the primary, write, then replay by hand.
  await pair.primary.start();
  const { owner, vaultId } = await createVault(pair.primary.url, pair.primary.adminToken());
  await api(pair.primary.url, 'POST', '/api/entries', { token: owner, body: { title: 'once' } });
  await waitFor('drained', async () => (await pair.primary.status()).replication.backlog === 0);
  await pair.primary.kill();
  const Database = (await import('better-sqlite3')).default;
  const db = new Database(join(pair.primary.dataDir, 'vaults', `${vaultId}.db`), { readonly: true });
  const rows = db.prepare('SELECT * FROM revisions ORDER BY seq').all() as { seq: number; kind: string; subject: string | null; body: string; epoch: number; origin_pop: string; created_at: string }[];
  db.close();
  const push = { epoch: 1, sender: 'calgary-01', items: rows.map((r) => ({ vault_id: vaultId, seq: r.seq, kind: r.kind, subject: r.subject, body: r.body, epoch: r.epoch, origin_pop: r.origin_pop, created_at: r.created_at })) };
  const before = await api(pair.backup.url, 'GET', '/api/entries', { token: owner });
  const replay = await api(pair.backup.url, 'POST', '/replication/v1/push', { token, body: push });
  assert.equal(replay.status, 200);
  assert.deepEqual({ applied: replay.json.applied, skipped: replay.json.skipped }, { applied: 0, skipped: 2 });
  const after = await api(pair.backup.url, 'GET', '/api/entries', { token: owner });
  assert.deepEqual(after.json, before.json);

  // A gap is refused with the expected position, and nothing is written.
  const gap = { ...push, items: [{ ...push.items[1]!, seq: 5 }] };
  const g = await api(pair.backup.url, 'POST', '/replication/v1/push', { token, body: gap });
  assert.equal(g.status, 409);
  assert.equal(g.json.error.code, 'CV-5005');
  assert.deepEqual(g.json.error.expected, [{ vault_id: vaultId, seq: 3 }]);

  // A different revision at a held position is refused, never overwritten.
  const forged = { ...push, items: [{ ...push.items[1]!, body: push.items[0]!.body }] };
  const f = await api(pair.backup.url, 'POST', '/replication/v1/push', { token, body: forged });
  assert.equal(f.status, 409);
  assert.equal(f.json.error.code, 'CV-5010');

  // A push from a lower epoch is refused.
  const stale = await api(pair.backup.url, 'POST', '/replication/v1/push', { token, body: { ...push, epoch: 0 } });
  assert.equal(stale.status, 409);
  assert.equal(stale.json.error.code, 'CV-5004');
  assert.equal(stale.json.error.epoch, 1);
});
