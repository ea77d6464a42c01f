/**
 * Issue 4 item 4: authentication failures are rate limited per source address. Expected values
 * are the documented contract (docs/errors.md CV-2006): more than 30 failures from one address
 * within 60 s block that address for 60 s; other addresses are unaffected; at most 10,000
 * addresses are tracked per process.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createAuthThrottle } from '../../src/http/auth-throttle.js';

// docs/errors.md, CV-2006.
const DOC_LIMIT = 30;
const DOC_WINDOW_MS = 60_000;
const DOC_BLOCK_S = 60;
const DOC_MAX_TRACKED = 10_000;

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

test('defaults are the documented ones: the 31st failure within 60 s blocks that address for 60 s', () => {
  let t = 5_000_000;
  const th = createAuthThrottle({ now: () => t });
  for (let i = 0; i < DOC_LIMIT; i++) {
    assert.equal(th.failure('192.0.2.1'), false, `failure ${i + 1} of ${DOC_LIMIT} allowed`);
    t += Math.floor((DOC_WINDOW_MS - 1000) / DOC_LIMIT);
  }
  assert.equal(th.blockedFor('192.0.2.1'), undefined);
  assert.equal(th.failure('192.0.2.1'), true, `failure ${DOC_LIMIT + 1} within ${DOC_WINDOW_MS} ms blocks`);
  assert.equal(th.blockedFor('192.0.2.1'), DOC_BLOCK_S);
  assert.equal(th.blockedFor('192.0.2.2'), undefined, 'another address is not blocked');
  t += DOC_BLOCK_S * 1000 - 1;
  assert.ok(th.blockedFor('192.0.2.1') !== undefined, 'still blocked just before the block ends');
  t += 2;
  assert.equal(th.blockedFor('192.0.2.1'), undefined, 'released after the block');
});

test('the limit is per address: many addresses with a few failures each are never blocked', () => {
  let t = 0;
  const th = createAuthThrottle({ now: () => t });
  const addresses = Array.from({ length: 500 }, (_, i) => `198.51.100.${i}`);
  assert.ok(addresses.length > DOC_LIMIT);
  for (let round = 0; round < DOC_LIMIT; round++) {
    for (const a of addresses) assert.equal(th.failure(a), false, `${a} failure ${round + 1}`);
    t += 10;
  }
  for (const a of addresses) assert.equal(th.blockedFor(a), undefined, a);
  // One more failure from one of them blocks that one only.
  assert.equal(th.failure(addresses[7]!), true);
  assert.equal(th.blockedFor(addresses[7]!), DOC_BLOCK_S);
  assert.equal(addresses.filter((a) => th.blockedFor(a) !== undefined).length, 1);
});

test('tracking is bounded: at most 10,000 addresses (documented), and blocking still works for new ones', () => {
  let t = 0;
  const th = createAuthThrottle({ now: () => t });
  for (let i = 0; i < DOC_MAX_TRACKED * 3; i++) {
    th.failure(`ip${i}`);
    t += 1;
  }
  assert.ok(th.tracked() > 0);
  assert.equal(th.tracked(), DOC_MAX_TRACKED, 'tracked addresses stay at the documented bound');
  // An address seen after the flood still gets blocked by the documented limit.
  for (let i = 0; i < DOC_LIMIT; i++) assert.equal(th.failure('203.0.113.9'), false);
  assert.equal(th.failure('203.0.113.9'), true);
  assert.equal(th.blockedFor('203.0.113.9'), DOC_BLOCK_S);
  assert.ok(th.tracked() <= DOC_MAX_TRACKED);

  const small = createAuthThrottle({ maxTracked: 100, now: () => t });
  for (let i = 0; i < 10_000; i++) small.failure(`ip${i}`);
  assert.equal(small.tracked(), 100);
});
