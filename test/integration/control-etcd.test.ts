/**
 * High availability on etcd (issue 5 item 4): two `clavitor-control --etcd` instances share POP
 * state in a real etcd (Debian's etcd-server, started here on loopback) and elect the one that
 * decides. A non-leader stores heartbeats, grants leases and hands out the directive the leader
 * wrote; killing the leader hands the decisions to the other instance.
 *
 * Without the `etcd` binary these tests FAIL (install etcd-server), unless CLAVITOR_NO_ETCD=1.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sleep, waitFor } from '../kit/pop.js';
import { ELECTION_TTL_SECONDS } from '../../src/controlplane/server/leadership.js';
import { beatUntil, controlProc, etcdFixture, FAST_CONFIG, FAST_EXPIRY_MS, SimPop, type ControlProc } from '../kit/control.js';

const isLeader = async (cp: ControlProc): Promise<boolean> => (await cp.status()).control_plane.leader;

test('etcd: two instances share state; the non-leader relays the leader\'s directive; killing the leader hands over the decision', async (t) => {
  const world = await etcdFixture(t);
  if (world === undefined) return;
  const { fx, etcd, token } = world;
  const a = await controlProc('cp-a', fx, token, ['--etcd', etcd.endpoint]);
  const b = await controlProc('cp-b', fx, token, ['--etcd', etcd.endpoint]);
  try {
    await a.start();
    await waitFor('cp-a to lead', () => isLeader(a), 10_000);
    await b.start();
    await sleep(500);
    assert.equal(await isLeader(b), false, 'one leader at a time');
    assert.equal((await b.status()).control_plane.store, 'etcd');

    // Both POPs talk only to the non-leader: it stores their heartbeats and grants the lease.
    const calgary = new SimPop('calgary-01', 'zurich-01', 'primary');
    const zurich = new SimPop('zurich-01', 'calgary-01', 'backup');
    for (let i = 0; i < 4; i++) {
      assert.equal((await calgary.beat(b)).answer.lease_ttl_ms, FAST_CONFIG.lease_ttl_seconds * 1000);
      assert.equal((await zurich.beat(b)).answer.lease_ttl_ms, 0);
      await sleep(250);
    }
    assert.deepEqual((await a.status()).pops.map((p) => p.pop_id), ['calgary-01', 'zurich-01'], 'the leader sees what the other instance stored');

    // calgary-01 dies; the leader (cp-a) decides, the non-leader (cp-b) hands the directive to zurich-01.
    const last = calgary.beats.at(-1)!;
    const promoted = await beatUntil(zurich, b, (x) => x.answer.directive !== null, FAST_EXPIRY_MS + 5000);
    assert.deepEqual(promoted.answer.directive, { action: 'promote', epoch: 2 });
    assert.ok(promoted.answeredMs > last.sentMs + FAST_EXPIRY_MS, 'not before the lease expired');
    const decidedBy = (await b.status()).pairs[0]?.assessment?.by ?? '';
    assert.match(decidedBy, new RegExp(`:${a.port}$`), `decided by the leader cp-a, not ${decidedBy}`);
    assert.equal((await zurich.beat(b)).answer.lease_ttl_ms, 2000, 'the promoted POP gets its lease in epoch 2');
    assert.deepEqual((await calgary.beat(b)).answer.directive, { action: 'demote', epoch: 2, primary_id: 'zurich-01' });

    // Kill the deciding instance: cp-b takes over within the election lease.
    await a.kill('SIGKILL');
    await waitFor('cp-b to lead', () => isLeader(b), (ELECTION_TTL_SECONDS + 5) * 1000);

    // zurich-01 (now primary) dies; cp-b decides: calgary-01 promoted in epoch 3.
    const lastZ = zurich.beats.at(-1)!;
    const second = await beatUntil(calgary, b, (x) => x.answer.directive !== null, FAST_EXPIRY_MS + 5000);
    assert.deepEqual(second.answer.directive, { action: 'promote', epoch: 3 });
    assert.ok(second.answeredMs > lastZ.sentMs + FAST_EXPIRY_MS);
    const pair = (await b.status()).pairs[0]!;
    assert.equal(pair.primary_id, 'calgary-01');
    assert.match(pair.assessment?.by ?? '', new RegExp(`:${b.port}$`));
    assert.ok(b.logLines().some((l) => l.event === 'control.leader'), 'cp-b logged taking over');
  } finally {
    await a.kill();
    await b.kill();
    await etcd.stop();
    fx.cleanup();
  }
});

test('etcd unreachable: a heartbeat is answered 503 CV-6102 quickly (the POP then fences itself at lease expiry)', async (t) => {
  const world = await etcdFixture(t);
  if (world === undefined) return;
  const { fx, etcd, token } = world;
  const cp = await controlProc('cp', fx, token, ['--etcd', etcd.endpoint]);
  try {
    await cp.start();
    const pop = new SimPop('calgary-01', 'zurich-01', 'primary');
    assert.equal((await pop.beat(cp)).answer.lease_ttl_ms, 2000);
    await etcd.stop();
    const t0 = Date.now();
    const r = await cp.heartbeat(pop.report());
    assert.equal(r.status, 503);
    assert.equal(r.json.error.code, 'CV-6102');
    assert.ok(Date.now() - t0 < 7000, `answered in ${Date.now() - t0} ms`);
  } finally {
    await cp.kill();
    await etcd.stop();
    fx.cleanup();
  }
});
