/**
 * The product's one HTTP client kit (issue 16 item 2; src/lib/http-client.ts), against real HTTP
 * and HTTPS servers on loopback sockets (no mocks):
 * - the error body of docs/errors.md "HTTP error body" becomes an HttpError (a ClavitorError) with
 *   the server's code, message, status, extra fields, Retry-After and X-Primary-Location;
 * - an error answer without that body, a success answer of another shape (CV-6050), no answer at
 *   all (the caller's "unreachable" code), a server that never answers (headers timeout);
 * - TLS: a private CA (refused without it, with a `--ca-file` hint), a server name other than the
 *   URL's host;
 * - the peer client (src/replication/peer-client.ts) checks its answers with the wire schemas: a
 *   malformed epoch or push answer is a failure, never adopted (it was cast before).
 * The token never appears in an error message.
 * Run: node --import tsx --test --test-reporter=spec test/unit/http-client.test.ts
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { generateKeyPairSync } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { ClavitorError, Errors } from '../../src/lib/errors.js';
import { createHttpClient, HttpError, TransportError } from '../../src/lib/http-client.js';
import { createPeerClient } from '../../src/replication/peer-client.js';
import { EPOCH_PATH, PUSH_PATH } from '../../src/replication/wire.js';
import { NONCE_HEADER, SIGNATURE_HEADER, signParts } from '../../src/replication/signature.js';
import { issue, makeCa } from '../kit/pki.js';

const TOKEN = 'cvt1.v_unit.secret-token-never-in-messages';

/** Starts `server` on a loopback port; returns its port and a closer. */
async function listen(server: Server): Promise<{ port: number; close(): Promise<void> }> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}

/** A plain HTTP server answering with `handler`; the requests it saw are kept. */
async function serve(handler: (req: IncomingMessage, res: ServerResponse, body: string) => void) {
  const seen: { method: string; url: string; auth: string | undefined; body: string }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => { body += c.toString('utf8'); });
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', auth: req.headers.authorization, body });
      handler(req, res, body);
    });
  });
  const l = await listen(server);
  return { ...l, url: `http://127.0.0.1:${l.port}`, seen };
}

const json = (res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(value));
};

test('an error body becomes an HttpError with the server\'s code, message, status, fields and headers', async (t) => {
  // docs/errors.md: 503 CV-5001 with Retry-After: 5 and X-Primary-Location; CV-4001 carries current_version.
  const s = await serve((req, res) => {
    if (req.url === '/api/entries') json(res, 503, { error: { code: 'CV-5001', message: 'this POP is a backup' } }, { 'retry-after': '5', 'x-primary-location': 'https://calgary-01.example:8443' });
    else json(res, 409, { error: { code: 'CV-4001', message: 'entry was changed', current_version: 6 } });
  });
  t.after(() => s.close());
  const http = createHttpClient({ baseUrl: `${s.url}/`, token: TOKEN });
  t.after(() => http.close());

  const e1 = await http.call('POST', '/api/entries', z.unknown(), { json: { title: 'x' } }).then(() => undefined, (e: unknown) => e);
  assert.ok(e1 instanceof HttpError && e1 instanceof ClavitorError, 'an HttpError, which is a ClavitorError');
  assert.deepEqual([e1.code, e1.message, e1.status, e1.coded, e1.retryAfterSeconds, e1.primaryLocation], ['CV-5001', 'this POP is a backup', 503, true, 5, 'https://calgary-01.example:8443']);
  const e2 = await http.call('PUT', '/api/entries/e_1', z.unknown()).then(() => undefined, (e: unknown) => e);
  assert.ok(e2 instanceof HttpError);
  assert.deepEqual([e2.code, e2.status, e2.details], ['CV-4001', 409, { current_version: 6 }]);
  assert.equal(e2.retryAfterSeconds, undefined);

  assert.ok(s.seen.length === 2);
  assert.ok(s.seen.every((r) => r.auth === `Bearer ${TOKEN}`), 'the bearer token is sent');
  assert.equal(s.seen[0]!.body, '{"title":"x"}');
  assert.equal(s.seen[0]!.url, '/api/entries', 'the trailing slash of the base URL is dropped');
});

