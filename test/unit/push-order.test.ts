/**
 * Arrival order of pipelined pushes (src/replication/push-order.ts, issue 12 item 4): a request
 * may apply only after every earlier request of the same connection finished; connections are
 * independent; finishing twice is harmless.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPushOrder } from '../../src/replication/push-order.js';

const settled = async (p: Promise<void>): Promise<boolean> => {
  let done = false;
  void p.then(() => { done = true; });
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
  return done;
};

test('a later push on the same connection waits until every earlier one finished, in order', async () => {
  const order = createPushOrder();
  const conn = {};
  const first = order.enter(conn);
  const second = order.enter(conn);
  const third = order.enter(conn);
  assert.equal(await settled(first.ready), true, 'the first push of a connection applies at once');
  assert.equal(await settled(second.ready), false, 'the second waits for the first');
  assert.equal(await settled(third.ready), false, 'the third waits too');
  first.finish();
  assert.equal(await settled(second.ready), true);
  assert.equal(await settled(third.ready), false, 'the third still waits for the second');
  second.finish();
  second.finish();
  assert.equal(await settled(third.ready), true);
});

test('connections are independent: a stuck request holds back only its own connection', async () => {
  const order = createPushOrder();
  const a = {};
  const b = {};
  order.enter(a); // never finishes (a connection the sender abandoned)
  const laterOnA = order.enter(a);
  const onB = order.enter(b);
  assert.equal(await settled(onB.ready), true);
  assert.equal(await settled(laterOnA.ready), false);
});
