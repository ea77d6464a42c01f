/**
 * Rate limits and throttles, the cases mutation testing found unpinned (issue 17 item 3,
 * docs/testing.md). Contracts:
 * - agent limits (issue 6 item 3, docs/api.md `GET /api/entries/{id}`, agent-gate.ts's table):
 *   distinct entries per 60 s and per 3600 s, re-reads inside a window free, 429 CV-2009 with a
 *   Retry-After after which the read fits, a second breach within 2 hours locks (403 CV-2010, an
 *   `agent.lock` revision, only on a POP that can write), then scope (403 CV-2007); every refusal
 *   audited; idle agents' state dropped so memory follows recent activity;
 * - auth-failure throttle (docs/api.md "Auth-failure block", issue 4 item 4): more than 30 401
 *   answers within 60 s block the address for 60 s; at most 10,000 addresses tracked.
 * The agent gate runs against a real vault file (SQLite in a temp dir), no mocks.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRateLimiter, type RateVerdict } from '../../src/vault/rate-limit.js';
import { createAgentGate } from '../../src/vault/agent-gate.js';
import { createRevisionWriter, NO_HOOKS } from '../../src/vault/writer.js';
import { createVaultFiles } from '../../src/store/vault-files.js';
import { DEFAULT_LIMITS, type AgentPrincipal, type RateLimits } from '../../src/vault/principal.js';
import { createAuthThrottle } from '../../src/http/auth-throttle.js';
import { isCvError, type ClavitorError } from '../../src/lib/errors.js';
import type { AgentId, TokenId, VaultId } from '../../src/lib/ids.js';

const MIN = 60_000;
const HOUR = 3_600_000;

const breachRetry = (v: RateVerdict): number => {
  assert.equal(v.kind, 'breach');
  return (v as { retryAfterSeconds: number }).retryAfterSeconds;
};

test('rate limit: a read refused with Retry-After R fits exactly R seconds later (minute window)', () => {
  const l = createRateLimiter();
  for (const [i, e] of ['a', 'b', 'c'].entries()) assert.equal(l.check('ag', e, DEFAULT_LIMITS, i * 1000).kind, 'ok');
  const r = breachRetry(l.check('ag', 'd', DEFAULT_LIMITS, 10_000));
  assert.equal(r, 50, 'a, read at 0, leaves the minute at 60 s');
  assert.equal(l.check('ag', 'd', DEFAULT_LIMITS, 10_000 + r * 1000).kind, 'ok');
});

test('rate limit: Retry-After counts only reads inside the window that was exceeded', () => {
  const l = createRateLimiter();
  assert.equal(l.check('ag', 'x', DEFAULT_LIMITS, 0).kind, 'ok');
  for (const e of ['a', 'b', 'c']) assert.equal(l.check('ag', e, DEFAULT_LIMITS, 2 * MIN).kind, 'ok');
  assert.equal(breachRetry(l.check('ag', 'd', DEFAULT_LIMITS, 2 * MIN + 10_000)), 50, 'x, read 2 min ago, is not what blocks the minute');
});

test('rate limit: the hour window lets go — 10 new entries fit an hour after the first 10', () => {
  const l = createRateLimiter();
  for (let i = 0; i < 10; i++) assert.equal(l.check('ag', `e${i}`, DEFAULT_LIMITS, i * 2 * MIN).kind, 'ok');
  const r = breachRetry(l.check('ag', 'e10', DEFAULT_LIMITS, 20 * MIN));
  assert.equal(r, 40 * 60);
  assert.equal(l.check('ag', 'e10', DEFAULT_LIMITS, 20 * MIN + r * 1000).kind, 'ok', 'e0 left the hour at 60 min');
  const m = createRateLimiter();
  const lim: RateLimits = { perMinute: 100, perHour: 3 };
  for (let t = 0; t < 5; t++) for (const e of ['a', 'b', 'c']) assert.equal(m.check('ag', `${e}${t}`, lim, t * HOUR).kind, 'ok', `hour ${t}`);
});

test('rate limit: a read exactly 60 s old does not shorten Retry-After (it is outside the window)', () => {
  const l = createRateLimiter();
  const lim: RateLimits = { perMinute: 1, perHour: 100 };
  assert.equal(l.check('ag', 'a', lim, 0).kind, 'ok');
  assert.equal(l.check('ag', 'b', lim, MIN).kind, 'ok');
  const r = breachRetry(l.check('ag', 'c', lim, MIN));
  assert.equal(r, 60, 'b, read now, leaves the minute in 60 s');
  assert.equal(l.check('ag', 'c', lim, MIN + r * 1000).kind, 'ok');
});

test('rate limit: an entry read exactly 60 s ago is outside the window, so reading it again counts', () => {
  const l = createRateLimiter();
  const lim: RateLimits = { perMinute: 1, perHour: 100 };
  assert.equal(l.check('ag', 'a', lim, 0).kind, 'ok');
  assert.equal(l.check('ag', 'b', lim, MIN).kind, 'ok', 'a left the minute');
  assert.equal(l.check('ag', 'a', lim, MIN).kind, 'breach', 'a is a new distinct entry in this minute');
});

test('rate limit: idle agents are forgotten, but one with a breach inside 2 hours is kept (and locks on its second)', () => {
  const l = createRateLimiter();
  const lim: RateLimits = { perMinute: 1, perHour: 100 };
  assert.equal(l.check('bad', 'a', lim, 0).kind, 'ok');
  assert.equal(l.check('bad', 'b', lim, 1000).kind, 'breach');
  for (let i = 0; i < 2000; i++) l.check(`idle${i}`, 'x', lim, 0);
  assert.ok(l.size() >= 2000);
  // 1 h 30 min later: the idle agents' reads have left both windows; "bad"'s breach has not.
  const later = HOUR + 30 * MIN;
  for (let i = 0; i < 1000; i++) l.check('busy', 'x', lim, later);
  assert.ok(l.size() <= 3, `state of idle agents dropped (size ${l.size()})`);
  assert.equal(l.check('bad', 'c', lim, later).kind, 'ok');
  assert.equal(l.check('bad', 'd', lim, later + 1000).kind, 'lockdown', 'the first breach, 1 h 30 min ago, still counts');
});

// ---------------------------------------------------------------------------------------------
// The agent gate, on a real vault file.

const dir = mkdtempSync(join(tmpdir(), 'clavitor-gate-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const VAULT = 'v_AAAAAAAAAAAAAAAAAAAAAA' as VaultId;
let files = 0;

function gateFixture() {
  // A POP database of its own per fixture (issue 12: one database per POP, vaults are facades).
  const popDir = join(dir, `pop-${files++}`);
  mkdirSync(popDir);
  const vaults = createVaultFiles(popDir);
  const store = vaults.openOrCreate(VAULT);
  /** Refusal audits and the lock revision join the next group commit: wait for it before reading. */
  const settled = () => vaults.settled();
  let nowMs = Date.parse('2026-01-01T00:00:00Z');
  const writer = createRevisionWriter({ hooks: NO_HOOKS, identity: () => ({ popId: 'calgary-01', epoch: 1 }), now: () => new Date(nowMs) });
  const gate = createAgentGate({ writer, now: () => new Date(nowMs), clock: { nowMs: () => nowMs } });
  const agent = (over: Partial<AgentPrincipal> = {}): AgentPrincipal => ({
    kind: 'agent', vaultId: VAULT, tokenId: 't_x' as TokenId, agentId: 'a_1' as AgentId, scopes: new Set(['e1', 'e2', 'e3', 'e4']), folders: new Set(), tags: new Set(),
    keys: { own: Buffer.alloc(32) }, locked: false, limits: { perMinute: 2, perHour: 100 }, ...over,
  });
  const audit = async () => (await settled(), store.pageAudit(0, 1000)).map((r) => [r.actor, r.action, r.entryId, r.outcome, r.code, r.ip]);
  const tryAdmit = (p: AgentPrincipal, entry: string, writable = true): ClavitorError | undefined => {
    try {
      gate.admit(store, p, entry, 'entry.read', { ip: '10.0.0.9', writable });
      return undefined;
    } catch (e) {
      assert.ok(isCvError(e), String(e));
      return e;
    }
  };
  return { store, settled, gate, agent, audit, tryAdmit, advance: (ms: number) => { nowMs += ms; } };
}

