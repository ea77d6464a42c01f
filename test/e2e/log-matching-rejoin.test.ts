/**
 * Issue 12 item 3, end to end (DESIGN.md §4.4.2 "one ordered stream", §4.4.7 "Rejoin without
 * loss"): the backup stores revisions at the primary's log positions (LSN), each epoch records the
 * position where it began, and a rejoining POP quarantines what lies past the point where its log
 * diverged from its new primary's.
 *
 * 1. Failover with a lost acknowledgement: calgary-01 (primary) replicates to zurich-01 through a
 *    TCP proxy; write A reaches zurich but its acknowledgement is lost, writes U1 and U2 never reach
 *    it. calgary is killed, zurich promoted (epoch 2, beginning at its last LSN + 1) and written to.
 *    calgary rejoins as backup: exactly U1 and U2 are listed in quarantine (A is held by zurich at
 *    the same position), both POPs report the same position (epoch history and last LSN), and
 *    `verify` finds them identical.
 * 2. Divergence past the acknowledged position: zurich's data directory goes back to an older
 *    snapshot (it loses revisions it had acknowledged) and is promoted; calgary rejoins. Its log
 *    past the point where zurich's epoch 2 began is not in zurich's log although acknowledged: it
 *    is quarantined (reason: log divergence, with the LSN), not merged and not lost, and the stream
 *    continues: both POPs end with the same log.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readFileSync, rmSync } from 'node:fs';
import { api, createVault, runCommercial, tempDir, waitFor, runningPairBehindProxy } from '../kit/pop.js';
import { promoteByFile, vaultOnPair, writeReplicated } from '../kit/pair.js';

const entry = (title: string) => ({ title, fields: [{ label: 'password', value: `pw-${title}` }] });

/** GET positions of a POP with the replication token. */
async function positions(url: string, keyFile: string): Promise<{ epoch: number; lsn: number; history: { epoch: number; start_lsn: number; pop_id: string }[] }> {
  const token = readFileSync(keyFile, 'utf8').split('\n')[0]!.trim();
  const r = await api(url, 'GET', '/replication/v1/positions', { token });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  return r.json;
}

type QRow = { vaultId: string; seq: number; subject: string | null; epoch: number; reason: string; heldAt: string | null };
async function quarantine(dataDir: string, all = false): Promise<QRow[]> {
  const q = await runCommercial(['quarantine', 'list', '--data', dataDir, '--json', ...(all ? ['--all'] : [])]);
  assert.equal(q.code, 0, q.stderr);
  return JSON.parse(q.stdout) as QRow[];
}

test('rejoin after failover: exactly the unacknowledged tail past the divergence point is quarantined; a write whose acknowledgement was lost matches', async (t) => {
  const { pair, proxy } = await runningPairBehindProxy(t);
  const { primary: calgary, backup: zurich } = pair;
  const C = calgary.url;
  const Z = zurich.url;
  // LSN 1: vault.create; 2–4: replicated writes.
  const { owner } = await createVault(C, calgary.adminToken());
  for (let i = 0; i < 3; i++) await writeReplicated(calgary, owner, entry(`replicated-${i}`));
  const before = await positions(Z, pair.keyFile);
  assert.deepEqual([before.lsn, before.history], [4, [{ epoch: 1, start_lsn: 1, pop_id: 'calgary-01' }]], 'the backup holds the primary\'s positions and history');

  // LSN 5: A reaches zurich, its acknowledgement is lost. LSN 6, 7: U1, U2 never reach zurich.
  proxy.setMode('drop-replies');
  const a = await api(C, 'POST', '/api/entries', { token: owner, body: entry('acked-ack-lost') });
  assert.equal(a.status, 201);
  await waitFor('zurich holds A', async () => (await api(Z, 'GET', `/api/entries/${a.json.id}`, { token: owner })).status === 200, 20000);
  proxy.setMode('refuse');
  const unacked: string[] = [];
  for (let i = 0; i < 2; i++) {
    const r = await api(C, 'POST', '/api/entries', { token: owner, body: entry(`unacked-${i}`) });
    assert.equal(r.status, 201);
    unacked.push(r.json.id);
  }
  await calgary.kill('SIGKILL');

  // Failover: zurich takes epoch 2, which begins at its last LSN + 1 = 6.
  await promoteByFile(pair, 'backup');
  const z = await api(Z, 'POST', '/api/entries', { token: owner, body: entry('zurich') });
  assert.equal(z.status, 201);
  const zp = await positions(Z, pair.keyFile);
  assert.deepEqual(zp.history, [{ epoch: 1, start_lsn: 1, pop_id: 'calgary-01' }, { epoch: 2, start_lsn: 6, pop_id: 'zurich-01' }]);
  assert.equal(zp.lsn, 6, 'zurich\'s first write in epoch 2 is at LSN 6');

  // calgary rejoins as backup.
  proxy.setMode('forward');
  pair.writeConfig('primary', pair.yamlFor('primary', 'backup'));
  await calgary.start();
  await waitFor('calgary holds zurich\'s write', async () => (await api(C, 'GET', `/api/entries/${z.json.id}`, { token: owner })).status === 200, 20000);
  await waitFor('zurich drained', async () => (await zurich.status()).replication.backlog === 0, 20000);

  assert.equal((await api(C, 'GET', `/api/entries/${a.json.id}`, { token: owner })).status, 200, 'A matches: same revision at LSN 5 on both');
  for (const id of unacked) assert.equal((await api(C, 'GET', `/api/entries/${id}`, { token: owner })).status, 404, 'set aside, not merged');
  const open = await quarantine(calgary.dataDir);
  assert.ok(open.length > 0);
  assert.deepEqual(open.map((r) => r.subject).sort(), [...unacked].sort(), 'exactly the unacknowledged tail past the divergence point (LSN 6)');
  // Set aside at demotion: the log past the acknowledged LSN 4 (A included, then marked held).
  for (const r of open) assert.match(r.reason, /^unacknowledged .*; lsn 5–7$/, 'the reason names the log positions set aside');
  for (const r of open) assert.equal(r.epoch, 1);
  assert.ok(!open.some((r) => r.subject === a.json.id), 'A is not listed');

  // One position for both: same history, same last LSN; same log (verify).
  const cp = await positions(C, pair.keyFile);
  const zp2 = await positions(Z, pair.keyFile);
  assert.deepEqual([cp.epoch, cp.lsn, cp.history], [zp2.epoch, zp2.lsn, zp2.history]);
  const v = await runCommercial(['verify', '--primary', Z, '--backup', C, '--token-file', pair.keyFile]);
  assert.equal(v.code, 0, v.stdout + v.stderr);
});

