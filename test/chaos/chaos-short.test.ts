/**
 * Issue 8: a short seeded chaos run inside `npm test` (the long run is `npm run chaos`). Four
 * clients write to three vaults while the nemesis kills, pauses, cuts and delays links, and swaps
 * roles; afterwards every acknowledged write must be on the final primary or in quarantine, no
 * epoch may have two writers, the backup may never have accepted a write, both POPs must verify
 * identical and no revision may be duplicated. Fixed seed, so the fault schedule is the same on
 * every run; only timing varies. A run that observed too little fails too (issue 17): no
 * acknowledged write, no role observation of a POP, fewer than 4 completed faults, or an anomaly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runChaos } from '../../scripts/chaos/chaos.js';
import { writeReport } from '../../scripts/chaos/report.js';
import { tempDir } from '../kit/pop.js';

test('chaos (short, seed 7): no acknowledged write lost, no split brain, POPs converge', { timeout: 600_000 }, async (t) => {
  const out = tempDir('clavitor-chaos-report-');
  t.after(() => out.cleanup());
  const report = await runChaos({ seconds: 30, seed: 7, faultScale: 0.6, minFaults: 4 });
  const failed = report.checks.filter((c) => !c.passed);
  if (failed.length > 0) {
    const files = writeReport(join(report.runDir ?? out.dir, 'chaos-report'), report);
    assert.fail(`chaos checks failed (report ${files.md}; POP data and logs kept in ${report.runDir}):\n${failed.map((c) => `(${c.id}) ${c.name}: ${c.summary}\n  ${c.violations.join('\n  ')}`).join('\n')}`);
  }
  t.diagnostic(`${report.operations.total} operations, ${report.writes.acknowledged} acknowledged, ${report.writes.quarantined} quarantined, ${report.writes.unknown} unknown; faults: ${report.faults.list.map((f) => f.kind).join(', ')}`);
  assert.equal(report.writes.lost, 0);
  assert.ok(report.writes.acknowledged >= 100, `acknowledged writes: ${report.writes.acknowledged}`);
  assert.equal(report.faults.incomplete, 0, 'every fault completed');
  assert.ok(report.faults.total - report.faults.incomplete >= 4, `faults completed: ${report.faults.total - report.faults.incomplete}`);
  assert.deepEqual(report.anomalies, []);
  assert.deepEqual(report.checks.map((c) => c.id), ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']);
  assert.match(report.checks.find((c) => c.id === 'c')!.summary, /\(([1-9]\d*) role observations\)/, 'the role monitor observed the POPs');
  // One row per unplanned failover injected, with its quarantine count and share.
  const unplanned = report.faults.list.filter((f) => ['failover', 'failover-restart', 'switchover-crash'].includes(f.kind)).length;
  assert.equal(report.writes.byFailover.length, unplanned);
  assert.equal(report.writes.byFailover.reduce((n, q) => n + q.quarantined, 0), report.writes.quarantined);
  // The report renders without error and names every check.
  const files = writeReport(join(out.dir, 'chaos-7'), report);
  assert.match(files.md, /chaos-7\.md$/);
});
