/**
 * `clavitor-commercial status` without --json shows the sender's pipeline as `GET /api/status`
 * reports it (docs/operations.md; issue 12 item 4: "status shows progress meanwhile"). A
 * newcomer's try-out found the text view without retries, probes, acknowledged revisions or the
 * pushes in flight, so a slow link looked idle there.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderStatus } from '../../src/bin/commercial-operator.js';

const base = {
  pop_id: 'calgary-01', region: 'ca', role: 'primary', epoch: 3,
  replication: { peer: 'zurich-01', state: 'retrying', backlog: 12, lag_seconds: 4.2, pushes_sent: 40, pushes_received: 0, revisions_acknowledged: 388, retries: 2, probes: 1, alerts: 0, last_ack_at: '2026-11-30T18:00:00.000Z', last_error: null, resync: null, in_flight: null as null | { pushes: number; revisions: number; bytes: number; bytes_sent: number; idle_ms: number } },
};

test('the text status shows acknowledged revisions, retries, probes and the pushes in flight', () => {
  const idle = renderStatus(base);
  // The line scripts already match stays as it was (test/e2e/resync-f3.test.ts).
  assert.match(idle, /\n {2}pushes sent 40 {2}received 0 {2}last ack \S+/);
  assert.match(idle, /\n {2}revisions acknowledged 388 {2}retries 2 {2}probes 1 {2}alerts 0/);
  assert.doesNotMatch(idle, /in flight/);
  const busy = renderStatus({ ...base, replication: { ...base.replication, in_flight: { pushes: 1, revisions: 1, bytes: 5_000_000, bytes_sent: 1_250_000, idle_ms: 40 } } });
  assert.match(busy, /in flight 1 pushes, 1 revisions, 1250000\/5000000 bytes sent, last progress 40 ms ago/);
});
