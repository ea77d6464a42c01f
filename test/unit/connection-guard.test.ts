/**
 * The connection caps' rule (src/http/connection-guard.ts; docs/security.md "Connection limits"),
 * over real loopback sockets from distinct source addresses (Linux routes all of 127/8):
 * over the per-source cap a source evicts its own oldest connection; over the total cap the
 * source holding the most loses its oldest; the peer's connections are never evicted; trusted
 * proxies are free of the per-source cap.
 * Run: node --import tsx --test --test-reporter=spec test/unit/connection-guard.test.ts
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { createConnectionGuard, type ShedReason } from '../../src/http/connection-guard.js';
import { addressMatcher, parseCidrList } from '../../src/lib/cidr.js';
import { waitFor } from '../kit/pop.js';

interface Client { socket: Socket; closed: boolean; from: string }

async function setup(t: { after(fn: () => Promise<void> | void): void }, maxConnections: number, maxConnectionsPerSource: number, proxies = '') {
  const shed: { reason: ShedReason; source: string }[] = [];
  const accepted: Socket[] = [];
  const guard = createConnectionGuard({ limits: { maxConnections, maxConnectionsPerSource }, exempt: () => addressMatcher(parseCidrList(proxies)), onShed: (reason, source) => shed.push({ reason, source }) });
  const server: Server = createServer((s) => { accepted.push(s); s.resume(); });
  server.on('connection', (s: Socket) => guard.admit(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const clients: Client[] = [];
  t.after(async () => { for (const c of clients) c.socket.destroy(); await new Promise((r) => server.close(r)); });
  /** Connects from `from` and waits until the server has admitted (and maybe evicted for) it. */
  const open = async (from: string): Promise<Client> => {
    const before = accepted.length;
    const c: Client = { socket: connect({ host: '127.0.0.1', port, localAddress: from }), closed: false, from };
    c.socket.on('close', () => (c.closed = true));
    c.socket.on('error', () => {});
    c.socket.resume();
    clients.push(c);
    await waitFor(`connection from ${from} accepted`, () => accepted.length > before || c.closed);
    return c;
  };
  return { guard, shed, open, accepted };
}

test('over the per-source cap, a source evicts its own oldest connection, never another source\'s', async (t) => {
  const { guard, shed, open } = await setup(t, 100, 3);
  const other = await open('127.0.0.9');
  const flood: Client[] = [];
  for (let i = 0; i < 5; i++) flood.push(await open('127.0.0.2'));
  await waitFor('the two oldest of the flood closed', () => flood[0]!.closed && flood[1]!.closed);
  assert.deepEqual(flood.map((c) => c.closed), [true, true, false, false, false]);
  assert.equal(other.closed, false);
  assert.deepEqual(shed.map((s) => s.reason), ['per_source', 'per_source']);
  assert.ok(shed.every((s) => s.source === '127.0.0.2'));
  assert.deepEqual(guard.stats(), { total: 4, sources: 2 });
});

test('over the total cap, the source holding the most loses its oldest; a quiet newcomer gets in', async (t) => {
  const { shed, open } = await setup(t, 6, 10);
  const heavy: Client[] = [];
  for (let i = 0; i < 4; i++) heavy.push(await open('127.0.0.2'));
  const light = [await open('127.0.0.3'), await open('127.0.0.3')];
  const probe = await open('127.0.0.4');
  await waitFor('the heavy source\'s oldest closed', () => heavy[0]!.closed);
  assert.equal(probe.closed, false, 'the newcomer is kept');
  assert.ok(light.every((c) => !c.closed), 'the lighter source keeps its connections');
  assert.deepEqual(heavy.map((c) => c.closed), [true, false, false, false]);
  assert.deepEqual(shed, [{ reason: 'total', source: '127.0.0.2' }]);
});

test('the peer\'s connections are never evicted and do not count against its source; when only the peer\'s remain, a newcomer is refused', async (t) => {
  const { guard, shed, open, accepted } = await setup(t, 3, 1);
  // Each marked as the peer's once accepted (in the app: a request with a valid replication token).
  const peer = [await open('127.0.0.1')];
  guard.markPeer(accepted[0]!);
  peer.push(await open('127.0.0.1'));
  guard.markPeer(accepted[1]!);
  assert.ok(peer.every((c) => !c.closed), 'the second one was not shed: the first is the peer\'s');
  const guesser = await open('127.0.0.1');
  assert.equal(guesser.closed, false, 'an ordinary connection from the peer\'s address fits its per-source cap');
  const late = await open('127.0.0.5');
  await waitFor('the ordinary connection from the peer\'s address evicted', () => guesser.closed);
  assert.ok(peer.every((c) => !c.closed), 'the peer keeps both');
  assert.equal(late.closed, false);
  guard.markPeer(accepted[3]!);
  const refused = await open('127.0.0.6');
  await waitFor('refused', () => refused.closed);
  assert.ok(peer.every((c) => !c.closed) && !late.closed);
  assert.deepEqual(shed.map((s) => s.reason), ['total', 'refused']);
});

test('a trusted proxy is free of the per-source cap (the total cap still applies)', async (t) => {
  const { shed, open } = await setup(t, 5, 1, '127.0.0.7/32');
  const viaProxy: Client[] = [];
  for (let i = 0; i < 4; i++) viaProxy.push(await open('127.0.0.7'));
  assert.ok(viaProxy.every((c) => !c.closed));
  assert.deepEqual(shed, []);
});