test('agent gate: in scope and within limits passes without an audit record (the caller audits the read)', async () => {
  const f = gateFixture();
  assert.equal(f.tryAdmit(f.agent(), 'e1'), undefined);
  assert.deepEqual((await f.audit()), []);
  f.store.close();
});

test('agent gate: locked agent gets 403 CV-2010, audited with the action, before any other check', async () => {
  const f = gateFixture();
  const e = f.tryAdmit(f.agent({ locked: true }), 'outside');
  assert.equal(e?.code, 'CV-2010');
  assert.equal(e?.status, 403);
  assert.deepEqual((await f.audit()), [['agent:a_1', 'entry.read', 'outside', 'denied', 'CV-2010', '10.0.0.9']]);
  f.store.close();
});

test('agent gate: out of scope is 403 CV-2007, audited, and counts toward the limit', async () => {
  const f = gateFixture();
  const e = f.tryAdmit(f.agent(), 'outside-1');
  assert.equal(e?.code, 'CV-2007');
  assert.equal(e?.status, 403);
  assert.equal(f.tryAdmit(f.agent(), 'outside-2')?.code, 'CV-2007');
  const r = f.tryAdmit(f.agent(), 'e1');
  assert.equal(r?.code, 'CV-2009', 'two probes used the per-minute limit of 2');
  assert.deepEqual((await f.audit()), [
    ['agent:a_1', 'entry.read', 'outside-1', 'denied', 'CV-2007', '10.0.0.9'],
    ['agent:a_1', 'entry.read', 'outside-2', 'denied', 'CV-2007', '10.0.0.9'],
    ['agent:a_1', 'agent.rate_limit', 'e1', 'denied', 'CV-2009', '10.0.0.9'],
  ]);
  f.store.close();
});

