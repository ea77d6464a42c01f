/**
 * Timing rules of the sender, from their contracts: the retry schedule 1 s, 5 s, 25 s … capped at
 * 5 min (DESIGN.md §4.4.3); a 429/503 `Retry-After` (RFC 9110 §10.2.3: seconds or an HTTP date)
 * makes the next attempt wait at least that long, never above the cap (issue 13 §2); the progress
 * allowance of a push once everything is written is what may sit in buffers (at most
 * KERNEL_BUFFER_ESTIMATE_BYTES) at the rate the link was seen to carry (issue 12 item 4).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BACKOFF_CAP_MS, backoffMs, retryDelayMs } from '../../src/replication/backoff.js';
import { KERNEL_BUFFER_ESTIMATE_BYTES, parseRetryAfter, progressAllowanceMs } from '../../src/replication/peer-client.js';

test('retry delay: the backoff schedule, or a longer Retry-After, capped at 5 minutes', () => {
  assert.deepEqual([1, 2, 3, 4, 5, 6].map((a) => backoffMs(a)), [1000, 5000, 25_000, 125_000, 300_000, 300_000]);
  assert.equal(BACKOFF_CAP_MS, 5 * 60 * 1000);
  assert.equal(retryDelayMs(1), 1000);
  assert.equal(retryDelayMs(1, 3000), 3000, 'Retry-After longer than the backoff wins');
  assert.equal(retryDelayMs(3, 3000), 25_000, 'a shorter Retry-After does not shorten the backoff');
  assert.equal(retryDelayMs(1, 60 * 60 * 1000), BACKOFF_CAP_MS, 'bounded by the max backoff');
  assert.equal(retryDelayMs(1, 0), 1000);
});

test('Retry-After: delay-seconds or an HTTP date; anything else is ignored', () => {
  const now = Date.parse('2026-11-30T12:00:00Z');
  assert.equal(parseRetryAfter('3', now), 3000);
  assert.equal(parseRetryAfter(' 120 ', now), 120_000);
  assert.equal(parseRetryAfter(['7', '9'], now), 7000);
  assert.equal(parseRetryAfter('Mon, 30 Nov 2026 12:00:30 GMT', now), 30_000);
  assert.equal(parseRetryAfter('Mon, 30 Nov 2026 11:00:00 GMT', now), 0, 'a date in the past: no wait');
  assert.equal(parseRetryAfter(undefined, now), undefined);
  assert.equal(parseRetryAfter('soon', now), undefined);
  assert.equal(parseRetryAfter('-5', now), undefined);
});

test('progress allowance: buffered bytes at the observed rate, none without a rate', () => {
  assert.equal(progressAllowanceMs(4_000_000, 500_000), 8000);
  assert.equal(progressAllowanceMs(100 * 1024 * 1024, 1_000_000), Math.ceil(KERNEL_BUFFER_ESTIMATE_BYTES / 1000), 'capped at the buffer estimate');
  assert.equal(progressAllowanceMs(4_000_000, 0), 0, 'no rate observed: a fast link');
  assert.equal(progressAllowanceMs(0, 500_000), 0);
});
