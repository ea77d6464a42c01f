/**
 * What `clavitor-control status` prints and what `GET /` serves: the status built from records,
 * the text table (aligned, control characters from POP reports neutralised), and the page's safety
 * (values rendered as text only; its Content-Security-Policy admits exactly its own script and style).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { buildStatus, ControlStatus } from '../../src/controlplane/server/status.js';
import { formatDurationMs, renderStatusTable } from '../../src/controlplane/server/status-table.js';
import { STATUS_PAGE_HEADERS, STATUS_PAGE_HTML } from '../../src/controlplane/server/status-page.js';
import type { PairState, PopRecord } from '../../src/controlplane/server/records.js';

const NOW = 1_800_000_000_000;
const S = { leaseTtlMs: 10_000, safetyMarginMs: 1000, failoverAfterMissedHeartbeats: 3, maxLagOnFailover: 0 };
const pops: PopRecord[] = [
  { heartbeat: { pop_id: 'calgary-01', region: 'north\x1b[31m-america', role: 'primary', epoch: 1, peer_id: 'zurich-01', position: 120, backlog: 12, lag_seconds: 3.25, healthy: true, heartbeat_interval_seconds: 1 }, received_at_ms: NOW - 15_000, lease: { received_at_ms: NOW - 15_000, epoch: 1, ttl_ms: 10_000 } },
  { heartbeat: { pop_id: 'zurich-01', region: 'europe', role: 'backup', epoch: 1, peer_id: 'calgary-01', position: 108, backlog: 0, lag_seconds: 0, healthy: true, heartbeat_interval_seconds: 1 }, received_at_ms: NOW - 400, lease: null },
];
const pair: PairState = { pair_id: 'calgary-01+zurich-01', members: ['calgary-01', 'zurich-01'], epoch: 2, primary_id: 'zurich-01', lease_holder: { pop_id: 'calgary-01', epoch: 1 }, promote: { pop_id: 'zurich-01', epoch: 2 }, last_decision: { at_ms: NOW - 300, kind: 'promote', text: 'promoting zurich-01 to primary in epoch 2' } };

test('status: every POP with age, lease left and the directive it will get; pairs with their assessment', () => {
  const s = buildStatus({ pops, pairs: [pair], assessments: new Map([[pair.pair_id, { at_ms: NOW, kind: 'wait' as const, text: 'waiting', by: 'cp-a' }]]), nowMs: NOW, settings: S, instanceId: 'cp-a', leader: true, store: 'sqlite' });
  assert.ok(ControlStatus.safeParse(s).success);
  const [c, z] = s.pops;
  assert.equal(c?.heartbeat_age_ms, 15_000);
  assert.equal(c?.lease_remaining_ms, 0);
  assert.deepEqual(c?.directive, { action: 'demote', epoch: 2, primary_id: 'zurich-01' });
  assert.deepEqual(z?.directive, { action: 'promote', epoch: 2 });
  assert.equal(s.pairs[0]?.assessment?.text, 'waiting');
  assert.equal(s.control_plane.lease_ttl_ms, 10_000);
});

test('table: one aligned row per POP, control characters neutralised, decisions shown', () => {
  const s = buildStatus({ pops, pairs: [pair], assessments: new Map(), nowMs: NOW, settings: S, instanceId: 'cp-a', leader: false, store: 'etcd' });
  const out = renderStatusTable(s);
  assert.ok(!out.includes('\x1b'), 'no escape sequence reaches the terminal');
  assert.match(out, /not the leader; store etcd/);
  assert.match(out, /pair calgary-01\+zurich-01: epoch 2, primary zurich-01, promoting zurich-01 to epoch 2/);
  assert.match(out, /\[promote\] promoting zurich-01 to primary in epoch 2/);
  const lines = out.split('\n');
  const header = lines.find((l) => l.startsWith('POP'))!;
  const row = lines.find((l) => l.startsWith('calgary-01 '))!;
  assert.equal(row.indexOf('primary'), header.indexOf('ROLE'));
  assert.match(row, /15\.0s\s+120\s+12\s+3\.3s\s+yes\s+-\s+demote→zurich-01@2$/);
  assert.match(renderStatusTable({ ...s, pairs: [], pops: [] }), /no POP has sent a heartbeat yet/);
});

test('durations', () => {
  assert.deepEqual([850, 12_345, 245_000, 7_620_000].map(formatDurationMs), ['850ms', '12.3s', '4m05s', '2h07m']);
});

test('page: self-contained, text-only rendering, CSP hashes match the inline script and style', () => {
  assert.ok(!/src=|href=|innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(/i.test(STATUS_PAGE_HTML), 'no external asset, no HTML sink');
  const csp = STATUS_PAGE_HEADERS['content-security-policy']!;
  const block = (tag: string) => new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`).exec(STATUS_PAGE_HTML)![1]!;
  const h = (s: string) => `'sha256-${createHash('sha256').update(s, 'utf8').digest('base64')}'`;
  assert.ok(csp.includes(`script-src ${h(block('script'))}`));
  assert.ok(csp.includes(`style-src ${h(block('style'))}`));
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /connect-src 'self'/);
});
