/**
 * Backup outages, end to end (DESIGN.md §4.4.2–5, §4.4.9):
 *
 * - Case F7: an entry is created and deleted while the backup is down (SIGKILL); when the backup
 *   returns, the tombstone is applied — the entry is absent on the backup — and its history there
 *   shows both revisions, like on the primary.
 * - Case F10: the primary is SIGKILLed right after acknowledging a burst of 200 writes it could not
 *   push (replication link refused by a TCP proxy); after its restart every acknowledged write
 *   reaches the backup with no duplicate revision. A second burst is then made with the link up and
 *   the primary killed mid-stream, so that some pushes were applied by the backup but their
 *   acknowledgement never recorded: the re-push must be skipped, not applied twice.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { api, createVault, provisionPair, runCommercial, waitFor, type ServerProc, runningPairBehindProxy } from '../kit/pop.js';

type Rev = { seq: number; kind: string; epoch: number; origin_pop: string; created_at: string };

async function history(base: string, owner: string, id: string): Promise<Rev[]> {
  const r = await api(base, 'GET', `/api/entries/${id}/revisions`, { token: owner });
  assert.equal(r.status, 200, `history of ${id}: ${JSON.stringify(r.json)}`);
  return r.json.revisions as Rev[];
}

/** Sum of `applied` over the backup's push logs (every revision must be applied exactly once). */
const appliedOn = (backup: ServerProc): number =>
  backup.logLines().filter((l) => l.event === 'replication.push_applied').reduce((n, l) => n + (l.applied as number), 0);

test('F7: an entry created and deleted while the backup is down is absent on the backup, with both revisions in its history', async (t) => {
  const pair = await provisionPair({ maxRetries: 2 });
  t.after(() => pair.stop());
  const { primary, backup } = pair;
  await backup.start();
  await primary.start();
  const P = primary.url;
  const B = backup.url;
  const { owner } = await createVault(P, primary.adminToken());
  const keeper = await api(P, 'POST', '/api/entries', { token: owner, body: { title: 'keeper', fields: [{ label: 'k', value: 'v1' }] } });
  await waitFor('keeper on backup', async () => (await api(B, 'GET', `/api/entries/${keeper.json.id}`, { token: owner })).status === 200);

  await backup.kill('SIGKILL');
  const doomed = await api(P, 'POST', '/api/entries', { token: owner, body: { title: 'doomed', fields: [{ label: 'secret', value: 's' }] } });
  assert.equal(doomed.status, 201);
  const id = doomed.json.id as string;
  const del = await api(P, 'DELETE', `/api/entries/${id}`, { token: owner });
  assert.equal(del.status, 204);
  const upd = await api(P, 'PUT', `/api/entries/${keeper.json.id}`, { token: owner, headers: { 'if-match': `"${keeper.json.version}"` }, body: { title: 'keeper', fields: [{ label: 'k', value: 'v2' }] } });
  assert.equal(upd.status, 200);
  assert.equal((await primary.status()).replication.backlog, 3);

  await backup.start();
  await waitFor('backlog drained after the backup returned', async () => (await primary.status()).replication.backlog === 0, 20000);
  assert.equal((await api(B, 'GET', `/api/entries/${id}`, { token: owner })).status, 404, 'tombstone applied on the backup');
  const list = await api(B, 'GET', '/api/entries', { token: owner });
  assert.deepEqual(list.json.entries.map((e: { id: string }) => e.id), [keeper.json.id]);
  const onBackup = await history(B, owner, id);
  assert.deepEqual(onBackup.map((r) => r.kind), ['entry.put', 'entry.delete']);
  assert.deepEqual(onBackup, await history(P, owner, id), 'same revisions (seq, epoch, origin, time) on both POPs');
  const k = await api(B, 'GET', `/api/entries/${keeper.json.id}`, { token: owner });
  assert.equal(k.json.fields[0].value, 'v2');
  assert.equal(k.json.version, upd.json.version);

  const v = await runCommercial(['verify', '--primary', P, '--backup', B, '--token-file', pair.keyFile]);
  assert.equal(v.code, 0, `verify: ${v.stdout}${v.stderr}`);
});

