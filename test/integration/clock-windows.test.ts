/**
 * Issue 11 item 1 (field case F12, DESIGN.md §2 "Time"): the authentication throttle's block and
 * the agent rate-limit windows run on the monotonic clock. The wall clock of this process (`Date`,
 * mocked with node:test's MockTimers, which leaves `performance.now()` alone) is stepped forward
 * and back; the windows must not move with it. The gate runs in the real in-process server.
 */
import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { createAuthThrottle } from '../../src/http/auth-throttle.js';
import { newEntry, newVault, startTestServer } from '../kit/in-process.js';
import { waitFor } from '../kit/pop.js';

const STEP_MS = 120_000;

test('authentication throttle: a wall-clock step neither lifts a block early nor stretches it', async (t) => {
  mock.timers.enable({ apis: ['Date'], now: Date.now() });
  t.after(() => mock.timers.reset());
  const th = createAuthThrottle({ maxFailures: 1, windowMs: 60_000, blockMs: 1_500 });
  th.failure('10.0.0.1');
  assert.equal(th.failure('10.0.0.1'), true, 'blocked');
  const wall = Date.now();
  mock.timers.setTime(wall + STEP_MS);
  assert.equal(th.blockedFor('10.0.0.1'), 2, 'still blocked for its 1.5 s after the wall clock jumped 120 s ahead');
  mock.timers.setTime(wall - STEP_MS);
  assert.equal(th.blockedFor('10.0.0.1'), 2, 'not blocked for 120 s more after the wall clock went back');
  await waitFor('the block to end', () => th.blockedFor('10.0.0.1') === undefined, 5000);
});

test('agent rate limit: a wall-clock step forward does not end the minute window, and the second breach still locks', async (t) => {
  const s = await startTestServer();
  t.after(() => s.stop());
  const { owner } = await newVault(s);
  const ids: string[] = [];
  for (const title of ['a', 'b']) ids.push(await newEntry(s, owner, { title, fields: [{ label: 'k', value: `v-${title}`, tier: 'agent' }] }));
  const created = await s.call('POST', '/api/agents', { token: owner, body: { name: 'bot', scopes: ids, limits: { per_minute: 1, per_hour: 100 } } });
  assert.equal(created.status, 201);
  const token = created.json.token as string;
  assert.equal((await s.call('GET', `/api/entries/${ids[0]}`, { token })).status, 200);
  const first = await s.call('GET', `/api/entries/${ids[1]}`, { token });
  assert.deepEqual([first.status, first.json.error.code], [429, 'CV-2009']);

  mock.timers.enable({ apis: ['Date'], now: Date.now() + STEP_MS });
  t.after(() => mock.timers.reset());
  // Still inside the 60 s window (in real elapsed time) and inside 2 hours of the first breach.
  const second = await s.call('GET', `/api/entries/${ids[1]}`, { token });
  assert.deepEqual([second.status, second.json?.error?.code], [403, 'CV-2010'], 'the read is refused, not served');
});
