/**
 * The backlog's size (status, /metrics, drain; node-store.ts `countAfter`) is counted on an index of
 * log positions, never by reading the revisions table: counted on the table, every row's page is
 * read, bodies and all (2.7 s with the event loop stopped for a 1,000,000-revision backlog in
 * `npm run bench`, 2026-12-01). Checked by SQLite's own query plan of the statement the store runs,
 * and by the count itself against the contract (the revisions past the acknowledged position).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openNodeStore } from '../../src/store/node-store.js';

const dir = mkdtempSync(join(tmpdir(), 'clavitor-backlog-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('the backlog count reads an index of log positions, not the revisions table', () => {
  const node = openNodeStore(dir);
  try {
    const insert = node.db.prepare('INSERT INTO revisions (vault_id, seq, kind, subject, body, epoch, origin_pop, created_at) VALUES (?, ?, ?, ?, ?, 1, ?, ?)');
    node.tx(() => {
      for (let i = 1; i <= 50; i++) insert.run('v1', i, 'entry.put', `e${i}`, 'x'.repeat(2000), 'calgary-01', new Date(0).toISOString());
    });
    node.setAckedLsn(20);
    const stats = node.backlogStats();
    assert.equal(stats.count, 30, 'revisions past the acknowledged position');
    assert.equal(stats.oldestLsn, 21);

    const plan = (node.db.prepare('EXPLAIN QUERY PLAN SELECT count(*) AS n, (SELECT min(lsn) FROM revisions WHERE lsn > @a) AS first FROM revisions WHERE lsn > @a').all({ a: 20 }) as { detail: string }[]).map((r) => r.detail);
    assert.ok(plan.length > 0);
    const counting = plan.filter((d) => /revisions/.test(d));
    assert.ok(counting.length > 0, plan.join('; '));
    assert.ok(counting.every((d) => /COVERING INDEX revisions_lsn/.test(d)), `every step reads the positions index: ${plan.join('; ')}`);
  } finally {
    node.close();
  }
});
