/**
 * bench/replication/lag-run.ts (issue 17): failed writes and acknowledged writes the watcher never saw are
 * counted and reported, and a never-seen write enters the lag percentiles as at least the drain
 * timeout instead of being left out. The target is a stand-in with known answers: the code under
 * test is the accounting, not a replica.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runLag } from '../../bench/replication/lag-run.js';
import { nowMs } from '../../bench/lib/stats.js';
import type { HeadSample } from '../../bench/replication/watcher.js';

test('failed and never-seen writes are counted, reported and weigh on the lag percentiles', async () => {
  const rate = 200;
  const seconds = 0.25; // 50 writes
  const drainTimeoutMs = 5_000;
  const samples: HeadSample[] = [];
  let head = 0;
  const run = await runLag(rate, seconds, {
    drainTimeoutMs,
    async write(i) {
      if (i % 10 === 9) throw new Error('HTTP 503'); // 5 of 50 fail
      head++;
      const h = head;
      // The replica shows every acknowledged write 1 ms later, except the last 3.
      if (h <= 42) samples.push({ sent: nowMs(), received: nowMs() + 1, head: h });
      return h;
    },
    watcher: { stop: async () => samples },
    drained: async () => {},
  });
  assert.equal(run.offered, 50);
  assert.equal(run.failed, 5, 'failed writes are counted');
  assert.equal(run.acked, 45);
  assert.equal(run.unseen, 3, 'acknowledged writes never seen are counted');
  assert.equal(run.complete, false);
  assert.equal(run.lag_ms.n, 45, 'every acknowledged write is in the lag percentiles');
  assert.equal(run.lag_seen_ms.n, 42);
  assert.ok(run.lag_ms.max >= drainTimeoutMs, `a never-seen write counts as at least the drain timeout (max ${run.lag_ms.max})`);
  assert.ok(run.unseen_counted_as_ms !== null && run.unseen_counted_as_ms >= drainTimeoutMs);
  assert.ok(run.lag_seen_ms.max < 100, 'the seen writes alone have a small lag');
  assert.ok(run.write_latency_ms.n === 45);
  const inSeries = run.series.reduce((n, [, , max]) => (max >= drainTimeoutMs ? n + 1 : n), 0);
  assert.ok(inSeries >= 1, 'the series shows the never-seen writes too');
});

test('a run where every write is seen is complete and its percentiles are the seen lags', async () => {
  const samples: HeadSample[] = [];
  let head = 0;
  const run = await runLag(100, 0.2, {
    drainTimeoutMs: 5_000,
    async write() {
      const h = ++head;
      samples.push({ sent: nowMs(), received: nowMs() + 2, head: h });
      return h;
    },
    watcher: { stop: async () => samples },
    drained: async () => {},
  });
  assert.ok(run.acked > 0);
  assert.equal(run.failed, 0);
  assert.equal(run.unseen, 0);
  assert.equal(run.complete, true);
  assert.equal(run.unseen_counted_as_ms, null);
  assert.deepEqual(run.lag_ms, run.lag_seen_ms);
});

test('the one poller reads the oldest unseen acknowledged write; acks out of order; a seen write covers older ones', async () => {
  const { PendingWrites } = await import('../../bench/replication/head-watcher.js');
  const p = new PendingWrites();
  assert.equal(p.next(), undefined);
  p.add(3, 'c');
  p.add(1, 'a');
  p.add(2, 'b');
  assert.deepEqual(p.next(), { head: 1, key: 'a' }, 'oldest first, whatever the order of the acknowledgements');
  assert.deepEqual(p.last(), { head: 3, key: 'c' }, 'and the newest, to credit every write in between with one read');
  p.seen(2); // write 2 readable: write 1 is too (in-order apply)
  assert.equal(p.known, 2);
  assert.deepEqual(p.next(), { head: 3, key: 'c' });
  p.add(2, 'b-again');
  assert.equal(p.size, 1, 'a write already known readable is not polled again');
  p.seen(3);
  assert.equal(p.next(), undefined);
  assert.equal(p.last(), undefined);
  assert.equal(p.size, 0);
});

test('runLag hands each acknowledged write (head and key) to the poller', async () => {
  const told: [number, string][] = [];
  const samples: HeadSample[] = [];
  let head = 0;
  const run = await runLag(100, 0.1, {
    drainTimeoutMs: 5_000,
    async write(i) {
      const h = ++head;
      samples.push({ sent: nowMs(), received: nowMs() + 1, head: h });
      return { head: h, key: `k${i}` };
    },
    watcher: { expect: (h, k) => { told.push([h, k]); }, stop: async () => samples },
    drained: async () => {},
  });
  assert.ok(run.acked > 0);
  assert.equal(told.length, run.acked);
  assert.ok(told.every(([h, k]) => k === `k${h - 1}`));
});
