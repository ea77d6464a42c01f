/**
 * The community edition (DESIGN.md §1, §4.1): a single-node vault that serves the client API,
 * reports role `standalone`, and serves no replication route (404). Also checks DESIGN.md §2: no
 * plaintext title or field value in any file on disk.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'node:net';
import { api, BIN, createVault, ServerProc, tempDir } from '../kit/pop.js';
import { freePort } from '../kit/ports.js';

function allFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? allFiles(p) : [p];
  });
}

test('community serves the vault, no replication routes, and stores no plaintext', async (t) => {
  const tmp = tempDir();
  const port = await freePort();
  const srv = new ServerProc('community', BIN.community, ['serve', '--data', join(tmp.dir, 'data'), '--listen', `127.0.0.1:${port}`], port, join(tmp.dir, 'data'));
  t.after(async () => { await srv.kill(); tmp.cleanup(); });
  await srv.start();
  assert.match(srv.stdout, /^Community edition: single-node vault on http:\/\/127\.0\.0\.1:\d+\n$/);
  assert.equal(statSync(join(srv.dataDir, 'admin.token')).mode & 0o777, 0o600);

  const { owner } = await createVault(srv.url, srv.adminToken());
  const title = 'PLAINTEXT-TITLE-7d1f';
  const secret = 'PLAINTEXT-SECRET-93ab';
  const e = await api(srv.url, 'POST', '/api/entries', { token: owner, body: { title, fields: [{ label: 'password', value: secret, tier: 'owner' }, { label: 'api', value: `${secret}-agent`, tier: 'agent' }] } });
  assert.equal(e.status, 201);
  const upd = await api(srv.url, 'PUT', `/api/entries/${e.json.id}`, { token: owner, headers: { 'if-match': String(e.json.version) }, body: { title, fields: [{ label: 'password', value: `${secret}-2` }] } });
  assert.equal(upd.status, 200);
  const stale = await api(srv.url, 'PUT', `/api/entries/${e.json.id}`, { token: owner, headers: { 'if-match': String(e.json.version) }, body: { title: 'lost update' } });
  assert.equal(stale.status, 409);
  assert.equal(stale.json.error.code, 'CV-4001');
  const noIfMatch = await api(srv.url, 'PUT', `/api/entries/${e.json.id}`, { token: owner, body: { title: 'x' } });
  assert.equal(noIfMatch.status, 428);

  for (const [m, p] of [['POST', '/replication/v1/push'], ['POST', '/replication/v1/hello'], ['GET', '/replication/v1/epoch']] as const) {
    const r = await api(srv.url, m, p, { token: 'x', ...(m === 'POST' ? { body: {} } : {}) });
    assert.equal(r.status, 404, `${m} ${p}`);
  }
  const st = await srv.status();
  assert.deepEqual({ edition: st.edition, role: st.role }, { edition: 'community', role: 'standalone' });

  await srv.kill('SIGTERM');
  for (const f of allFiles(srv.dataDir)) {
    const bytes = readFileSync(f);
    for (const needle of [title, secret]) assert.equal(bytes.includes(Buffer.from(needle)), false, `${needle} found in ${f}`);
  }
});

test('bad input gets stable error codes and never a stack trace', async (t) => {
  const tmp = tempDir();
  const port = await freePort();
  const srv = new ServerProc('community', BIN.community, ['serve', '--data', join(tmp.dir, 'data'), '--listen', `127.0.0.1:${port}`], port, join(tmp.dir, 'data'));
  t.after(async () => { await srv.kill(); tmp.cleanup(); });
  await srv.start();
  const { owner } = await createVault(srv.url, srv.adminToken());
  const cases: [string, string, Record<string, unknown>, number, string][] = [
    ['POST', '/api/entries', { token: owner, body: '{not json' }, 400, 'CV-3002'],
    ['POST', '/api/entries', { token: owner, body: { title: 5 } }, 400, 'CV-3001'],
    ['POST', '/api/entries', { token: owner, body: { title: 'x', extra: 1 } }, 400, 'CV-3001'],
    ['POST', '/api/entries', { token: owner, body: { title: 'x', fields: [{ label: 'l', value: 'v', tier: 'root' }] } }, 400, 'CV-3001'],
    ['POST', '/api/entries', { body: { title: 'x' } }, 401, 'CV-2001'],
    ['POST', '/api/entries', { token: 'cvt1.v_AAAAAAAAAAAAAAAAAAAAAA.t_AAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', body: { title: 'x' } }, 401, 'CV-2002'],
    ['POST', '/api/entries', { token: owner.slice(0, -2) + 'AA', body: { title: 'x' } }, 401, 'CV-2002'],
    ['GET', '/api/entries/e_AAAAAAAAAAAAAAAAAAAAAA', { token: owner }, 404, 'CV-3004'],
    ['POST', '/api/vaults', { token: owner }, 401, 'CV-2002'],
    ['GET', '/api/status', { token: owner }, 401, 'CV-2002'],
    ['PUT', '/api/entries/e_AAAAAAAAAAAAAAAAAAAAAA', { token: owner, headers: { 'if-match': 'banana' }, body: { title: 'x' } }, 400, 'CV-3001'],
  ];
  for (const [m, p, o, status, code] of cases) {
    const r = await api(srv.url, m, p, o);
    assert.equal(r.status, status, `${m} ${p} ${JSON.stringify(o).slice(0, 80)}`);
    assert.equal(r.json.error.code, code);
    assert.doesNotMatch(JSON.stringify(r.json), /at .*\.(ts|js):\d+|node_modules|SQLITE/);
  }
  const big = await rawPost(port, '/api/entries', owner, 9 * 1024 * 1024);
  assert.equal(big.status, 413);
  assert.equal(JSON.parse(big.body).error.code, 'CV-3003');
  assert.equal((await api(srv.url, 'GET', '/healthz')).status, 200);
});

/**
 * Sends a POST whose Content-Length announces `declaredBytes` but writes only a few bytes, and
 * returns the status and body of the answer: the server must refuse on the announced length
 * (413) without waiting for the body. Raw socket, so no client-side backpressure can stall it.
 */
function rawPost(port: number, path: string, token: string, declaredBytes: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1');
    let text = '';
    const timer = setTimeout(() => { sock.destroy(); reject(new Error('no answer to an oversized request within 10 s')); }, 10_000);
    sock.on('data', (d) => {
      text += d;
      const m = /^HTTP\/1\.1 (\d{3})[^]*?\r\n\r\n([^]*\})/.exec(text);
      if (m) {
        clearTimeout(timer);
        sock.destroy();
        resolve({ status: Number(m[1]), body: m[2]! });
      }
    });
    sock.on('error', (e) => { clearTimeout(timer); reject(e); });
    sock.write(`POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: ${declaredBytes}\r\n\r\n{"title":"`);
  });
}