test('rejoin onto a successor that lost acknowledged revisions: what lies past the divergence point is quarantined as log divergence, and the logs converge', async (t) => {
  const { pair, calgary, zurich, C, Z, owner } = await vaultOnPair(t, { maxRetries: 2 });
  const kept: string[] = [];
  for (let i = 0; i < 2; i++) {
    const r = await api(C, 'POST', '/api/entries', { token: owner, body: entry(`kept-${i}`) });
    assert.equal(r.status, 201);
    kept.push(r.json.id);
  }
  await waitFor('replicated', async () => (await calgary.status()).replication.backlog === 0);
  // Snapshot of zurich's data directory at LSN 3.
  const snap = tempDir('clavitor-snap-');
  t.after(() => snap.cleanup());
  await zurich.kill('SIGTERM');
  cpSync(zurich.dataDir, snap.dir, { recursive: true });
  await zurich.start();
  // LSN 4, 5: acknowledged by zurich, then lost when zurich goes back to the snapshot.
  const lost: string[] = [];
  for (let i = 0; i < 2; i++) {
    const r = await api(C, 'POST', '/api/entries', { token: owner, body: entry(`acked-then-lost-${i}`) });
    assert.equal(r.status, 201);
    lost.push(r.json.id);
  }
  await waitFor('acknowledged', async () => (await calgary.status()).replication.backlog === 0);
  await calgary.kill('SIGKILL');
  await zurich.kill('SIGKILL');
  rmSync(zurich.dataDir, { recursive: true, force: true });
  cpSync(snap.dir, zurich.dataDir, { recursive: true });

  // zurich (restored, LSN 3) is promoted with calgary down: epoch 2 begins at LSN 4.
  pair.writeConfig('backup', pair.yamlFor('backup', 'primary'));
  await zurich.start();
  await waitFor('zurich promoted', async () => (await zurich.status()).accepting_writes === true, 20000);
  const z = await api(Z, 'POST', '/api/entries', { token: owner, body: entry('zurich') });
  assert.equal(z.status, 201);
  assert.deepEqual((await positions(Z, pair.keyFile)).history.at(-1), { epoch: 2, start_lsn: 4, pop_id: 'zurich-01' });

  // calgary rejoins: nothing was unacknowledged, but its LSN 4 and 5 are not zurich's.
  pair.writeConfig('primary', pair.yamlFor('primary', 'backup'));
  await calgary.start();
  await waitFor('calgary holds zurich\'s write', async () => (await api(C, 'GET', `/api/entries/${z.json.id}`, { token: owner })).status === 200, 20000);
  await waitFor('zurich drained', async () => (await zurich.status()).replication.backlog === 0, 20000);
  for (const id of kept) assert.equal((await api(C, 'GET', `/api/entries/${id}`, { token: owner })).status, 200, 'below the divergence point: kept');
  for (const id of lost) assert.equal((await api(C, 'GET', `/api/entries/${id}`, { token: owner })).status, 404, 'past it: set aside, not merged');
  const open = await quarantine(calgary.dataDir);
  assert.ok(open.length > 0);
  assert.deepEqual(open.map((r) => r.subject).sort(), [...lost].sort(), 'exactly what lies past the divergence point (LSN 4)');
  for (const r of open) assert.match(r.reason, /^log divergence: .*at lsn 4 .*; lsn 4–5$/);
  const matched = calgary.logLines().find((l) => l.event === 'replication.log_matched');
  assert.ok(matched, 'the rejoin is logged');
  assert.deepEqual([matched.divergence_lsn, matched.quarantined], [4, 2]);

  const cp = await positions(C, pair.keyFile);
  const zp = await positions(Z, pair.keyFile);
  assert.deepEqual([cp.lsn, cp.history], [zp.lsn, zp.history]);
  const v = await runCommercial(['verify', '--primary', Z, '--backup', C, '--token-file', pair.keyFile]);
  assert.equal(v.code, 0, v.stdout + v.stderr);
});
