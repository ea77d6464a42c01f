/**
 * Case F8 (DESIGN.md §4.4.3): replication silently stops making progress — the link to the backup
 * goes through a TCP proxy in `blackhole` mode (connections are accepted, nothing is ever
 * answered). Pushes time out (PEER_TIMEOUT_MS), the retry and then the operator alert fire
 * (max_retries 1), `lag_seconds` in status and `clavitor_replication_lag_seconds` in /metrics keep
 * growing, and status never reports `idle` while the backlog is not empty. Once the link forwards
 * again, `clavitor-commercial resume` drains the backlog.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { api, BIN, createVault, runningPairBehindProxy, sleep, waitFor } from '../kit/pop.js';
import { PEER_TIMEOUT_MS } from '../../src/replication/peer-client.js';

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN.commercial, ...args], { timeout: 20_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

function lagMetric(text: string): number {
  const m = /^clavitor_replication_lag_seconds ([\d.e+-]+)$/m.exec(text);
  assert.ok(m, 'clavitor_replication_lag_seconds in /metrics');
  return Number(m[1]);
}

test('F8: a black-holed backup link times out, retries, alerts, shows growing lag; resume drains it', async (t) => {
  const { pair, proxy } = await runningPairBehindProxy(t, { maxRetries: 1 });
  const P = pair.primary.url;
  const B = pair.backup.url;
  const admin = () => pair.primary.adminToken();
  const { owner } = await createVault(P, admin());
  await waitFor('vault replicated', async () => (await pair.primary.status()).replication.backlog === 0);

  // Watch status for the whole stall: it must never say idle with a backlog.
  const samples: { at: number; state: string; backlog: number; lag: number }[] = [];
  let watching = true;
  const watcher = (async () => {
    while (watching) {
      const r = (await pair.primary.status()).replication;
      samples.push({ at: Date.now(), state: r.state, backlog: r.backlog, lag: r.lag_seconds });
      await sleep(100);
    }
  })();

  proxy.setMode('blackhole');
  const stalledAt = Date.now();
  for (let i = 0; i < 5; i++) {
    const r = await api(P, 'POST', '/api/entries', { token: owner, body: { title: `stalled ${i}`, fields: [{ label: 'k', value: `v${i}` }] } });
    assert.equal(r.status, 201, 'the primary keeps taking writes');
  }

  // Sample 1 of lag (status and metrics).
  await sleep(1500);
  const s1 = (await pair.primary.status()).replication;
  const m1 = lagMetric((await api(P, 'GET', '/metrics', { token: admin() })).json);
  assert.equal(s1.state, 'sending', 'the push is in flight, not idle');
  assert.equal(s1.backlog, 5);

  // The push times out after PEER_TIMEOUT_MS: a retry with a timeout error.
  const retry = await waitFor('retry after a timeout', () => pair.primary.logLines().find((l) => l.event === 'replication.retry'), PEER_TIMEOUT_MS + 5000);
  const retryAfterMs = Date.parse(retry.time as string) - stalledAt;
  assert.match(String(retry.last_error), /timeout/i);
  assert.ok(retryAfterMs >= PEER_TIMEOUT_MS - 500, `first attempt failed after ${retryAfterMs} ms (timeout ${PEER_TIMEOUT_MS} ms)`);

  // Sample 2: lag kept growing.
  const s2 = (await pair.primary.status()).replication;
  const m2 = lagMetric((await api(P, 'GET', '/metrics', { token: admin() })).json);
  assert.ok(s2.lag_seconds > s1.lag_seconds, `status lag ${s1.lag_seconds} → ${s2.lag_seconds}`);
  assert.ok(m2 > m1, `metric lag ${m1} → ${m2}`);
  assert.ok(s2.lag_seconds >= (PEER_TIMEOUT_MS - 1000) / 1000, `lag ${s2.lag_seconds} s reflects the stall`);
  assert.match(String(s2.last_error), /timeout/i);

  // max_retries 1: the retry times out too, then the operator alert.
  const degraded = await waitFor('degraded', async () => {
    const st = await pair.primary.status();
    return st.replication.state === 'degraded' ? st : undefined;
  }, PEER_TIMEOUT_MS + 8000);
  const alertLog = pair.primary.logLines().find((l) => l.event === 'replication.alert');
  assert.ok(alertLog, 'alert logged');
  assert.equal(alertLog.code, 'CV-5007');
  assert.equal(alertLog.level, 50);
  assert.equal(degraded.replication.retries, 1);
  assert.ok(degraded.replication.alerts >= 1);
  assert.equal(degraded.replication.backlog, 5, 'backlog kept');
  assert.ok(degraded.replication.lag_seconds > s2.lag_seconds, 'lag still growing');
  const m3text = String((await api(P, 'GET', '/metrics', { token: admin() })).json);
  assert.ok(lagMetric(m3text) > m2, 'metric lag still growing');
  assert.match(m3text, /^clavitor_replication_alerts_total\{reason="retries_exhausted"\} [1-9]/m);
  assert.match(m3text, /^clavitor_replication_pushes_total\{direction="sent",result="transport"\} 2$/m, 'two timed-out attempts');
  assert.match(m3text, /^clavitor_replication_backlog_revisions 5$/m);
  assert.equal((await pair.backup.status()).replication.pushes_received, 1, 'nothing reached the backup during the stall');

  // The link comes back; the operator resumes.
  proxy.setMode('forward');
  const resumed = await cli(['resume', '--url', P, '--admin-token-file', join(pair.primary.dataDir, 'admin.token')]);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stdout, /^resumed: sender \w+\n$/);
  const resumedAt = Date.now();
  await waitFor('drained after resume', async () => (await pair.primary.status()).replication.backlog === 0, 10_000);
  const drainMs = Date.now() - resumedAt;
  watching = false;
  await watcher;

  const after = (await pair.primary.status()).replication;
  assert.equal(after.state, 'idle');
  assert.equal(after.lag_seconds, 0);
  assert.equal(lagMetric(String((await api(P, 'GET', '/metrics', { token: admin() })).json)), 0);
  const bad = samples.filter((s) => s.state === 'idle' && s.backlog > 0);
  assert.deepEqual(bad, [], 'status never said idle with a backlog');
  const states = [...new Set(samples.map((s) => s.state))];
  t.diagnostic(`states seen: ${states.join(' → ')}; first timeout after ${retryAfterMs} ms; alert after ${Date.parse(alertLog.time as string) - stalledAt} ms; max lag ${Math.max(...samples.map((s) => s.lag))} s; drained ${drainMs} ms after resume`);
  for (const want of ['sending', 'retrying', 'degraded']) assert.ok(states.includes(want), `state ${want} seen`);

  const list = await api(B, 'GET', '/api/entries', { token: owner });
  assert.equal(list.json.entries.length, 5);
  const verify = await cli(['verify', '--primary', P, '--backup', B, '--token-file', pair.keyFile]);
  assert.equal(verify.code, 0, verify.stdout);
});
