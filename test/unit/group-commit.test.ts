/**
 * The group committer (src/store/group-commit.ts) on a real SQLite database: jobs queued in one
 * turn commit in one transaction; a job that throws after writing rolls back its own savepoint
 * only; every batch commits with synchronous = NORMAL and its durable jobs wait for the WAL fsync that follows (injected here to hold it);
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
  assert.deepEqual(gc.stats(), { batches: 1, jobs: 5, maxBatch: 5, syncs: 1 });
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

test('every batch commits with synchronous = NORMAL and the connection is back to FULL after it', async () => {
  const { db, ins, gc } = fresh();
  const sync = () => db.pragma('synchronous', { simple: true }) as number;
  const relaxedOnly = await gc.enqueue(() => { ins.run('r'); return sync(); }, { relaxed: true });
  assert.equal(relaxedOnly, 1, 'NORMAL');
  const [mixedRelaxed, mixedDurable] = await Promise.all([gc.enqueue(() => sync(), { relaxed: true }), gc.enqueue(() => sync())]);
  assert.deepEqual([mixedRelaxed, mixedDurable], [1, 1], 'NORMAL: the fsync is done after the commit, off the event loop');
  assert.equal(sync(), 2, 'FULL again after the batch, for commits made outside the committer');
  assert.ok(gc.stats().syncs >= 1, 'the durable job waited for a WAL fsync');
});

/** A committer whose fsync completes only when the test says so. */
function heldSync() {
  const { db, ins, keys } = fresh();
  const pending: ((err: Error | null) => void)[] = [];
  const failures: Error[] = [];
  let last = 0;
  const gc = createGroupCommitter(db, {
    sync: (done) => void pending.push(done),
    mark: () => last,
    onSyncFailure: (e) => void failures.push(e),
  });
  return { db, ins, keys, gc, pending, failures, setMark: (m: number) => { last = m; } };
}

const turn = () => new Promise<void>((r) => setImmediate(r));

test('a durable job resolves only after the fsync that follows its commit; readers see it committed before', async () => {
  const { ins, keys, gc, pending, setMark } = heldSync();
  setMark(7);
  let resolved = false;
  const p = gc.enqueue(() => { ins.run('w'); return 'ok'; }).then((v) => { resolved = true; return v; });
  let relaxedDone = false;
  const r = gc.enqueue(() => ins.run('audit'), { relaxed: true }).then(() => { relaxedDone = true; });
  await gc.settled();
  assert.deepEqual(keys(), ['audit', 'w'], 'committed: visible to this connection');
  await r;
  assert.equal(relaxedDone, true, 'a relaxed job does not wait for the fsync');
  await turn();
  assert.equal(resolved, false, 'not acknowledged before its fsync returned');
  assert.equal(pending.length, 1, 'one fsync in flight');
  assert.equal(gc.durableBound(), 7, 'durable up to the mark read before the unsynced batch');
  pending.shift()!(null);
  assert.equal(await p, 'ok');
  assert.equal(gc.durableBound(), Infinity, 'nothing waits for an fsync');
});

test('batches committed while an fsync is in flight share the next one; at most one fsync at a time', async () => {
  const { ins, gc, pending, setMark } = heldSync();
  setMark(1);
  const first = gc.enqueue(() => ins.run('a'));
  await gc.settled();
  setMark(2);
  const second = gc.enqueue(() => ins.run('b'));
  await gc.settled();
  setMark(3);
  const third = gc.enqueue(() => ins.run('c'));
  await gc.settled();
  await turn();
  assert.equal(pending.length, 1, 'the second and third batches wait for the first fsync to return');
  assert.equal(gc.durableBound(), 1);
  const order: string[] = [];
  void first.then(() => order.push('a'));
  void second.then(() => order.push('b'));
  void third.then(() => order.push('c'));
  pending.shift()!(null);
  await first;
  await turn();
  assert.deepEqual(order, ['a'], 'b and c are not covered by an fsync that started before their commit');
  assert.equal(pending.length, 1, 'one fsync for both later batches');
  assert.equal(gc.durableBound(), 2);
  let synced = false;
  gc.afterSync(() => { synced = true; });
  pending.shift()!(null);
  await Promise.all([second, third]);
  assert.deepEqual(order, ['a', 'b', 'c']);
  assert.equal(synced, true, 'afterSync listeners run once the batches are durable');
  assert.equal(gc.stats().batches, 3);
});

test('a failed fsync rejects the writes waiting for it and every later write; the failure is reported once', async () => {
  const { ins, keys, gc, pending, failures } = heldSync();
  const waiting = gc.enqueue(() => ins.run('x'));
  await gc.settled();
  await turn();
  pending.shift()!(new Error('EIO: i/o error, fsync'));
  await assert.rejects(waiting, /EIO/);
  await assert.rejects(gc.enqueue(() => ins.run('y')), /EIO/, 'fail-stop: nothing more is acknowledged');
  assert.deepEqual(keys(), ['x'], 'the later job did not run');
  assert.equal(failures.length, 1);
});

test('closing the committer while its WAL fsync is in flight lets that fsync finish: the write is acknowledged, not failed', async () => {
  for (let i = 0; i < 20; i++) {
    const failures: Error[] = [];
    const db = openDatabase(join(dir, `close${i}.db`), ['CREATE TABLE t (k TEXT PRIMARY KEY)']);
    const ins = db.prepare('INSERT INTO t (k) VALUES (?)');
    const gc = createGroupCommitter(db, { onSyncFailure: (e) => void failures.push(e) });
    const write = gc.enqueue(() => ins.run('k'));
    await gc.settled(); // committed; its fsync is now on the thread pool
    gc.close();
    await write; // rejected with EBADF when the descriptor was closed under the fsync
    assert.deepEqual(failures, []);
    db.close();
  }
});

test('afterSync fires once the batches committed before it are durable, while later batches still wait for theirs; never after a failed fsync', async () => {
  const { ins, gc, pending } = heldSync();
  const first = gc.enqueue(() => ins.run('a'));
  await gc.settled();
  let synced = false;
  gc.afterSync(() => { synced = true; });
  const second = gc.enqueue(() => ins.run('b')); // committed after the call: not waited for
  await gc.settled();
  await turn();
  assert.equal(pending.length, 1);
  pending.shift()!(null); // the fsync covering 'a'
  await first;
  await turn();
  assert.equal(synced, true, 'called once the batch it was registered behind is durable, with b still pending');
  assert.equal(pending.length, 1, "b's fsync is in flight");
  pending.shift()!(new Error('EIO'));
  await assert.rejects(second, /EIO/);
  let afterFailure = false;
  gc.afterSync(() => { afterFailure = true; });
  await turn();
  await turn();
  assert.equal(afterFailure, false, 'nothing becomes durable after a failed fsync');
});
