/**
 * Case F13 (issue 11 item 3; DESIGN.md §4.5 "… or holds revisions it lacks"): calgary-01's data
 * directory is restored from an older snapshot while zurich-01 holds newer acknowledged revisions.
 * A primary that learns its backup holds revisions it lacks stops acknowledging writes (503
 * CV-5018) with a persistent alert (status `hold`, metric, error log), kept across a restart, until
 * the operator resolves it by the runbook of docs/operations.md: fail over to the backup, then (to
 * take the backup's history back) switch over again — after which `verify` finds the POPs identical.
 * A push counter that went backwards with the restore is reported as that (CV-5019), on both POPs,
 * not as a replay attack.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { api, createVault, runCommercial, runningPairBehindProxy, waitFor, type Pair, type ServerProc } from '../kit/pop.js';
import { vaultOnPair, writeReplicated } from '../kit/pair.js';

const entry = (title: string) => ({ title, fields: [{ label: 'n', value: title }] });

/** Stops calgary, copies its data directory aside, restarts it; returns a function restoring that copy (calgary stopped). */
async function snapshot(calgary: ServerProc, dir: string): Promise<() => Promise<void>> {
  const snap = join(dir, 'calgary-snapshot');
  await calgary.kill('SIGKILL');
  cpSync(calgary.dataDir, snap, { recursive: true });
  await calgary.start();
  return async () => {
    await calgary.kill('SIGKILL');
    rmSync(calgary.dataDir, { recursive: true, force: true });
    cpSync(snap, calgary.dataDir, { recursive: true });
  };
}

async function alertMetric(p: ServerProc, reason: string): Promise<number> {
  const r = await fetch(`${p.url}/metrics`, { headers: { authorization: `Bearer ${p.adminToken()}` } });
  const line = (await r.text()).split('\n').find((l) => l.startsWith(`clavitor_replication_alerts_total{reason="${reason}"}`));
  return line ? Number(line.split(' ')[1]) : 0;
}

async function swap(pair: Pair, newPrimary: 'primary' | 'backup'): Promise<void> {
  const oldP = newPrimary === 'backup' ? pair.primary : pair.backup;
  const newP = newPrimary === 'backup' ? pair.backup : pair.primary;
  pair.writeConfig(newPrimary === 'backup' ? 'primary' : 'backup', pair.yamlFor(newPrimary === 'backup' ? 'primary' : 'backup', 'backup'));
  oldP.signal('SIGHUP');
  await waitFor(`${oldP.name} demoted`, async () => (await oldP.status()).role === 'backup');
  pair.writeConfig(newPrimary, pair.yamlFor(newPrimary, 'primary'));
  newP.signal('SIGHUP');
  await waitFor(`${newP.name} promoted`, async () => (await newP.status()).accepting_writes === true, 20000);
}

