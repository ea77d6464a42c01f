/**
 * Issue 13 §3, the rules of audit anchors over a real POP database (src/vault/audit-anchor.ts,
 * src/store/audit-anchors.ts): what the peer keeps (history bounded yet reaching back; an anchor
 * never overwritten by a contradicting one, which is reported), what the sender finds unsent, the
 * heartbeat digest, and the control plane showing that digest.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { createVaultFiles } from '../../src/store/vault-files.js';
import { newVaultId } from '../../src/lib/ids.js';
import { appendAudit } from '../../src/vault/audit.js';
import { ANCHORS_KEPT_NEWEST, anchorDigest, anchorsToDrop, checkAnchors, receiveAnchors } from '../../src/vault/audit-anchor.js';
import { HeartbeatRequest } from '../../src/controlplane/protocol.js';
import { buildStatus, ControlStatus } from '../../src/controlplane/server/status.js';
import { renderStatusTable } from '../../src/controlplane/server/status-table.js';
import { AnchorsBody } from '../../src/replication/anchors.js';

const h = (n: number): string => createHash('sha256').update(String(n)).digest('hex');

async function withFiles(fn: (files: ReturnType<typeof createVaultFiles>) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'clavitor-anchor-'));
  const files = createVaultFiles(dir);
  try {
    await fn(files);
  } finally {
    files.closeAll();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Creates a vault on this POP (its first revision), as the writer would. */
function addVault(files: ReturnType<typeof createVaultFiles>): string {
  const v = newVaultId();
  files.openOrCreate(v).insertRevision({ vaultId: v, seq: 1, kind: 'vault.create', subject: null, body: '{}', epoch: 1, originPop: 'calgary-01', createdAt: new Date().toISOString() });
  return v;
}

test('history: the newest anchors and one per power-of-two band of distance; small, and reaching back', () => {
  let held: number[] = [];
  for (let s = 1; s <= 20_000; s += 3) {
    held.push(s);
    const drop = new Set(anchorsToDrop(held, s));
    held = held.filter((x) => !drop.has(x));
    assert.ok(held.includes(s), 'the newest is always kept');
  }
  const newest = held.at(-1)!;
  assert.ok(held.length <= ANCHORS_KEPT_NEWEST + 16, `bounded: ${held.length} anchors kept`);
  assert.ok(held.length > ANCHORS_KEPT_NEWEST, 'older anchors are kept too');
  // Reaching back: for a rewrite starting at any record r, the peer still holds an anchor at or
  // after r that is at most half r's distance from the newest past r (power-of-two bands), so a
  // rewrite of old records is caught, not only one of the newest.
  for (const r of [10, 100, 1000, 10_000, 19_000]) {
    const covering = held.filter((x) => x >= r);
    assert.ok(covering.length > 0, `an anchor covers record ${r}`);
    assert.ok(covering[0]! <= r + (newest - r) / 2 + 3, `the covering anchor of ${r} is within half its distance (${covering[0]})`);
  }
});

test('receive: unknown vaults refused; contradicting anchors reported and never overwrite the kept one', () => withFiles(async (files) => {
  const store = files.anchors();
  const v = addVault(files);
  const at = new Date().toISOString();
  const unknown = newVaultId();
  const r1 = await receiveAnchors(store, 'calgary-01', [{ vault_id: v, seq: 5, hash: h(5) }, { vault_id: unknown, seq: 2, hash: h(2) }], at);
  assert.deepEqual({ kept: r1.kept, unknown: r1.unknownVaults, conflicts: r1.conflicts }, { kept: 1, unknown: [unknown], conflicts: [] });
  const rewritten = await receiveAnchors(store, 'calgary-01', [{ vault_id: v, seq: 5, hash: h(55) }], at);
  assert.equal(rewritten.conflicts.length, 1);
  assert.equal(rewritten.conflicts[0]!.kind, 'rewritten');
  const behind = await receiveAnchors(store, 'calgary-01', [{ vault_id: v, seq: 3, hash: h(3) }], at);
  assert.equal(behind.conflicts[0]!.kind, 'behind');
  assert.equal(behind.conflicts[0]!.held_seq, 5);
  const kept = store.ofVault(v);
  assert.ok(kept.length > 0);
  assert.deepEqual(kept.filter((a) => a.seq === 5).map((a) => a.hash), [h(5)], 'the first anchor at 5 stands');
  assert.ok(kept.every((a) => a.popId === 'calgary-01'));
}));

