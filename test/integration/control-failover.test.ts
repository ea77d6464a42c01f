/**
 * The real `clavitor-control` process with its SQLite store, driven by scripted heartbeats
 * (issue 5 item 3): promotion only after the primary's lease has expired in the control plane's
 * view, demotion of the returning primary, refusal (with the reason shown) when the primary had
 * unreplicated revisions, state kept across SIGKILL, and the HTTP edge (auth, validation, timing
 * rule, status page, `clavitor-control status`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readTokenFile } from '../../src/config/token-file.js';
import { api, sleep } from '../kit/pop.js';
import { beatUntil, controlCli, controlFixture, keepBeating, controlProc, FAST_CONFIG, FAST_EXPIRY_MS, SimPop, type ControlFixture, type ControlProc } from '../kit/control.js';

async function setup(): Promise<{ fx: ControlFixture; cp: ControlProc; p: SimPop; b: SimPop; stop(): Promise<void> }> {
  const fx = controlFixture();
  const cp = await controlProc('cp', fx, readTokenFile(fx.tokenFile)[0]!);
  await cp.start();
  const p = new SimPop('calgary-01', 'zurich-01', 'primary');
  const b = new SimPop('zurich-01', 'calgary-01', 'backup');
  return { fx, cp, p, b, async stop() { await cp.kill(); fx.cleanup(); } };
}

/** Both POPs beat for a while: the primary holds its lease, the backup has none. */
async function steady(cp: ControlProc, p: SimPop, b: SimPop, rounds = 4): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    const pb = await p.beat(cp);
    const bb = await b.beat(cp);
    assert.deepEqual(pb.answer, { lease_ttl_ms: FAST_CONFIG.lease_ttl_seconds * 1000, epoch: p.epoch, directive: null });
    assert.deepEqual(bb.answer, { lease_ttl_ms: 0, epoch: p.epoch, directive: null });
    await sleep(250);
  }
}

test('HTTP edge: bearer token, body validation, the timing rule, the status page', async () => {
  const { cp, p, stop } = await setup();
  try {
    const missing = await api(cp.url, 'POST', '/v1/heartbeat', { body: p.report() });
    assert.equal(missing.status, 401);
    assert.equal(missing.json.error.code, 'CV-2001');
    const wrong = await cp.heartbeat(p.report(), 'clavitor-pop-v1-' + 'A'.repeat(43));
    assert.equal(wrong.status, 401);
    assert.equal(wrong.json.error.code, 'CV-2002');
    assert.equal((await api(cp.url, 'GET', '/v1/status')).status, 401);

    const bad = await cp.heartbeat({ ...p.report(), role: 'leader' as never });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error.code, 'CV-3001');
    assert.match(bad.json.error.message, /^role: /);

    const slow = await cp.heartbeat({ ...p.report(), heartbeat_interval_seconds: 2 });
    assert.equal(slow.status, 400);
    assert.equal(slow.json.error.code, 'CV-6101');
    assert.match(slow.json.error.message, /calgary-01: heartbeat_interval_seconds 2 breaks the timing rule .* at most 1 /);
    assert.equal((await cp.status()).pops.length, 0, 'a refused heartbeat changes nothing');

    const unknown = await api(cp.url, 'GET', '/favicon.ico');
    assert.equal(unknown.status, 404, 'unknown paths are 404, not 401 (a browser must not trip the auth throttle)');

    const page = await fetch(`${cp.url}/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'none'/);
    assert.match(await page.text(), /clavitor-control/);
  } finally {
    await stop();
  }
});

test('primary stops: backup promoted after the lease expires (not before), epoch rises, old primary demoted', async () => {
  const { fx, cp, p, b, stop } = await setup();
  try {
    await steady(cp, p, b);
    const last = p.beats.at(-1)!; // the primary dies after this heartbeat
    const promoted = await beatUntil(b, cp, (x) => x.answer.directive !== null, FAST_EXPIRY_MS + 4000);
    assert.deepEqual(promoted.answer, { lease_ttl_ms: 0, epoch: 2, directive: { action: 'promote', epoch: 2 } });
    assert.ok(promoted.answeredMs > last.sentMs + FAST_EXPIRY_MS,
      `promoted ${promoted.answeredMs - last.sentMs} ms after the primary's last heartbeat was sent; lease + margin is ${FAST_EXPIRY_MS} ms`);
    assert.ok(last.sentMs + last.answer.lease_ttl_ms < promoted.answeredMs - FAST_CONFIG.safety_margin_ms, 'the old primary\'s own lease ended a full margin before');
    assert.ok(promoted.answeredMs - last.answeredMs < FAST_EXPIRY_MS + 1500, 'and promptly after that');
    const before = b.beats.filter((x) => x.answeredMs <= last.sentMs + FAST_EXPIRY_MS);
    assert.ok(before.length > 5 && before.every((x) => x.answer.directive === null), 'no directive while the lease could still run');

    const leased = await b.beat(cp); // applied: reports primary in epoch 2
    assert.deepEqual(leased.answer, { lease_ttl_ms: 2000, epoch: 2, directive: null });

    const back = await p.beat(cp); // the old primary returns, still primary in epoch 1
    assert.deepEqual(back.answer, { lease_ttl_ms: 0, epoch: 2, directive: { action: 'demote', epoch: 2, primary_id: 'zurich-01' } });
    assert.equal((await p.beat(cp)).answer.directive, null, 'reports backup now: no more directive');

    const s = await cp.status();
    const pair = s.pairs[0]!;
    assert.equal(pair.epoch, 2);
    assert.equal(pair.primary_id, 'zurich-01');
    assert.equal(pair.last_decision?.kind, 'applied');
    assert.deepEqual(s.pops.map((x) => [x.pop_id, x.role, x.epoch]), [['calgary-01', 'backup', 2], ['zurich-01', 'primary', 2]]);
    const promoteLog = cp.logLines().find((l) => l.event === 'control.decision.promote');
    assert.match(String(promoteLog?.msg), /^promoting zurich-01 to primary in epoch 2: calgary-01 last sent a heartbeat at .* and its lease has expired$/);

    const table = await controlCli('status', '--url', cp.url, '--token-file', fx.tokenFile);
    assert.equal(table.status, 0, table.stderr);
    assert.match(table.stdout, /pair calgary-01\+zurich-01: epoch 2, primary zurich-01/);
    assert.match(table.stdout, /^POP\s+REGION\s+ROLE\s+EPOCH\s+LAST HB\s+POSITION\s+BACKLOG\s+LAG\s+HEALTHY\s+LEASE\s+DIRECTIVE$/m);
    assert.match(table.stdout, /^zurich-01\s+test\s+primary\s+2\s/m);
    const json = await controlCli('status', '--url', cp.url, '--token-file', fx.tokenFile, '--json');
    assert.equal(JSON.parse(json.stdout).pairs[0].epoch, 2);
  } finally {
    await stop();
  }
});