test('F13: a primary restored from an older snapshot stops acknowledging writes until the operator takes the backup\'s history back', async (t) => {
  const { pair, calgary, zurich, C, Z, owner } = await vaultOnPair(t);
  await writeReplicated(calgary, owner, entry('in-snapshot'));
  const restore = await snapshot(calgary, pair.dir);

  const newer: string[] = [];
  for (const n of ['newer-1', 'newer-2']) {
    const r = await api(C, 'POST', '/api/entries', { token: owner, body: entry(n) });
    assert.equal(r.status, 201);
    newer.push(r.json.id as string);
  }
  await waitFor('newer writes on zurich', async () => (await calgary.status()).replication.backlog === 0);

  await restore();
  await calgary.start();
  const cs = await calgary.status();
  assert.equal(cs.accepting_writes, false, 'no write acknowledged by a primary behind its backup');
  assert.equal(cs.hold?.reason, 'backup_ahead');
  assert.equal(cs.hold?.code, 'CV-5018');
  assert.ok(Array.isArray(cs.hold?.vaults) && cs.hold.vaults.length === 1);
  assert.match(calgary.stdout, /\nRefusing client writes: CV-5018: /);
  const refused = await api(C, 'POST', '/api/entries', { token: owner, body: entry('refused') });
  assert.equal(refused.status, 503);
  assert.equal(refused.json.error.code, 'CV-5018');
  assert.equal(await alertMetric(calgary, 'backup_ahead'), 1);
  assert.equal(calgary.logLines().filter((l) => l.event === 'pop.backup_ahead' && l.code === 'CV-5018').length, 1);

  // Persistent: a restart while the backup cannot be reached keeps the hold.
  await zurich.kill('SIGKILL');
  await calgary.kill('SIGKILL');
  await calgary.start();
  const again = await calgary.status();
  assert.equal(again.hold?.reason, 'backup_ahead');
  assert.equal((await api(C, 'POST', '/api/entries', { token: owner, body: entry('refused-2') })).json.error.code, 'CV-5018');
  await zurich.start();

  // Runbook (b): fail over to the backup. calgary rejoins as backup and receives what it lacked.
  await swap(pair, 'backup');
  assert.equal((await calgary.status()).hold, null);
  const onZurich = await api(Z, 'POST', '/api/entries', { token: owner, body: entry('on-zurich') });
  assert.equal(onZurich.status, 201);
  await waitFor('zurich drained to calgary', async () => (await zurich.status()).replication.backlog === 0, 20000);
  for (const id of [...newer, onZurich.json.id as string]) assert.equal((await api(C, 'GET', `/api/entries/${id}`, { token: owner })).status, 200);

  // Runbook (a): switch back (drain, demote zurich, promote calgary); nothing lost on either side.
  const drain = await runCommercial(['drain', '--url', Z, '--admin-token-file', join(zurich.dataDir, 'admin.token')]);
  assert.equal(drain.code, 0, drain.stdout + drain.stderr);
  await swap(pair, 'primary');
  const back = await api(C, 'POST', '/api/entries', { token: owner, body: entry('calgary-again') });
  assert.equal(back.status, 201);
  await waitFor('calgary drained to zurich', async () => (await calgary.status()).replication.backlog === 0, 20000);
  const v = await runCommercial(['verify', '--primary', C, '--backup', Z, '--token-file', pair.keyFile]);
  assert.equal(v.code, 0, v.stdout + v.stderr);
});

test('F13 with the backup unreachable at start: the push counter gone back is reported as a restore on both POPs, then writes are held', async (t) => {
  const { pair, proxy } = await runningPairBehindProxy(t);
  const { primary: calgary, backup: zurich } = pair;
  const C = calgary.url;
  const { owner } = await createVault(C, calgary.adminToken());
  await writeReplicated(calgary, owner, entry('in-snapshot'));
  const restore = await snapshot(calgary, pair.dir);
  for (const n of ['newer-1', 'newer-2', 'newer-3']) await writeReplicated(calgary, owner, entry(n), 'newer writes on zurich');

  // Restored while the link is down: calgary cannot know yet, and accepts a write (issue 3 rule).
  await restore();
  proxy.setMode('refuse');
  await calgary.start();
  const blind = await api(C, 'POST', '/api/entries', { token: owner, body: entry('blind') });
  assert.equal(blind.status, 201);
  proxy.setMode('forward');
  const resume = await runCommercial(['resume', '--url', C, '--admin-token-file', join(calgary.dataDir, 'admin.token')]);
  assert.equal(resume.code, 0, resume.stdout + resume.stderr);

  await waitFor('calgary held', async () => (await calgary.status()).hold?.reason === 'backup_ahead', 20000);
  const behind = calgary.logLines().filter((l) => l.event === 'replication.push_counter_behind');
  assert.ok(behind.length >= 1, 'calgary reports its push counter behind');
  assert.equal(behind[0]!.code, 'CV-5019');
  assert.match(String(behind[0]!.msg), /push counter behind the backup's.*restored from snapshot\?/);
  const seen = zurich.logLines().filter((l) => l.event === 'replication.push_counter_behind');
  assert.ok(seen.length >= 1, 'zurich reports it too');
  assert.match(String(seen[0]!.msg), /Restored from snapshot\?/);
  assert.ok(await alertMetric(calgary, 'push_counter_behind') >= 1);
  assert.equal((await api(C, 'POST', '/api/entries', { token: owner, body: entry('refused') })).json.error.code, 'CV-5018');

  // Failing over to zurich sets calgary's blind write aside (quarantine), never merges it.
  await swap(pair, 'backup');
  await waitFor('zurich drained to calgary', async () => (await zurich.status()).replication.backlog === 0, 20000);
  assert.equal((await api(C, 'GET', `/api/entries/${blind.json.id}`, { token: owner })).status, 404);
  const q = await runCommercial(['quarantine', 'list', '--data', calgary.dataDir, '--json']);
  assert.deepEqual((JSON.parse(q.stdout) as { subject: string }[]).map((r) => r.subject), [blind.json.id]);
});