test('an error answer without an error body, and success answers of another shape', async (t) => {
  const s = await serve((req, res) => {
    if (req.url === '/proxy') { res.writeHead(502, { 'content-type': 'text/html' }); res.end('<html>bad gateway</html>'); return; }
    if (req.url === '/html') { res.writeHead(200, { 'content-type': 'text/html' }); res.end('<html>hello</html>'); return; }
    if (req.url === '/empty') { res.writeHead(204); res.end(); return; }
    json(res, 200, { pop_id: 'calgary-01', role: 'primary', epoch: 'seven' });
  });
  t.after(() => s.close());
  const http = createHttpClient({ baseUrl: s.url, token: TOKEN });
  t.after(() => http.close());

  const proxy = await http.call('GET', '/proxy', z.unknown()).then(() => undefined, (e: unknown) => e);
  assert.ok(proxy instanceof HttpError);
  assert.deepEqual([proxy.coded, proxy.code, proxy.status, proxy.message], [false, Errors.INTERNAL.code, 502, `HTTP 502 from ${s.url}`]);

  const Peer = z.object({ pop_id: z.string(), role: z.string(), epoch: z.number() });
  const shape = await http.call('GET', '/info', Peer).then(() => undefined, (e: unknown) => e);
  assert.ok(shape instanceof ClavitorError && !(shape instanceof HttpError));
  assert.equal(shape.code, 'CV-6050');
  assert.match(shape.message, /answered HTTP 200 with a body this version does not understand \(epoch: /);
  assert.doesNotMatch(shape.message, /seven/, 'the value is not echoed');

  const html = await http.call('GET', '/html', Peer).then(() => undefined, (e: unknown) => e);
  assert.ok(html instanceof ClavitorError);
  assert.equal(html.code, 'CV-6050');
  assert.match(html.message, /answered HTTP 200 with no JSON/);

  assert.equal(await http.call('DELETE', '/empty', z.undefined()), undefined, 'a 204 has no body');
  const raw = await http.send('GET', '/proxy');
  assert.deepEqual([raw.status, raw.json, raw.text], [502, undefined, '<html>bad gateway</html>'], 'send never throws for a status');
});

test('no answer: the caller\'s unreachable code, the reason, never the token; a silent server times out', async (t) => {
  // A port that was just closed refuses connections.
  const gone = await serve(() => {});
  await gone.close();
  const http = createHttpClient({ baseUrl: gone.url, token: TOKEN, unreachable: Errors.CLI_UNREACHABLE });
  t.after(() => http.close());
  const e = await http.send('GET', '/api/status').then(() => undefined, (x: unknown) => x);
  assert.ok(e instanceof TransportError && e instanceof ClavitorError);
  assert.deepEqual([e.code, e.reason], ['CV-6005', 'ECONNREFUSED']);
  assert.ok(e.message.startsWith(`${gone.url}: `), e.message);
  assert.doesNotMatch(e.message, /secret-token/);

  const silent = await serve(() => { /* never answers */ });
  t.after(() => silent.close());
  const slow = createHttpClient({ baseUrl: silent.url, token: TOKEN, timeoutMs: 300 });
  t.after(() => slow.close());
  const started = performance.now();
  const te = await slow.send('GET', '/').then(() => undefined, (x: unknown) => x);
  const tookMs = performance.now() - started;
  assert.ok(te instanceof TransportError);
  assert.deepEqual([te.code, te.reason], [Errors.HTTP_UNREACHABLE.code, 'UND_ERR_HEADERS_TIMEOUT']);
  assert.ok(tookMs >= 250 && tookMs < 5000, `headers timeout after ${Math.round(tookMs)} ms (limit 300 ms)`);

  const total = await slow.send('GET', '/', { timeoutMs: 0, totalTimeoutMs: 200 }).then(() => undefined, (x: unknown) => x);
  assert.ok(total instanceof TransportError);
  assert.equal(total.reason, 'TimeoutError', 'the total limit of one request');
});

test('TLS: a private CA is refused without the CA bundle (with a hint) and trusted with it; a server name other than the host', async (t) => {
  const ca = await makeCa('http-client-unit-ca');
  const leaf = await issue(ca, 'calgary-01');
  const server = createHttpsServer({ cert: leaf.cert, key: leaf.key }, (_req, res) => json(res, 200, { ok: true }));
  const l = await listen(server as unknown as Server);
  t.after(() => l.close());
  const Ok = z.object({ ok: z.literal(true) });

  const untrusted = createHttpClient({ baseUrl: `https://127.0.0.1:${l.port}`, token: TOKEN, caFlag: '--ca-file' });
  t.after(() => untrusted.close());
  const e = await untrusted.call('GET', '/', Ok).then(() => undefined, (x: unknown) => x);
  assert.ok(e instanceof TransportError);
  assert.equal(e.tlsVerify, true);
  assert.match(e.message, /pass --ca-file with the CA bundle/);

  const trusted = createHttpClient({ baseUrl: `https://127.0.0.1:${l.port}`, token: TOKEN, tls: { ca: Buffer.from(ca.cert) } });
  t.after(() => trusted.close());
  assert.deepEqual(await trusted.call('GET', '/', Ok), { ok: true });

  // The certificate names calgary-01 (and 127.0.0.1): a wrong server name is refused, the right one passes.
  const wrongName = createHttpClient({ baseUrl: `https://127.0.0.1:${l.port}`, tls: { ca: Buffer.from(ca.cert) }, servername: 'zurich-01' });
  t.after(() => wrongName.close());
  const wn = await wrongName.call('GET', '/', Ok).then(() => undefined, (x: unknown) => x);
  assert.ok(wn instanceof TransportError, 'a certificate without that name is refused');
  const byName = createHttpClient({ baseUrl: `https://127.0.0.1:${l.port}`, tls: { ca: Buffer.from(ca.cert) }, servername: 'calgary-01' });
  t.after(() => byName.close());
  assert.deepEqual(await byName.call('GET', '/', Ok), { ok: true });
});

test('the peer client refuses a malformed epoch or push answer instead of adopting it', async (t) => {
  const self = generateKeyPairSync('ed25519');
  const peer = generateKeyPairSync('ed25519');
  // A peer that signs its answers (issue 13 §1) but sends an epoch as a string and a 200 that is not an ack.
  const s = await serve((req, res) => {
    const path = (req.url ?? '').split('?')[0]!;
    const body = path === EPOCH_PATH ? JSON.stringify({ pop_id: 'zurich-01', role: 'backup', epoch: '999999' }) : JSON.stringify({ hello: 'not an ack' });
    const nonce = String(req.headers[NONCE_HEADER] ?? '');
    const sig = signParts(peer.privateKey, { kind: 'answer', method: '200', path, signer: 'zurich-01', nonce, body });
    res.writeHead(200, { 'content-type': 'application/json', [SIGNATURE_HEADER]: sig });
    res.end(body);
  });
  t.after(() => s.close());
  const client = createPeerClient({ url: s.url, token: TOKEN, selfPopId: 'calgary-01', signingKey: self.privateKey, peerKey: peer.publicKey, peerId: 'zurich-01' });
  t.after(() => client.close());

  const info = await client.epoch();
  assert.ok('error' in info, `a malformed epoch answer is an error, got ${JSON.stringify(info)}`);
  assert.match(info.error, /^malformed epoch answer \(epoch: /);

  const pushed = await client.push({ epoch: 1, sender: 'calgary-01', push_seq: 1, prev_lsn: 0, history: [], items: [] as never });
  assert.equal(pushed.ok, false, 'a 200 that is not an ack does not count as acknowledged');
  assert.deepEqual(pushed, { ok: false, kind: 'http', status: 200, code: Errors.HTTP_ANSWER_INVALID.code });
  assert.ok(s.seen.some((r) => r.url === PUSH_PATH));
});
