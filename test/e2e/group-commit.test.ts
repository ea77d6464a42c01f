/**
 * Group commit (issue 12 item 2; src/store/group-commit.ts), over HTTP against real processes:
 *
 * - isolation: concurrent writes commit together, each in its own savepoint — a write refused
 *   inside the batch (a stale If-Match, or the loser of two updates from the same version)
 *   rejects alone; every other write of the batch is committed, the refused one is absent;
 * - crash safety: a commercial primary SIGKILLed while concurrent writes are in flight, several
 *   times: after each restart every acknowledged write is there with its body intact, the audit
 *   chain verifies, the entries table agrees with the revision log, and every revision (none was
 *   acknowledged by a backup: it is down) has its backlog record — nothing half-applied.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { api, BIN, createVault, provisionPair, ServerProc, tempDir } from '../kit/pop.js';
import { freePort } from '../kit/ports.js';
import { createClient } from '../../src/bin/cli/http.js';
import { verifyAudit } from '../../src/bin/cli/audit-cmd.js';

const metric = (text: string, name: string): number => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1] ?? NaN);

test('one failing write among many concurrent ones rejects alone; the rest of its batch commits', async (t) => {
  const tmp = tempDir();
  const port = await freePort();
  const data = join(tmp.dir, 'data');
  const srv = new ServerProc('community', BIN.community, ['serve', '--data', data, '--listen', `127.0.0.1:${port}`], port, data);
  t.after(async () => { await srv.kill(); tmp.cleanup(); });
  await srv.start();
  const { owner } = await createVault(srv.url, srv.adminToken());
  const base = await api(srv.url, 'POST', '/api/entries', { token: owner, body: { title: 'contended', fields: [{ label: 'v', value: 'base' }] } });
  assert.equal(base.status, 201);
  const id = base.json.id as string;
  const v0 = base.json.version as number;

  for (let round = 0; round < 3; round++) {
    const head = (await api(srv.url, 'GET', `/api/entries/${id}`, { token: owner })).json.version as number;
    const creates = Array.from({ length: 30 }, (_, i) => api(srv.url, 'POST', '/api/entries', { token: owner, body: { title: `r${round}-c${i}`, fields: [{ label: 'n', value: String(i) }] } }));
    const put = (title: string, version: number) => api(srv.url, 'PUT', `/api/entries/${id}`, { token: owner, headers: { 'if-match': `"${version}"` }, body: { title, fields: [{ label: 'v', value: title }] } });
    const [a, b, stale] = [put(`r${round}-A`, head), put(`r${round}-B`, head), put(`r${round}-stale`, v0 - 1)];
    const created = await Promise.all(creates);
    const [ra, rb, rs] = await Promise.all([a, b, stale]);

    assert.ok(created.length > 0 && created.every((r) => r.status === 201), `every create committed: ${created.map((r) => r.status).join(',')}`);
    assert.equal(rs.status, 409);
    assert.equal(rs.json.error.code, 'CV-4001');
    const statuses = [ra.status, rb.status].sort();
    assert.deepEqual(statuses, [200, 409], 'of two updates from the same version exactly one wins');
    const [winner, loser] = ra.status === 200 ? [ra, rb] : [rb, ra];
    assert.equal(loser.json.error.code, 'CV-4001');
    assert.equal(loser.json.error.current_version, winner.json.version);

    const list = (await api(srv.url, 'GET', '/api/entries', { token: owner })).json.entries as { id: string; title: string }[];
    for (let i = 0; i < 30; i++) assert.ok(list.some((e) => e.title === `r${round}-c${i}`), `r${round}-c${i} listed`);
    assert.equal(list.find((e) => e.id === id)?.title, winner.json.title);
    const history = (await api(srv.url, 'GET', `/api/entries/${id}/revisions`, { token: owner })).json.revisions as { seq: number }[];
    assert.equal(history.at(-1)!.seq, winner.json.version, 'no revision of the refused writes');
    const got = (await api(srv.url, 'GET', `/api/entries/${id}`, { token: owner })).json;
    assert.deepEqual([got.title, got.fields[0].value], [winner.json.title, winner.json.title]);
  }
  const m = (await api(srv.url, 'GET', '/metrics', { token: srv.adminToken() })).json as string;
  assert.ok(metric(m, 'clavitor_group_commit_max_jobs') >= 2, 'the concurrent writes were committed in shared batches');
  assert.ok(metric(m, 'clavitor_group_commit_jobs') > metric(m, 'clavitor_group_commit_batches'));
  const syncs = metric(m, 'clavitor_group_commit_syncs');
  assert.ok(syncs >= 1 && syncs <= metric(m, 'clavitor_group_commit_batches'), `one WAL fsync covers one or more batches: ${syncs} fsyncs`);
});

test('SIGKILL during group commits: every acknowledged write survives intact, nothing half-applied', async (t) => {
  const pair = await provisionPair();
  t.after(() => pair.stop());
  const P = pair.primary;
  await P.start(30000); // the backup stays down: nothing is acknowledged, everything stays in the backlog
  const { owner, vaultId } = await createVault(P.url, P.adminToken());
  const acked = new Map<string, { title: string; value: string }>();
  let n = 0;

  for (let round = 0; round < 3; round++) {
    if (round > 0) await P.start(30000);
    let stop = false;
    let inFlight = 0;
    let ackedThisRound = 0;
    const writer = async (w: number): Promise<void> => {
      while (!stop) {
        const title = `w${w}-${n++}`;
        const value = `${title}-${'x'.repeat(200)}`;
        inFlight++;
        try {
          const r = await api(P.url, 'POST', '/api/entries', { token: owner, body: { title, fields: [{ label: 'body', value }] } });
          if (r.status === 201) {
            acked.set(r.json.id, { title, value });
            ackedThisRound++;
          }
        } catch {
          return; // the connection died with the process
        } finally {
          inFlight--;
        }
      }
    };
    const writers = Array.from({ length: 16 }, (_, w) => writer(w));
    const t0 = performance.now();
    while (ackedThisRound < 40 + round * 20 && performance.now() - t0 < 20000) await new Promise((r) => setImmediate(r));
    assert.ok(inFlight > 0, 'writes in flight at the kill');
    await P.kill('SIGKILL');
    stop = true;
    await Promise.all(writers);
  }

  // Offline, read-only: the log, the derived state and the backlog agree.
  {
    const db = new Database(join(P.dataDir, 'clavitor.db'), { readonly: true });
    const revs = db.prepare('SELECT seq, kind, subject FROM revisions WHERE vault_id = ? ORDER BY seq').all(vaultId) as { seq: number; kind: string; subject: string | null }[];
    assert.ok(revs.length > acked.size);
    assert.deepEqual(revs.map((r) => r.seq), revs.map((_, i) => i + 1), 'seqs gap-free');
    // The backlog is the log past the backup's acknowledged position (issue 12 item 3).
    const backlog = db.prepare("SELECT seq FROM revisions WHERE vault_id = ? AND lsn > coalesce((SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'acked_lsn'), 0) ORDER BY seq").all(vaultId) as { seq: number }[];
    assert.deepEqual(backlog.map((b) => b.seq), revs.map((r) => r.seq), 'a backlog record for every revision, and no other');
    const entries = db.prepare('SELECT entry_id, head_seq, deleted FROM entries WHERE vault_id = ? ORDER BY entry_id').all(vaultId) as { entry_id: string; head_seq: number; deleted: number }[];
    const heads = new Map<string, number>();
    for (const r of revs) if (r.kind.startsWith('entry.')) heads.set(r.subject!, r.seq);
    assert.deepEqual(entries.map((e) => [e.entry_id, e.head_seq]), [...heads].sort((a, b) => (a[0] < b[0] ? -1 : 1)), 'entries derived from exactly the revisions present');
    db.close();
  }

  await P.start(30000);
  assert.ok(acked.size >= 120);
  for (const [id, w] of acked) {
    const r = await api(P.url, 'GET', `/api/entries/${id}`, { token: owner });
    assert.equal(r.status, 200, `acknowledged ${w.title} present`);
    assert.deepEqual([r.json.title, r.json.fields[0].value], [w.title, w.value]);
  }
  const audit = await verifyAudit(createClient(P.url, owner), 500);
  assert.equal(audit.ok, true, JSON.stringify(audit.first_broken));
  assert.ok(audit.records > acked.size);
});
