/**
 * Log matching (issue 12 item 3; DESIGN.md §4.4.2, §4.4.7): the divergence point of two epoch
 * histories and where a primary resumes its stream. Expected values are worked out from the rule
 * (the epoch that wrote position L is the one whose start is the largest at or below L; two logs
 * diverge at the first position their histories give to different epochs), not from the code.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { divergencePoint, epochAt, resumePoint, sameHistory } from '../../src/replication/log-match.js';
import type { EpochStart } from '../../src/store/node-store.js';

/** History from [epoch, start_lsn, pop] triples. */
const h = (...rows: [number, number, string][]): EpochStart[] => rows.map(([epoch, startLsn, popId]) => ({ epoch, startLsn, popId }));
const INF = Number.POSITIVE_INFINITY;

describe('epochAt', () => {
  const hist = h([1, 1, 'a'], [2, 51, 'b'], [3, 51, 'a'], [4, 90, 'b']);
  for (const [lsn, want] of [[0, 0], [1, 1], [50, 1], [51, 3], [89, 3], [90, 4], [10_000, 4]] as const) {
    test(`position ${lsn} → epoch ${want} (empty epoch 2 superseded by 3 at the same start)`, () => assert.equal(epochAt(hist, lsn), want));
  }
  test('empty history: no epoch', () => assert.equal(epochAt([], 5), 0));
});

describe('divergencePoint (table)', () => {
  const cases: { name: string; mine: EpochStart[]; theirs: EpochStart[]; want: number }[] = [
    { name: 'same history: no divergence', mine: h([1, 1, 'a'], [2, 51, 'b']), theirs: h([1, 1, 'a'], [2, 51, 'b']), want: INF },
    { name: 'both empty', mine: [], theirs: [], want: INF },
    { name: 'failover A→B: A lacks epoch 2, which began at 51', mine: h([1, 1, 'a']), theirs: h([1, 1, 'a'], [2, 51, 'b']), want: 51 },
    { name: 'a POP without history against one with: from the first position', mine: [], theirs: h([1, 1, 'a']), want: 1 },
    { name: 'back and forth A→B→A→B: A missed only epoch 4', mine: h([1, 1, 'a'], [2, 51, 'b'], [3, 81, 'a']), theirs: h([1, 1, 'a'], [2, 51, 'b'], [3, 81, 'a'], [4, 120, 'b']), want: 120 },
    { name: 'back and forth: B took epoch 4 where A had begun epoch 3 (B never saw epoch 3)', mine: h([1, 1, 'a'], [2, 51, 'b'], [3, 81, 'a']), theirs: h([1, 1, 'a'], [2, 51, 'b'], [4, 81, 'b']), want: 81 },
    { name: 'B took epoch 4 before A\'s epoch 3 began: from where epoch 4 began', mine: h([1, 1, 'a'], [2, 51, 'b'], [3, 81, 'a']), theirs: h([1, 1, 'a'], [2, 51, 'b'], [4, 70, 'b']), want: 70 },
    { name: 'an epoch that wrote nothing, superseded at the same start', mine: h([1, 1, 'a'], [2, 51, 'b']), theirs: h([1, 1, 'a'], [2, 51, 'b'], [3, 51, 'a']), want: 51 },
    { name: 'mine has an epoch the new primary never heard of, theirs one above it earlier', mine: h([1, 1, 'a'], [2, 51, 'b'], [3, 60, 'b']), theirs: h([1, 1, 'a'], [2, 51, 'b'], [4, 55, 'a']), want: 55 },
    { name: 'mine has an extra later epoch, theirs none there', mine: h([1, 1, 'a'], [2, 51, 'b']), theirs: h([1, 1, 'a']), want: 51 },
    { name: 'same epoch recorded at another start', mine: h([1, 1, 'a']), theirs: h([1, 5, 'a']), want: 1 },
  ];
  for (const c of cases) {
    test(c.name, () => {
      assert.equal(divergencePoint(c.mine, c.theirs), c.want);
      assert.equal(divergencePoint(c.theirs, c.mine), c.want, 'symmetric');
    });
  }
});

describe('resumePoint (where the primary resumes its stream)', () => {
  const P = h([1, 1, 'a'], [2, 51, 'b']);
  test('a wiped or new backup (no history, nothing held): from the start (F7)', () => {
    assert.deepEqual(resumePoint({ history: P, lsn: 100 }, { history: [], lsn: 0 }), { kind: 'resume', acked: 0, diverged: false });
  });
  test('a backup behind on the same history: after its last position', () => {
    assert.deepEqual(resumePoint({ history: P, lsn: 100 }, { history: P, lsn: 40 }), { kind: 'resume', acked: 40, diverged: false });
  });
  test('a backup up to date: nothing to resend', () => {
    assert.deepEqual(resumePoint({ history: P, lsn: 100 }, { history: P, lsn: 100 }), { kind: 'resume', acked: 100, diverged: false });
  });
  test('a backup past the primary on the same history: ahead (restored primary, F13)', () => {
    assert.deepEqual(resumePoint({ history: P, lsn: 100 }, { history: P, lsn: 120 }), { kind: 'ahead' });
  });
  test('a rejoining POP holding positions past the divergence point: from the point, diverged', () => {
    assert.deepEqual(resumePoint({ history: P, lsn: 70 }, { history: h([1, 1, 'a']), lsn: 53 }), { kind: 'resume', acked: 50, diverged: true });
  });
  test('a rejoining POP with a longer dead branch is not "ahead": it diverged', () => {
    assert.deepEqual(resumePoint({ history: P, lsn: 60 }, { history: h([1, 1, 'a']), lsn: 90 }), { kind: 'resume', acked: 50, diverged: true });
  });
  test('a rejoining POP stopped before the divergence point (its unacknowledged tail already quarantined): after its last', () => {
    assert.deepEqual(resumePoint({ history: P, lsn: 70 }, { history: h([1, 1, 'a']), lsn: 49 }), { kind: 'resume', acked: 49, diverged: false });
  });
});

test('sameHistory compares epochs, starts and POPs', () => {
  assert.equal(sameHistory(h([1, 1, 'a']), h([1, 1, 'a'])), true);
  assert.equal(sameHistory(h([1, 1, 'a']), h([1, 1, 'b'])), false);
  assert.equal(sameHistory(h([1, 1, 'a']), h([1, 1, 'a'], [2, 3, 'b'])), false);
  assert.equal(sameHistory([], []), true);
});
