/**
 * Field case F12 (issue 11 item 1), end to end: a real `clavitor-control`, a real primary and
 * backup, TCP fault proxies on every link of the primary (to the control plane, to the backup, from
 * the backup), and the primary started with the clock-shift preload (test/kit/clock-shift.mjs),
 * which steps its wall clock (`Date`) while leaving the monotonic clock alone. Heartbeat interval
 * 1 s, lease 2 s, safety margin 500 ms, failover after 5 missed heartbeats (FAST_CONFIG otherwise).
 *
 * Contract (DESIGN.md §2 "Time", docs/control-plane.md): a lease runs for `lease_ttl_ms` from the
 * moment the heartbeat was sent, on the monotonic clock; every window, block and backoff likewise.
 * A wall-clock step in either direction changes none of them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect as netConnect } from 'node:net';
import { Agent } from 'undici';
import { api, createVault, provisionPair, sleep, waitFor, type Pair } from '../kit/pop.js';
import { startProxy, type TcpProxy } from '../kit/tcp-proxy.js';
import { stepWallClock, withClockShift } from '../kit/clock-shift.js';
import { controlPlaneBlock, FAST_CONFIG, startedControl, type ControlFixture, type ControlProc } from '../kit/control.js';

const LEASE_MS = FAST_CONFIG.lease_ttl_seconds * 1000;
const STEP_MS = 120_000;

interface World {
  pair: Pair;
  cp: ControlProc;
  fx: ControlFixture;
  /** primary → backup (replication). */
  toBackup: TcpProxy;
  /** backup → primary (hello; pushes once the backup is promoted). */
  toPrimary: TcpProxy;
  /** primary → control plane (heartbeats). */
  cpFromPrimary: TcpProxy;
  /** The primary's wall-clock offset file. */
  clockFile: string;
  stop(): Promise<void>;
}

async function world(): Promise<World> {
  // The probes keep writing up to the partition: allow the failover despite a few unreplicated revisions.
  // Failover after 5 missed heartbeats (≈ 5 s) instead of 2: the backup is promoted seconds after the
  // primary's 2 s lease ran out, so a slow answer on a loaded machine cannot make a correct primary
  // look like a second writer (the lease assertions below are what catches the bug).
  const { fx, cp } = await startedControl({ ...FAST_CONFIG, failover_after_missed_heartbeats: 5, max_lag_on_failover: 1000 });
  const pair = await provisionPair();
  const toBackup = await startProxy(pair.backup.port);
  const toPrimary = await startProxy(pair.primary.port);
  const cpFromPrimary = await startProxy(cp.port);
  const cpBlock = (port: number) => controlPlaneBlock(fx, port);
  pair.writeConfig('primary', pair.yamlFor('primary', 'primary').replace(`http://127.0.0.1:${pair.backup.port}`, `http://127.0.0.1:${toBackup.port}`) + cpBlock(cpFromPrimary.port));
  pair.writeConfig('backup', pair.yamlFor('backup', 'backup').replace(`http://127.0.0.1:${pair.primary.port}`, `http://127.0.0.1:${toPrimary.port}`) + cpBlock(cp.port));
  const clockFile = withClockShift(pair.primary, pair.dir);
  await pair.backup.start();
  await pair.primary.start();
  return {
    pair, cp, fx, toBackup, toPrimary, cpFromPrimary, clockFile,
    async stop() {
      await pair.stop();
      await cp.kill();
      await Promise.all([toBackup.close(), toPrimary.close(), cpFromPrimary.close()]);
      fx.cleanup();
    },
  };
}

/** One client write: to which POP, sent and answered when (monotonic ms of this test process), status and CV code. */
interface Probe {
  pop: 'primary' | 'backup';
  t0: number;
  t1: number;
  status: number;
  code: string | null;
}

/** Writes to every POP of `targets` at the same time, round after round, recording every outcome. */
function prober(targets: { pop: Probe['pop']; url: string }[], token: string) {
  const probes: Probe[] = [];
  let stop = false;
  const done = (async () => {
    for (let i = 0; !stop; i++) {
      await Promise.all(targets.map(async ({ pop, url }) => {
        const t0 = performance.now();
        let status = 0;
        let code: string | null = null;
        try {
          const r = await api(url, 'POST', '/api/entries', { token, body: { title: `p${i}` } });
          status = r.status;
          code = r.json?.error?.code ?? null;
        } catch {
          // a connection error: nothing acknowledged
        }
        probes.push({ pop, t0, t1: performance.now(), status, code });
      }));
      await sleep(20);
    }
  })();
  return { probes, async stop() { stop = true; await done; } };
}

