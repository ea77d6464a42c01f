/**
 * Fuzzing of audit anchors (issue 13 §3) with fast-check, seeded and deterministic, over a real
 * POP database in a temp dir: the body of `POST /replication/v1/anchors` and what the receiving
 * POP keeps of arbitrary sequences of anchors (in order, replayed, contradicting, going back,
 * at the integer limits, for vaults it does not hold).
 *
 * Properties:
 * - `AnchorsBody.safeParse` never throws, on arbitrary JSON.
 * - `receiveAnchors` on bodies that parse never throws, and afterwards, per (pop, vault): the
 *   highest seq ever received is kept; a kept anchor's hash is the first one received at that seq
 *   (never overwritten); no more than ANCHORS_KEPT_NEWEST + 64 anchors are kept; nothing is kept
 *   for a vault the POP does not hold.
 *
 * Runs: CLAVITOR_FUZZ_RUNS (default 200).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { createVaultFiles } from '../../src/store/vault-files.js';
import { newVaultId } from '../../src/lib/ids.js';
import { ANCHORS_KEPT_NEWEST, receiveAnchors } from '../../src/vault/audit-anchor.js';
import { AnchorsBody } from '../../src/replication/anchors.js';
import { fuzzRuns } from '../kit/fuzz.js';

const SEED = 0x5eed1303;
const RUNS = fuzzRuns();

const root = mkdtempSync(join(tmpdir(), 'clavitor-anchor-fuzz-'));
const files = createVaultFiles(root);
after(() => {
  files.closeAll();
  rmSync(root, { recursive: true, force: true });
});
const held = [newVaultId(), newVaultId()];
for (const v of held) files.openOrCreate(v).insertRevision({ vaultId: v, seq: 1, kind: 'vault.create', subject: null, body: '{}', epoch: 1, originPop: 'calgary-01', createdAt: '2026-11-30T18:00:00.000Z' });
const stranger = newVaultId();

test(`anchors body: safeParse never throws on arbitrary JSON (seed ${SEED})`, () => {
  fc.assert(fc.property(fc.jsonValue(), (j) => {
    AnchorsBody.safeParse(j);
    AnchorsBody.safeParse({ sender: 'calgary-01', anchors: j });
  }), { seed: SEED, numRuns: RUNS });
});

const hex = fc.constantFrom(...'0123456789abcdef'.split(''));
const hash = fc.array(hex, { minLength: 64, maxLength: 64 }).map((a) => a.join(''));
// Mostly valid fields (so that most bodies parse and reach the store), sometimes invalid ones.
const rarely = <T,>(valid: fc.Arbitrary<T>, invalid: fc.Arbitrary<T>): fc.Arbitrary<T> => fc.oneof({ weight: 19, arbitrary: valid }, { weight: 1, arbitrary: invalid });
const seq = rarely<number>(fc.oneof(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 1, max: 5000 }), fc.constantFrom(Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER - 1, 2 ** 31)), fc.constantFrom(0, -1, 1.5, Number.MAX_SAFE_INTEGER + 1));
const anchor = fc.record({
  vault_id: rarely<string>(fc.constantFrom(held[0]!, held[1]!, stranger), fc.constantFrom('v_x', '')),
  seq,
  hash: rarely(fc.oneof(hash, fc.constant('f'.repeat(64))), fc.constantFrom('x', '', 'F'.repeat(64))),
});
const body = fc.record({ sender: rarely(fc.constantFrom('calgary-01', 'zurich-01'), fc.constant('Bad Id')), anchors: fc.array(anchor, { minLength: 0, maxLength: 8 }) });

test(`receive: never throws; newest kept, kept anchors never overwritten, history bounded (seed ${SEED + 1})`, async () => {
  let round = 0;
  await fc.assert(fc.asyncProperty(fc.array(body, { minLength: 1, maxLength: 12 }), async (bodies) => {
    const pop = `p${++round}`; // a fresh sender per case: cases do not share history
    const store = files.anchors();
    const first = new Map<string, string>();
    const top = new Map<string, number>();
    for (const raw of bodies) {
      const parsed = AnchorsBody.safeParse(raw);
      if (!parsed.success) continue;
      await receiveAnchors(store, pop, parsed.data.anchors, '2026-11-30T18:00:00.000Z');
      for (const a of parsed.data.anchors) {
        if (!held.includes(a.vault_id as never)) continue;
        const k = `${a.vault_id} ${a.seq}`;
        if (!first.has(k)) first.set(k, a.hash);
        top.set(a.vault_id, Math.max(top.get(a.vault_id) ?? 0, a.seq));
      }
    }
    for (const v of held) {
      const kept = store.kept(pop, v);
      assert.ok(kept.length <= ANCHORS_KEPT_NEWEST + 64, `bounded: ${kept.length}`);
      if (top.has(v)) assert.equal(kept.at(-1)?.seq, top.get(v), 'the highest seq received is kept');
      for (const a of kept) assert.equal(a.hash, first.get(`${v} ${a.seq}`), 'the first hash at a seq stands');
    }
    assert.deepEqual(store.kept(pop, stranger), []);
  }), { seed: SEED + 1, numRuns: RUNS });
});
