/**
 * Issue 6 item 3, the in-memory limiter on its own with an injected clock: distinct entries per
 * minute and per hour, re-reads free, Retry-After, breach then lockdown within 2 hours, and a
 * breach older than 2 hours forgotten.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createRateLimiter, HOUR_MS, LOCKDOWN_WINDOW_MS, MINUTE_MS } from '../../src/vault/rate-limit.js';
import { DEFAULT_LIMITS } from '../../src/vault/principal.js';

test('defaults: 3 distinct entries per minute, re-reads free, the 4th is a breach with Retry-After', () => {
  const l = createRateLimiter();
  const t0 = 1_000_000_000;
  for (const [i, e] of ['a', 'b', 'a', 'c', 'b', 'c'].entries()) assert.equal(l.check('ag', e, DEFAULT_LIMITS, t0 + i * 1000).kind, 'ok');
  const v = l.check('ag', 'd', DEFAULT_LIMITS, t0 + 10_000);
  assert.deepEqual(v, { kind: 'breach', retryAfterSeconds: 52 }, 'a leaves the minute window 60 s after its last read at t0+2 s');
  assert.equal(l.check('other-agent', 'd', DEFAULT_LIMITS, t0 + 10_000).kind, 'ok', 'agents are counted separately');
});

test('the hour window: 10 distinct entries per hour even when spread over minutes', () => {
  const l = createRateLimiter();
  let t = 0;
  for (let i = 0; i < 10; i++) {
    assert.equal(l.check('ag', `e${i}`, DEFAULT_LIMITS, t).kind, 'ok', `entry ${i}`);
    t += 2 * MINUTE_MS;
  }
  const v = l.check('ag', 'e10', DEFAULT_LIMITS, t);
  assert.equal(v.kind, 'breach');
  assert.deepEqual(v, { kind: 'breach', retryAfterSeconds: 40 * 60 }, 'e0, read at 0, leaves the hour window at 60 min; now is 20 min');
  assert.equal(l.check('ag', 'e3', DEFAULT_LIMITS, t).kind, 'ok', 'an entry read within the hour stays readable');
});

test('a second breach within 2 hours is a lockdown; one after 2 hours is a breach again; reset forgets', () => {
  const lim = { perMinute: 1, perHour: 100 };
  const l = createRateLimiter();
  assert.equal(l.check('ag', 'a', lim, 0).kind, 'ok');
  assert.equal(l.check('ag', 'b', lim, 1000).kind, 'breach');
  assert.equal(l.check('ag', 'b', lim, 2000).kind, 'lockdown');
  const m = createRateLimiter();
  m.check('ag', 'a', lim, 0);
  assert.equal(m.check('ag', 'b', lim, 1000).kind, 'breach');
  assert.equal(m.check('ag', 'c', lim, 1000 + LOCKDOWN_WINDOW_MS).kind, 'ok', 'windows have moved on');
  assert.equal(m.check('ag', 'd', lim, 2000 + LOCKDOWN_WINDOW_MS).kind, 'breach', 'the old breach is forgotten');
  m.reset('ag');
  assert.equal(m.check('ag', 'e', lim, 3000 + LOCKDOWN_WINDOW_MS).kind, 'ok');
  assert.equal(m.size(), 1);
});

test('property: no agent is ever served more than perMinute distinct entries in any 60 s or perHour in any hour', () => {
  fc.assert(fc.property(
    fc.record({ perMinute: fc.integer({ min: 1, max: 5 }), perHour: fc.integer({ min: 1, max: 12 }) }),
    fc.array(fc.tuple(fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 20_000 })), { maxLength: 300 }),
    (limits, steps) => {
      const l = createRateLimiter();
      let t = 0;
      const served: [number, string][] = [];
      for (const [e, dt] of steps) {
        t += dt;
        if (l.check('ag', `e${e}`, limits, t).kind === 'ok') served.push([t, `e${e}`]);
      }
      for (const [at] of served) {
        const inMinute = new Set(served.filter(([x]) => x > at - MINUTE_MS && x <= at).map(([, e]) => e));
        const inHour = new Set(served.filter(([x]) => x > at - HOUR_MS && x <= at).map(([, e]) => e));
        assert.ok(inMinute.size <= limits.perMinute, `minute: ${inMinute.size}`);
        assert.ok(inHour.size <= limits.perHour, `hour: ${inHour.size}`);
      }
    }), { seed: 62026, numRuns: 300 });
});
