/**
 * Issue 13 §2 "Resource exhaustion": 1,050 connections that send their headers and then withhold
 * their body made `/healthz` fail on a process with 1,024 file descriptors. Here 2,000 such
 * connections (half with a withheld body, half with unfinished headers) are held against a backup POP limited to 1,024 descriptors (`prlimit`, as
 * `LimitNOFILE=1024` would; the docs ask for `--max-connections` below the descriptor limit, so the
 * backup runs with 768), from eight loopback source addresses other than the owner's and the
 * peer's (Linux routes all of 127/8): one heavy source (1,000) and seven lighter ones (~143 each).
 * Meanwhile the owner's reads, `/healthz` and the primary's pushes must keep succeeding. Everything
 * waits for conditions; nothing asserts on timing. 2,000 sockets keep it light for a 2-core CI box.
 * Run: npm run build && node --import tsx --test --test-reporter=spec test/e2e/slow-clients.test.ts
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { Agent } from 'undici';
import { api, createVault, provisionPair, waitFor } from '../kit/pop.js';

const SLOW = 2000;
const FD_LIMIT = 1024;
const MAX_CONNECTIONS = 768;

/**
 * Opens one connection from `localAddress` that sends, then nothing more: `body` — a POST's
 * headers and 10 of its 100,000 body bytes (a backup answers 503 at once, but the connection
 * stays open for the rest of the body); `headers` — half a header block (slowloris).
 */
function slowClient(port: number, localAddress: string, open: Set<Socket>, kind: 'body' | 'headers'): Promise<void> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port, localAddress }, () => {
      s.write(kind === 'body'
        ? 'POST /api/entries HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"title":"'
        : 'GET /api/entries HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
      resolve();
    });
    s.resume(); // read (and drop) any answer, so that a close by the server is seen
    open.add(s);
    s.on('error', () => resolve());
    s.on('close', () => { open.delete(s); resolve(); });
  });
}

test('2,000 slow connections do not stop the owner\'s reads, /healthz or the peer\'s pushes on a 1,024-descriptor backup', { timeout: 120_000 }, async (t) => {
  const pair = await provisionPair();
  t.after(() => pair.stop());
  pair.backup.args.push('--max-connections', String(MAX_CONNECTIONS));
  await pair.backup.start();
  await pair.primary.start();
  execFileSync('prlimit', ['--pid', String(pair.backup.proc!.pid), `--nofile=${FD_LIMIT}:${FD_LIMIT}`]);

  const { owner } = await createVault(pair.primary.url, pair.primary.adminToken());
  const first = await api(pair.primary.url, 'POST', '/api/entries', { token: owner, body: { title: 'before the flood' } });
  assert.equal(first.status, 201);
  await waitFor('first entry replicated', async () => (await pair.primary.status()).replication.backlog === 0);

  const open = new Set<Socket>();
  let opened = 0;
  t.after(() => { for (const s of open) s.destroy(); });
  const sources = ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5', '127.0.0.6', '127.0.0.7', '127.0.0.8', '127.0.0.9'];
  const plan = Array.from({ length: SLOW }, (_, i) => (i % 2 === 0 ? sources[0]! : sources[1 + (i % 7)]!));
  for (let i = 0; i < plan.length; i += 100) {
    await Promise.all(plan.slice(i, i + 100).map((src, j) => slowClient(pair.backup.port, src, open, (i + j) % 4 < 2 ? 'body' : 'headers')));
    opened += Math.min(100, plan.length - i);
  }
  assert.equal(opened, SLOW);

  const ownerAgent = new Agent({ localAddress: '127.0.0.20' });
  const probeAgent = new Agent({ localAddress: '127.0.0.21' });
  t.after(async () => { await ownerAgent.close(); await probeAgent.close(); });
  for (let round = 1; round <= 3; round++) {
    // A slow client reconnects, as a flooder would: the cap keeps shedding.
    await Promise.all(sources.map((src, j) => slowClient(pair.backup.port, src, open, j % 2 === 0 ? 'body' : 'headers')));
    const health = await api(pair.backup.url, 'GET', '/healthz', { dispatcher: probeAgent });
    assert.equal(health.status, 200, `round ${round}: /healthz`);
    const w = await api(pair.primary.url, 'POST', '/api/entries', { token: owner, body: { title: `during the flood ${round}` } });
    assert.equal(w.status, 201);
    const read = await waitFor(`round ${round}: the entry pushed during the flood is readable on the backup`, async () => {
      const r = await api(pair.backup.url, 'GET', `/api/entries/${w.json.id}`, { token: owner, dispatcher: ownerAgent });
      return r.status === 200 ? r : undefined;
    }, 30_000);
    assert.equal(read.json.title, `during the flood ${round}`);
  }
  // The backup shed what did not fit: at most MAX_CONNECTIONS of the slow connections stay open.
  await waitFor('slow connections over the cap closed', () => open.size <= MAX_CONNECTIONS, 30_000);
  const shed = pair.backup.logLines().filter((l) => l.event === 'http.connections_shed');
  assert.ok(shed.length > 0, 'the backup logged the shedding');
  assert.ok(shed.every((l) => l.code === 'CV-2012' && l.level === 40), 'warn with CV-2012');
  assert.equal(pair.backup.exitCode, null, 'the backup is still running');
});