test('agent gate: first breach 429 CV-2009 with Retry-After; second within 2 h locks with an agent.lock revision', async () => {
  const f = gateFixture();
  const p = f.agent();
  assert.equal(f.tryAdmit(p, 'e1'), undefined);
  assert.equal(f.tryAdmit(p, 'e2'), undefined);
  f.advance(10_000);
  const first = f.tryAdmit(p, 'e3');
  assert.equal(first?.code, 'CV-2009');
  assert.equal(first?.status, 429);
  assert.deepEqual(first?.details, { retry_after_seconds: 50 });
  assert.deepEqual(first?.headers, { 'retry-after': '50' });
  assert.equal(f.store.maxSeq(), 0, 'a breach writes no revision');
  f.advance(1000);
  const second = f.tryAdmit(p, 'e4');
  assert.equal(second?.code, 'CV-2010');
  await f.settled();
  const revs = f.store.revisionRange(1, 10);
  assert.deepEqual(revs.map((r) => [r.kind, r.subject, JSON.parse(r.body)]), [['agent.lock', 'a_1', { reason: 'rate_limit' }]]);
  assert.deepEqual((await f.audit()), [
    ['agent:a_1', 'agent.rate_limit', 'e3', 'denied', 'CV-2009', '10.0.0.9'],
    ['agent:a_1', 'agent.rate_limit', 'e4', 'denied', 'CV-2009', '10.0.0.9'],
    ['agent:a_1', 'agent.lockdown', 'e4', 'denied', 'CV-2010', '10.0.0.9'],
  ]);
  f.store.close();
});