test('refuses to promote when the primary last reported more unreplicated revisions than max_lag_on_failover, and says why', async () => {
  const { fx, cp, p, b, stop } = await setup();
  try {
    p.backlog = 12;
    p.position = 112;
    await steady(cp, p, b, 2);
    const t0 = Date.now();
    while (Date.now() - t0 < FAST_EXPIRY_MS + 2500) {
      assert.equal((await b.beat(cp)).answer.directive, null);
      await sleep(150);
    }
    const stopBeating = keepBeating(b, cp); // the backup stays fresh while we look
    try {
      const pair = (await cp.status()).pairs[0]!;
      assert.equal(pair.primary_id, 'calgary-01');
      assert.equal(pair.epoch, 1);
      assert.equal(pair.assessment?.kind, 'refuse');
      assert.equal(pair.assessment?.text, 'not promoting zurich-01: calgary-01 last reported 12 unreplicated revisions (max_lag_on_failover is 0)');
      const out = await controlCli('status', '--url', cp.url, '--token-file', fx.tokenFile);
      assert.match(out.stdout, /now: {2}\[refuse\] not promoting zurich-01: calgary-01 last reported 12 unreplicated revisions/);
    } finally {
      await stopBeating();
    }
    assert.ok(b.beats.length > 0, 'the backup sent heartbeats');
    assert.ok(b.beats.every((x) => x.answer.directive === null), 'never promoted');
  } finally {
    await stop();
  }
});

test('state survives SIGKILL: the directive is durable before it is sent, epochs are not reused, no failover right after a restart', async () => {
  const { cp, p, b, stop } = await setup();
  try {
    await steady(cp, p, b, 3);
    const first = await beatUntil(b, cp, (x) => x.answer.directive !== null, FAST_EXPIRY_MS + 4000);
    b.role = 'backup'; // pretend the backup crashed before applying it
    b.epoch = 1;
    await cp.kill('SIGKILL');
    await cp.start();
    const again = await b.beat(cp, false);
    assert.deepEqual(again.answer.directive, first.answer.directive, 'the same promotion, epoch 2, not a new one');
    assert.deepEqual(again.answer.directive, { action: 'promote', epoch: 2 });
    await b.beat(cp); // applies
    assert.equal((await b.beat(cp)).answer.lease_ttl_ms, 2000);
    assert.deepEqual((await p.beat(cp, false)).answer.directive, { action: 'demote', epoch: 2, primary_id: 'zurich-01' });

    // Control plane down for longer than a lease: the primary's last heartbeat is old when it returns.
    await p.beat(cp); // the old primary applies the demotion: backup of zurich-01 in epoch 2
    await cp.kill('SIGKILL');
    await sleep(FAST_EXPIRY_MS + 500);
    await cp.start();
    const restartedMs = Date.now();
    const early = await p.beat(cp);
    assert.equal(early.answer.directive, null, 'no promotion the moment the control plane is back: the primary could not heartbeat while it was down');
    const s = await cp.status();
    assert.equal(s.pairs[0]?.epoch, 2);
    assert.equal(s.pairs[0]?.primary_id, 'zurich-01');
    // zurich-01 stays silent: after a full lease + margin counted from the restart, calgary-01 is promoted in epoch 3.
    const later = await beatUntil(p, cp, (x) => x.answer.directive !== null, FAST_EXPIRY_MS + 4000);
    // The new process first sees the stale heartbeat a few ms before we notice it listening.
    assert.ok(later.answeredMs - restartedMs > FAST_EXPIRY_MS - 200, `promoted ${later.answeredMs - restartedMs} ms after the restart`);
    assert.deepEqual(later.answer.directive, { action: 'promote', epoch: 3 });
  } finally {
    await stop();
  }
});
