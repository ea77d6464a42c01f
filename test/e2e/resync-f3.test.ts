/**
 * Case F3 (DESIGN.md §4.4.8): the backup's disk is wiped while the primary has a long history and
 * keeps taking writes. The backup is rebuilt from the primary's revision logs (full resync, with
 * progress visible in status, the `replication.resync` log event and `clavitor-commercial status`),
 * then follows the stream; there is no endless resync loop under constant writes: once the writer
 * stops the backlog reaches 0 within a bound and `clavitor-commercial verify` reports the pair
 * identical.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { api, BIN, createVault, sleep, waitFor, runningPair } from '../kit/pop.js';

/** Runs `clavitor-commercial <args>` without blocking the event loop. */
function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN.commercial, ...args], { timeout: 20_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

const FILLER = 'x'.repeat(1500);

test('F3: a wiped backup is rebuilt by full resync under constant writes, then follows the stream', async (t) => {
  const pair = await runningPair(t);
  const P = pair.primary.url;
  const B = pair.backup.url;

  // A long history: 3 vaults, 1500 revisions (vault.create + entry creates and updates).
  const vaults = [];
  for (let i = 0; i < 3; i++) vaults.push(await createVault(P, pair.primary.adminToken()));
  const perVault = 499;
  await Promise.all(vaults.map(async (v, vi) => {
    let last: { id: string; version: number } | undefined;
    for (let i = 0; i < perVault; i++) {
      const r = last && i % 3 === 2
        ? await api(P, 'PUT', `/api/entries/${last.id}`, { token: v.owner, headers: { 'if-match': `"${last.version}"` }, body: { title: `upd ${vi}/${i}`, fields: [{ label: 'notes', value: `${i} ${FILLER}` }] } })
        : await api(P, 'POST', '/api/entries', { token: v.owner, body: { title: `e ${vi}/${i}`, fields: [{ label: 'password', value: `p${i}`, tier: 'agent' }, { label: 'notes', value: `${i} ${FILLER}` }] } });
      assert.ok(r.status === 201 || r.status === 200, `history write ${r.status}`);
      last = { id: r.json.id, version: r.json.version };
    }
  }));
  const history = 3 * (perVault + 1);
  await waitFor('history replicated', async () => (await pair.primary.status()).replication.backlog === 0, 30_000);
  const v1 = await cliOk(['verify', '--primary', P, '--backup', B, '--token-file', pair.keyFile]);
  assert.match(v1, /^identical: 3 vaults/);

  // A client keeps writing ~50 writes/s to the primary for the rest of the scenario.
  let writing = true;
  t.after(() => { writing = false; }); // a failed wait must not leave this loop running
  const acked: { vault: number; id: string }[] = [];
  const failures: number[] = [];
  const writer = (async () => {
    for (let n = 0; writing; n++) {
      const vi = n % 3;
      void api(P, 'POST', '/api/entries', { token: vaults[vi]!.owner, body: { title: `live ${n}`, fields: [{ label: 'n', value: String(n) }] } })
        .then((r) => (r.status === 201 ? acked.push({ vault: vi, id: r.json.id }) : failures.push(r.status)), () => failures.push(0));
      await sleep(20);
    }
  })();

  // Poll the primary's status frequently and record what it says.
  const seen = { states: new Set<string>(), maxQueued: 0, progress: [] as number[], samples: [] as { startedAt: string; progress: number }[], resyncingAt: 0, idleWithBacklog: 0 };
  let polling = true;
  t.after(() => { polling = false; }); // a failed wait must not leave this loop running
  const poller = (async () => {
    while (polling) {
      const s = await pair.primary.status();
      const r = s.replication;
      seen.states.add(r.state);
      if (r.state === 'idle' && r.backlog > 0) seen.idleWithBacklog++;
      if (r.resync) {
        if (!seen.resyncingAt) seen.resyncingAt = Date.now();
        seen.maxQueued = Math.max(seen.maxQueued, r.resync.queued_revisions);
        seen.progress.push(r.resync.progress);
        seen.samples.push({ startedAt: r.resync.started_at, progress: r.resync.progress });
      }
      await sleep(10);
    }
  })();
  // `clavitor-commercial status` in a loop, keeping the outputs (the resync bar if we catch it).
  const statusOutputs: string[] = [];
  let cliLoop = true;
  t.after(() => { cliLoop = false; }); // a failed wait must not leave this loop running
  const adminTokenFile = join(pair.primary.dataDir, 'admin.token');
  const cliPoller = (async () => {
    while (cliLoop) {
      const r = await cli(['status', '--url', P, '--admin-token-file', adminTokenFile]);
      assert.equal(r.code, 0, r.stderr);
      statusOutputs.push(r.stdout);
    }
  })();

  await sleep(500);
  // Wipe the backup: kill -9, delete its data directory, start it empty.
  await pair.backup.kill('SIGKILL');
  rmSync(pair.backup.dataDir, { recursive: true, force: true });
  await sleep(700);
  const wipedAt = Date.now();
  await pair.backup.start();

  const done = await waitFor('resync done', () => pair.primary.logLines().find((l) => l.event === 'replication.resync_done'), 30_000);
  const startLog = pair.primary.logLines().find((l) => l.event === 'replication.resync');
  assert.ok(startLog, 'replication.resync log event emitted');
  assert.ok((startLog.revisions as number) >= history, `resync queued ${String(startLog.revisions)} ≥ the ${history} revisions of history`);
  const resyncMs = Date.parse(done.time as string) - Date.parse(startLog.time as string);

  // Following the stream: the writer keeps going for a while after the resync.
  const pushesAfterResync = (await pair.backup.status()).replication.pushes_received;
  await sleep(1500);
  assert.ok((await pair.backup.status()).replication.pushes_received > pushesAfterResync, 'the backup follows the stream after the resync');

  writing = false;
  await writer;
  const stoppedAt = Date.now();
  await waitFor('backlog 0 after the writer stopped', async () => (await pair.primary.status()).replication.backlog === 0, 10_000);
  const drainMs = Date.now() - stoppedAt;
  await sleep(200); // the last in-flight client writes
  await waitFor('backlog 0', async () => (await pair.primary.status()).replication.backlog === 0, 10_000);
  polling = false;
  cliLoop = false;
  await poller;
  await cliPoller;

  // Progress was visible: the log event above, and status while the snapshot was being shipped.
  assert.ok(seen.states.has('resyncing'), `status showed state resyncing (saw ${[...seen.states].join(', ')})`);
  assert.ok(seen.maxQueued >= history, `status showed resync.queued_revisions ${seen.maxQueued} ≥ ${history}`);
  t.diagnostic(`status states seen: ${[...seen.states].join(', ')}; resync.queued_revisions max ${seen.maxQueued}; progress samples ${seen.progress.length} (${seen.progress.slice(0, 3).map((p) => p.toFixed(2)).join(', ')} … ${seen.progress.slice(-2).map((p) => p.toFixed(2)).join(', ')})`);
  t.diagnostic(`resync of ${String(startLog.revisions)} revisions took ${resyncMs} ms (${Math.round((startLog.revisions as number) / Math.max(1, resyncMs) * 1000)} revisions/s), finished ${Date.parse(done.time as string) - wipedAt} ms after the wiped backup was started; ${acked.length} live writes; backlog 0 ${drainMs} ms after the writer stopped`);
  assert.equal(seen.idleWithBacklog, 0, 'status never said idle with a backlog');
  // docs/api.md: replication.resync.progress is 0..1, shown while the resync runs. It is
  // 1 − backlog / queued and the backlog includes live writes, so it may dip; over the resync it
  // must rise.
  assert.ok(seen.progress.length >= 2, `status showed resync progress (${seen.progress.length} samples)`);
  for (const p of seen.progress) assert.ok(p >= 0 && p <= 1, `progress ${p} within [0, 1]`);
  const byResync = new Map<string, typeof seen.samples>();
  for (const x of seen.samples) byResync.set(x.startedAt, [...(byResync.get(x.startedAt) ?? []), x]);
  const longest = [...byResync.values()].sort((a, b) => b.length - a.length)[0]!;
  assert.ok(longest.at(-1)!.progress > longest[0]!.progress, `progress increased during the resync (${longest.length} samples: ${longest[0]!.progress} → ${longest.at(-1)!.progress})`);
  assert.ok(Math.max(...longest.map((x) => x.progress)) >= 0.5, 'progress got past half way while we watched');

  // No endless loop: one resync, not one per write or per push.
  const resyncEvents = pair.primary.logLines().filter((l) => l.event === 'replication.resync');
  assert.ok(resyncEvents.length <= 2, `resync queued ${resyncEvents.length} times`);
  const ps = await pair.primary.status();
  assert.equal(ps.replication.state, 'idle');
  assert.equal(ps.replication.resync, null);
  assert.deepEqual(failures, [], 'every client write to the primary succeeded');
  assert.ok(acked.length >= 100, `writer made ${acked.length} writes`);

  // Identical data, and every write acknowledged during the wipe is on the backup.
  const v2 = await cliOk(['verify', '--primary', P, '--backup', B, '--token-file', pair.keyFile]);
  assert.match(v2, /^identical: 3 vaults on calgary-01 and zurich-01/);
  for (const a of acked.filter((_, i) => i % 25 === 0)) {
    const r = await api(B, 'GET', `/api/entries/${a.id}`, { token: vaults[a.vault]!.owner });
    assert.equal(r.status, 200, `entry ${a.id} on the backup`);
  }
  const applied = pair.backup.logLines().filter((l) => l.event === 'replication.push_applied').reduce((n, l) => n + (l.applied as number), 0);
  const primaryRevs = history + acked.length;
  assert.equal(applied, primaryRevs, 'the rebuilt backup applied every revision exactly once');

  // Operator status CLI: role, epoch, backlog lines (and the resync bar when caught).
  const last = statusOutputs.at(-1)!;
  assert.match(last, /^calgary-01 \(north-america\) {2}role primary {2}epoch 1\n/);
  assert.match(last, /\n {2}peer zurich-01 {2}state \w+ {2}backlog \d+ {2}lag [\d.]+ s\n/);
  assert.match(last, /\n {2}pushes sent \d+ {2}received 0 {2}last ack \S+/);
  const withBar = statusOutputs.find((o) => /resync \[[#.]{30}\] [\d.]+% {2}\d+\/\d+ revisions/.test(o));
  t.diagnostic(`status CLI runs: ${statusOutputs.length}; resync bar ${withBar ? `caught: ${withBar.split('\n').find((l) => l.startsWith('  resync ['))!.trim()}` : 'not caught (timing)'}`);
});

async function cliOk(args: string[]): Promise<string> {
  const r = await cli(args);
  assert.equal(r.code, 0, `clavitor-commercial ${args[0]} exited ${r.code}: ${r.stdout}${r.stderr}`);
  return r.stdout;
}