test('F12: primary cut off from the control plane and its backup, wall clock stepped back 120 s: it stops writing at its lease end, before the backup takes writes', async (t) => {
  const w = await world();
  t.after(() => w.stop());
  const { pair } = w;
  const { owner } = await createVault(pair.primary.url, pair.primary.adminToken());
  const first = await api(pair.primary.url, 'POST', '/api/entries', { token: owner, body: { title: 'before' } });
  assert.equal(first.status, 201);
  await waitFor('replicated', async () => (await api(pair.backup.url, 'GET', `/api/entries/${first.json.id}`, { token: owner })).status === 200);

  const pr = prober([{ pop: 'primary', url: pair.primary.url }, { pop: 'backup', url: pair.backup.url }], owner);
  t.after(() => pr.stop());
  await waitFor('the primary takes writes', () => pr.probes.filter((p) => p.pop === 'primary' && p.status === 201).length >= 3);

  // Partition: every link of the primary goes silent (accepted, never answered).
  w.cpFromPrimary.setMode('blackhole');
  w.toBackup.setMode('blackhole');
  w.toPrimary.setMode('blackhole');
  const partitionedAt = performance.now();
  // Its last heartbeat was sent before this instant: its lease ends by partitionedAt + LEASE_MS.
  await stepWallClock(pair.primary, w.clockFile, -STEP_MS);
  const steppedAt = performance.now();

  await waitFor('the promoted backup takes writes', () => pr.probes.filter((p) => p.pop === 'backup' && p.status === 201).length >= 10, 30_000);
  await pr.stop();

  const probes = pr.probes;
  assert.ok(probes.length > 0);
  const onPrimary = probes.filter((p) => p.pop === 'primary' && p.status === 201);
  const onBackup = probes.filter((p) => p.pop === 'backup' && p.status === 201);
  assert.ok(onPrimary.length > 0 && onBackup.length > 0, `writes on both sides: ${onPrimary.length} / ${onBackup.length}`);
  const lastPrimary = onPrimary.reduce((a, b) => (b.t1 > a.t1 ? b : a));
  const firstBackup = onBackup.reduce((a, b) => (b.t0 < a.t0 ? b : a));
  const refusals = probes.filter((p) => p.pop === 'primary' && p.t0 > lastPrimary.t1);
  console.log(`# wall clock stepped ${(steppedAt - partitionedAt).toFixed(0)} ms after the partition; primary's last 201 sent ${(lastPrimary.t0 - partitionedAt).toFixed(0)} ms after it, ` +
    `backup's first 201 answered ${(firstBackup.t1 - partitionedAt).toFixed(0)} ms after it (lease ${LEASE_MS} ms); ${probes.length} probes`);

  // The lease ends on time: no write is accepted that was sent after partition + lease.
  assert.ok(lastPrimary.t0 <= partitionedAt + LEASE_MS, `the primary accepted a write sent ${(lastPrimary.t0 - partitionedAt).toFixed(0)} ms after the partition (lease ${LEASE_MS} ms)`);
  // Never two writers: the primary's last 201 was answered before the backup's first 201 was sent.
  assert.ok(lastPrimary.t1 < firstBackup.t0, `both POPs answered 201: primary until ${(lastPrimary.t1 - partitionedAt).toFixed(0)} ms, backup from ${(firstBackup.t0 - partitionedAt).toFixed(0)} ms after the partition`);
  // After its lease the primary refuses with 503 CV-5015, and did so before the backup took writes.
  assert.ok(refusals.length > 0, 'the primary was probed after its last 201');
  for (const r of refusals) assert.deepEqual([r.status, r.code], [503, 'CV-5015']);
  const firstRefusal = refusals.reduce((a, b) => (b.t1 < a.t1 ? b : a));
  assert.ok(firstRefusal.t1 < firstBackup.t0, 'the primary refused (CV-5015) before the backup answered 201');
  const st = await pair.primary.status();
  assert.equal(st.accepting_writes, false);
  assert.equal(st.control_plane.lease_remaining_ms, 0);
});

