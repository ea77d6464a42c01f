/**
 * The group committer (src/store/group-commit.ts) on a real SQLite database: jobs queued in one
 * turn commit in one transaction; a job that throws after writing rolls back its own savepoint
 * only; a batch of relaxed jobs only commits with synchronous = NORMAL, any other with FULL;
 * `settled` waits for everything queued so far.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../src/store/sqlite.js';
import { createGroupCommitter } from '../../src/store/group-commit.js';

const dir = mkdtempSync(join(tmpdir(), 'clavitor-gc-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
function fresh() {
  const db = openDatabase(join(dir, `t${n++}.db`), ['CREATE TABLE t (k TEXT PRIMARY KEY)']);
  const ins = db.prepare('INSERT INTO t (k) VALUES (?)');
  const keys = () => (db.prepare('SELECT k FROM t ORDER BY k').all() as { k: string }[]).map((r) => r.k);
  return { db, ins, keys, gc: createGroupCommitter(db) };
}

test('a job that throws after writing rolls back alone; the others of its batch commit', async () => {
  const { ins, keys, gc } = fresh();
  const results = await Promise.allSettled([
    gc.enqueue(() => ins.run('a')),
    gc.enqueue(() => { ins.run('b1'); ins.run('b2'); throw new Error('refused after writing'); }),
    gc.enqueue(() => ins.run('c')),
    gc.enqueue(() => ins.run('a')), // a constraint failure inside the batch
    gc.enqueue(() => ins.run('d')),
  ]);
  assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled']);
  assert.equal((results[1] as PromiseRejectedResult).reason.message, 'refused after writing');
  assert.deepEqual(keys(), ['a', 'c', 'd']);
  assert.deepEqual(gc.stats(), { batches: 1, jobs: 5, maxBatch: 5 });
});

test('nothing is visible to the caller before the commit; settled waits for queued jobs', async () => {
  const { ins, keys, gc } = fresh();
  const p = gc.enqueue(() => ins.run('x'));
  assert.deepEqual(keys(), [], 'queued, not yet run');
  await gc.settled();
  assert.deepEqual(keys(), ['x']);
  await p;
  await gc.settled(); // nothing queued: resolves at once
});

test('relaxed-only batches commit with synchronous = NORMAL, mixed ones with FULL', async () => {
  const { db, ins, gc } = fresh();
  const sync = () => db.pragma('synchronous', { simple: true }) as number;
  const relaxedOnly = await gc.enqueue(() => { ins.run('r'); return sync(); }, { relaxed: true });
  assert.equal(relaxedOnly, 1, 'NORMAL');
  const [mixedRelaxed, mixedFull] = await Promise.all([gc.enqueue(() => sync(), { relaxed: true }), gc.enqueue(() => sync())]);
  assert.deepEqual([mixedRelaxed, mixedFull], [2, 2], 'FULL');
  assert.equal(sync(), 2, 'FULL again after the relaxed batch');
});
