/** Issue 4 item 4: authentication failures are rate limited per source address. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createAuthThrottle } from '../../src/http/auth-throttle.js';

test('an address is blocked after too many failures in the window, and released after blockMs', () => {
  let t = 1_000_000;
  const th = createAuthThrottle({ maxFailures: 3, windowMs: 10_000, blockMs: 5_000, now: () => t });
  for (let i = 0; i < 3; i++) assert.equal(th.failure('10.0.0.1'), false);
  assert.equal(th.blockedFor('10.0.0.1'), undefined);
  assert.equal(th.failure('10.0.0.1'), true);
  assert.equal(th.blockedFor('10.0.0.1'), 5);
  assert.equal(th.blockedFor('10.0.0.2'), undefined, 'other addresses are not affected');
  t += 5_001;
  assert.equal(th.blockedFor('10.0.0.1'), undefined);
});

test('failures spread over more than the window do not block', () => {
  let t = 0;
  const th = createAuthThrottle({ maxFailures: 2, windowMs: 1_000, blockMs: 5_000, now: () => t });
  for (let i = 0; i < 10; i++) {
    assert.equal(th.failure('a'), false);
    t += 600;
  }
  assert.equal(th.blockedFor('a'), undefined);
});

test('tracking is bounded', () => {
  const th = createAuthThrottle({ maxTracked: 100 });
  for (let i = 0; i < 10_000; i++) th.failure(`ip${i}`);
  assert.equal(th.blockedFor('ip0'), undefined);
});