test('F12: wall clock stepped forward 120 s: the lease is not dropped early; rate-limit, lockdown and authentication-throttle windows and lag do not jump', async (t) => {
  const w = await world();
  t.after(() => w.stop());
  const { pair } = w;
  const { owner } = await createVault(pair.primary.url, pair.primary.adminToken());
  const ids: string[] = [];
  for (let i = 0; i < 4; i++) ids.push((await api(pair.primary.url, 'POST', '/api/entries', { token: owner, body: { title: `e${i}`, fields: [{ label: 'u', value: `v${i}`, tier: 'agent' }] } })).json.id);
  const agent = await api(pair.primary.url, 'POST', '/api/agents', { token: owner, body: { name: 'bot', scopes: ids } });
  assert.equal(agent.status, 201);
  const agentToken = agent.json.token as string;
  // Default limits: 3 distinct entries per 60 s. The fourth is the first breach (429 CV-2009).
  for (const id of ids.slice(0, 3)) assert.equal((await api(pair.primary.url, 'GET', `/api/entries/${id}`, { token: agentToken })).status, 200);
  const breach = await api(pair.primary.url, 'GET', `/api/entries/${ids[3]}`, { token: agentToken });
  assert.deepEqual([breach.status, breach.json.error.code], [429, 'CV-2009']);

  // Authentication throttle: more than 30 401s from one address blocks it for 60 s (429 CV-2006).
  // A second loopback address keeps the block away from this test's own requests.
  // (undici ignores `connect.localAddress`, hence a connector of our own.)
  const other = new Agent({
    connect: (o, cb) => {
      const c = netConnect({ host: o.hostname, port: Number(o.port), localAddress: '127.0.0.2' });
      c.once('connect', () => cb(null, c));
      c.once('error', (e) => cb(e, null));
      return c;
    },
  });
  t.after(() => other.close());
  let blocked = false;
  for (let i = 0; i < 40 && !blocked; i++) {
    const r = await api(pair.primary.url, 'GET', '/api/entries', { token: 'cvt1.bad', dispatcher: other });
    blocked = r.status === 429;
  }
  assert.ok(blocked, 'the second address got blocked');

  // A backlog whose age is reported as lag: the replication link black-holed, one write queued.
  w.toBackup.setMode('blackhole');
  assert.equal((await api(pair.primary.url, 'POST', '/api/entries', { token: owner, body: { title: 'queued' } })).status, 201);

  const pr = prober([{ pop: 'primary', url: pair.primary.url }], owner);
  t.after(() => pr.stop());
  await waitFor('the primary takes writes', () => pr.probes.some((p) => p.status === 201));
  const stepAt = performance.now();
  await stepWallClock(pair.primary, w.clockFile, STEP_MS);
  // Long enough for the lease held at the step to run out and be renewed by later heartbeats.
  await waitFor('probes past a lease and a heartbeat', () => pr.probes.some((p) => p.t0 > stepAt + LEASE_MS + 1000), 20_000);
  await pr.stop();
  const after = pr.probes.filter((p) => p.t0 >= stepAt);
  assert.ok(after.length > 0);
  const refused = after.filter((p) => p.status !== 201);
  assert.deepEqual(refused.map((p) => `${p.status} ${p.code} at +${(p.t0 - stepAt).toFixed(0)} ms`), [], 'the primary kept its lease through the step');

  const st = await pair.primary.status();
  assert.ok(st.control_plane.lease_remaining_ms > 0 && st.control_plane.lease_remaining_ms <= LEASE_MS, `lease_remaining_ms ${st.control_plane.lease_remaining_ms}`);
  assert.ok(st.replication.backlog > 0);
  assert.ok(st.replication.lag_seconds < 60, `lag_seconds ${st.replication.lag_seconds} jumped with the wall clock`);

  // The minute window did not expire early: a fourth distinct entry is still a breach, now the
  // second within 2 hours, so the agent is locked (403 CV-2010) — not served.
  const again = await api(pair.primary.url, 'GET', `/api/entries/${ids[3]}`, { token: agentToken });
  assert.deepEqual([again.status, again.json?.error?.code], [403, 'CV-2010']);
  // The 60 s block did not lift early.
  const still = await api(pair.primary.url, 'GET', '/api/entries', { token: owner, dispatcher: other });
  assert.deepEqual([still.status, still.json?.error?.code], [429, 'CV-2006']);
});