test('sender side: a head is unsent until acknowledged, and again once a record is appended', () => withFiles(async (files) => {
  const store = files.anchors();
  const v = addVault(files);
  const marked: string[] = [];
  files.onAuditAppended((id) => marked.push(id));
  const vs = files.find(v as never)!;
  for (let i = 0; i < 3; i++) vs.tx(() => appendAudit(vs, { actor: 'owner', action: 'entry.read', outcome: 'ok' }, new Date().toISOString()));
  assert.deepEqual(marked, [v, v, v], 'every appended record tells the listener');
  const [head] = store.unsent();
  assert.ok(head);
  assert.equal(head.seq, 3);
  assert.equal(head.hash, vs.lastAuditHash());
  await store.markSent([head]);
  assert.deepEqual(store.unsent(), []);
  assert.deepEqual(store.unsentOf([v]), []);
  vs.tx(() => appendAudit(vs, { actor: 'owner', action: 'entry.read', outcome: 'ok' }, new Date().toISOString()));
  assert.deepEqual(store.unsentOf([v]).map((x) => x.seq), [4]);
}));

test('verify side: an anchor is contradicted by a missing record or another hash', () => {
  const trail = new Map([[1, h(1)], [2, h(2)], [3, h(3)]]);
  const at = (s: number) => trail.get(s);
  assert.deepEqual(checkAnchors(at, [{ seq: 3, hash: h(3), source: 'peer' }]), []);
  assert.deepEqual(checkAnchors(at, [{ seq: 4, hash: h(4), source: 'peer' }, { seq: 2, hash: h(9), source: 'remembered' }]).map((p) => [p.kind, p.seq, p.source]),
    [['changed', 2, 'remembered'], ['missing', 4, 'peer']]);
});

test('digest: order of vaults does not matter; records are summed; the control plane shows it', () => {
  const a = { vaultId: 'v_a', seq: 4, hash: h(4) };
  const b = { vaultId: 'v_b', seq: 7, hash: h(7) };
  const d = anchorDigest([b, a]);
  assert.deepEqual(d, anchorDigest([a, b]));
  assert.equal(d.records, 11);
  assert.equal(d.vaults, 2);
  assert.notEqual(anchorDigest([a, { ...b, hash: h(8) }]).digest, d.digest);
  const hb = { pop_id: 'calgary-01', region: 'r', role: 'primary' as const, epoch: 1, peer_id: 'zurich-01', position: 1, backlog: 0, lag_seconds: 0, healthy: true, heartbeat_interval_seconds: 1 };
  assert.ok(HeartbeatRequest.safeParse(hb).success, 'a heartbeat without audit (older POP) is accepted');
  assert.ok(HeartbeatRequest.safeParse({ ...hb, audit: d }).success);
  assert.ok(!HeartbeatRequest.safeParse({ ...hb, audit: { ...d, digest: 'x' } }).success);
  const s = buildStatus({ pops: [{ heartbeat: { ...hb, audit: d }, received_at_ms: 0, lease: null }], pairs: [], assessments: new Map(), nowMs: 0,
    settings: { leaseTtlMs: 10_000, safetyMarginMs: 1000, failoverAfterMissedHeartbeats: 3, maxLagOnFailover: 0 }, instanceId: 'cp', leader: true, store: 'sqlite' });
  assert.ok(ControlStatus.safeParse(s).success);
  assert.deepEqual(s.pops[0]!.audit, d);
  assert.match(renderStatusTable(s), new RegExp(`calgary-01\\s+2\\s+11\\s+${d.digest}`));
});

test('anchors body: bounded and strict', () => {
  const ok = { sender: 'calgary-01', anchors: [{ vault_id: 'v_x', seq: 1, hash: h(1) }] };
  assert.ok(AnchorsBody.safeParse(ok).success);
  for (const bad of [
    { ...ok, anchors: [] },
    { ...ok, anchors: [{ vault_id: 'v_x', seq: 0, hash: h(1) }] },
    { ...ok, anchors: [{ vault_id: 'v_x', seq: Number.MAX_SAFE_INTEGER + 2, hash: h(1) }] },
    { ...ok, anchors: [{ vault_id: 'v_x', seq: 1, hash: 'ABC' }] },
    { ...ok, sender: 'Calgary 01' },
    { ...ok, extra: 1 },
    { ...ok, anchors: Array.from({ length: 1001 }, () => ok.anchors[0]) },
  ]) assert.ok(!AnchorsBody.safeParse(bad).success, JSON.stringify(bad).slice(0, 80));
});