test('agent gate: on a POP that cannot write, a second breach is answered like the first and nothing is written', async () => {
  const f = gateFixture();
  const p = f.agent({ limits: { perMinute: 1, perHour: 100 } });
  assert.equal(f.tryAdmit(p, 'e1', false), undefined);
  assert.equal(f.tryAdmit(p, 'e2', false)?.code, 'CV-2009');
  const second = f.tryAdmit(p, 'e3', false);
  assert.equal(second?.code, 'CV-2009');
  assert.equal(second?.status, 429);
  assert.ok(Number(second?.headers?.['retry-after']) >= 1);
  assert.equal(second?.headers?.['retry-after'], String(second?.details?.retry_after_seconds));
  assert.equal(f.store.maxSeq(), 0);
  assert.deepEqual((await f.audit()).map((r) => r[1]), ['agent.rate_limit', 'agent.rate_limit']);
  f.store.close();
});

test('agent gate: once unlocked, an agent starts with fresh windows', async () => {
  const f = gateFixture();
  const p = f.agent({ limits: { perMinute: 1, perHour: 100 } });
  assert.equal(f.tryAdmit(p, 'e1'), undefined);
  assert.equal(f.tryAdmit(p, 'e2')?.code, 'CV-2009');
  assert.equal(f.tryAdmit(p, 'e3')?.code, 'CV-2010');
  assert.equal(f.tryAdmit({ ...p, locked: true }, 'e1')?.code, 'CV-2010');
  assert.equal(f.tryAdmit(p, 'e4'), undefined, 'the owner unlocked it: no window, no breach remembered');
  f.store.close();
});

test('agent gate: deny audits an owner-only attempt and returns the named error', async () => {
  const f = gateFixture();
  const e = f.gate.deny(f.store, f.agent(), 'agent.list', null, 'AGENT_LIST_FORBIDDEN', '10.0.0.9');
  assert.ok(isCvError(e, 'AGENT_LIST_FORBIDDEN'));
  const e2 = f.gate.deny(f.store, f.agent(), 'entry.delete', 'e1', 'FORBIDDEN', null);
  assert.ok(isCvError(e2, 'FORBIDDEN'));
  assert.deepEqual((await f.audit()), [
    ['agent:a_1', 'agent.list', null, 'denied', e.code, '10.0.0.9'],
    ['agent:a_1', 'entry.delete', 'e1', 'denied', e2.code, null],
  ]);
  f.store.close();
});

// ---------------------------------------------------------------------------------------------
// The auth-failure throttle.

test('auth throttle defaults: the 31st failure within 60 s blocks for 60 s (docs/api.md)', () => {
  let t = 5_000_000;
  const th = createAuthThrottle({ now: () => t });
  for (let i = 0; i < 30; i++) assert.equal(th.failure('10.0.0.1'), false, `failure ${i + 1}`);
  t += 60_000;
  assert.equal(th.failure('10.0.0.1'), true, '31 failures within 60 s (the first and the last 60 s apart)');
  assert.equal(th.blockedFor('10.0.0.1'), 60);
  t += 59_999;
  assert.equal(th.blockedFor('10.0.0.1'), 1);
  t += 1;
  assert.equal(th.blockedFor('10.0.0.1'), undefined, 'released after 60 s; never a Retry-After of 0');
});

test('auth throttle: a failure while blocked neither re-blocks nor extends the block', () => {
  let t = 0;
  const th = createAuthThrottle({ maxFailures: 2, windowMs: 10_000, blockMs: 5_000, now: () => t });
  th.failure('a');
  th.failure('a');
  assert.equal(th.failure('a'), true);
  t += 1000;
  assert.equal(th.failure('a'), false, 'already blocked');
  assert.equal(th.blockedFor('a'), 4);
});

test('auth throttle: at most 10,000 addresses are tracked by default (the oldest is forgotten)', () => {
  const t = 0;
  const th = createAuthThrottle({ now: () => t });
  for (let i = 0; i < 30; i++) th.failure('first');
  for (let i = 0; i < 9_999; i++) th.failure(`ip${i}`);
  assert.equal(th.failure('first'), true, 'with 10,000 addresses tracked, "first" is still counted');
  const th2 = createAuthThrottle({ now: () => t });
  for (let i = 0; i < 30; i++) th2.failure('first');
  for (let i = 0; i < 10_000; i++) th2.failure(`ip${i}`);
  assert.equal(th2.failure('first'), false, 'the 10,001st address pushed "first" out: its count restarted');
});