test('F10: every write acknowledged just before a SIGKILL of the primary reaches the backup exactly once', async (t) => {
  const { pair, proxy } = await runningPairBehindProxy(t, { batchSize: 50, maxRetries: 3 });
  const { primary, backup } = pair;
  const P = primary.url;
  const B = backup.url;
  const vaults = [await createVault(P, primary.adminToken()), await createVault(P, primary.adminToken())];
  await waitFor('vaults on backup', async () => (await primary.status()).replication.backlog === 0);
  let revisions = 2; // the two vault creations

  /** 200 writes, 8 at a time, spread over both vaults; returns the acknowledged entries. */
  const burst = async (tag: string) => {
    const out: { id: string; owner: string; title: string }[] = [];
    let next = 0;
    await Promise.all(Array.from({ length: 8 }, async () => {
      while (next < 200) {
        const i = next++;
        const { owner } = vaults[i % 2]!;
        const title = `${tag}-${i}`;
        const r = await api(P, 'POST', '/api/entries', { token: owner, body: { title, fields: [{ label: 'n', value: title }] } });
        assert.equal(r.status, 201, `${title}: ${JSON.stringify(r.json)}`);
        out.push({ id: r.json.id, owner, title });
      }
    }));
    return out;
  };
  const checkAll = async (acked: { id: string; owner: string; title: string }[]) => {
    for (const a of acked) {
      const r = await api(B, 'GET', `/api/entries/${a.id}`, { token: a.owner });
      assert.equal(r.status, 200, `acknowledged write ${a.title} missing on the backup`);
      assert.equal(r.json.fields[0].value, a.title);
      assert.equal((await history(B, a.owner, a.id)).length, 1, `${a.title}: one revision on the backup`);
    }
    for (const { owner } of vaults) {
      const lp = await api(P, 'GET', '/api/entries', { token: owner });
      const lb = await api(B, 'GET', '/api/entries', { token: owner });
      assert.deepEqual(lb.json, lp.json, 'same entries, versions and titles on both POPs');
    }
    const v = await runCommercial(['verify', '--primary', P, '--backup', B, '--token-file', pair.keyFile, '--json']);
    assert.equal(v.code, 0, `verify: ${v.stdout}${v.stderr}`);
    assert.deepEqual(JSON.parse(v.stdout), { identical: true, vaults: 2, differing: [] });
  };

  // Burst 1: link refused, so nothing of it can be pushed; SIGKILL right after the last 2xx.
  proxy.setMode('refuse');
  const first = await burst('cut');
  await primary.kill('SIGKILL');
  revisions += first.length;
  // The link stays refused until the backlog is read: otherwise the restarted primary may already
  // have pushed a batch, and the count would be short (issue 17: this failed about 1 run in 3).
  await primary.start();
  assert.equal((await primary.status()).replication.backlog, 200, 'the whole burst is in the durable backlog after kill -9');
  proxy.setMode('forward');
  // The restarted primary reconciles with its backup at start and drains without a new write.
  await waitFor('burst 1 drained', async () => (await primary.status()).replication.backlog === 0, 20000);
  await checkAll(first);
  assert.equal(appliedOn(backup), revisions, 'every revision applied exactly once');

  // Burst 2: link up; the primary is killed while pushes are in flight (applied on the backup,
  // acknowledgement possibly lost), then restarted.
  const second = await burst('live');
  await primary.kill('SIGKILL');
  revisions += second.length;
  await primary.start();
  await waitFor('burst 2 drained', async () => (await primary.status()).replication.backlog === 0, 20000);
  await checkAll([...first, ...second]);
  assert.equal(appliedOn(backup), revisions, 'a re-pushed revision is skipped, never applied twice');
  const skipped = backup.logLines().filter((l) => l.event === 'replication.push_applied').reduce((n, l) => n + (l.skipped as number), 0);
  t.diagnostic(`F10: ${revisions} revisions applied once each; ${skipped} re-pushed revisions skipped`);
});
