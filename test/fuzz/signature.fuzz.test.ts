/**
 * Fuzzing of the hello and push authentication of issue 13 §1 (src/replication/signature.ts,
 * lib/epoch-bounds.ts, wire.ts), with fast-check, seeded and deterministic.
 *
 * Properties, over generated push and hello bodies with epochs at and around the integer limits
 * (0, MAX_EPOCH, MAX_EPOCH + 1, 2^53 − 1, negatives, fractions) and signatures missing, random,
 * truncated, made by the other POP (the verifier's own key), by a stranger, or over other bytes:
 * - only the signature made by the pinned peer key over exactly these parts verifies;
 * - `PushBody`/`PeerInfo` accept exactly the epochs 0..MAX_EPOCH, and `epochClaimProblem` refuses
 *   every claim the schemas refuse; nothing throws.
 * Runs: CLAVITOR_FUZZ_RUNS (default 200).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, createPublicKey } from 'node:crypto';
import fc from 'fast-check';
import { signParts, signatureValid, type SignedParts } from '../../src/replication/signature.js';
import { MAX_EPOCH, epochClaimProblem } from '../../src/lib/epoch-bounds.js';
import { PeerInfo, PushBody } from '../../src/replication/wire.js';
import { fuzzRuns } from '../kit/fuzz.js';

const SEED = 0x5eed1301;
const RUNS = fuzzRuns();
const primary = generateKeyPairSync('ed25519').privateKey;
const backup = generateKeyPairSync('ed25519').privateKey;
const stranger = generateKeyPairSync('ed25519').privateKey;
const primaryPublic = createPublicKey(primary);

const epochArb = fc.oneof(
  fc.constantFrom(0, 1, MAX_EPOCH - 1, MAX_EPOCH, MAX_EPOCH + 1, 2 ** 31, 2 ** 32, Number.MAX_SAFE_INTEGER, -1, 0.5, Number.NaN, Infinity),
  fc.integer({ min: 0, max: MAX_EPOCH + 10 }),
  fc.double(),
);
const bodyArb = fc.tuple(fc.constantFrom('push', 'hello'), epochArb).map(([kind, epoch]) => JSON.stringify(kind === 'push'
  ? { epoch, sender: 'calgary-01', push_seq: 1, items: [] }
  : { pop_id: 'calgary-01', role: 'primary', epoch }));

test(`fuzz (seed ${SEED}): only the pinned peer key's signature over exactly these parts verifies`, () => {
  fc.assert(fc.property(bodyArb, fc.constantFrom('/replication/v1/push', '/replication/v1/hello'), fc.string({ maxLength: 24 }), fc.nat({ max: 6 }), (body, path, nonce, variant) => {
    const parts: SignedParts = { kind: 'request', method: 'POST', path, signer: 'calgary-01', nonce, body };
    const good = signParts(primary, parts);
    const sig = [
      good,
      undefined, // missing
      signParts(backup, parts), // the other POP: the verifier's own key
      signParts(stranger, parts),
      good.slice(0, -2), // truncated
      signParts(primary, { ...parts, body: `${body} ` }), // other bytes
      signParts(primary, { ...parts, kind: 'answer' }), // an answer cannot pass for a request
    ][variant];
    assert.equal(signatureValid(primaryPublic, sig, parts), variant === 0);
    assert.equal(signatureValid(undefined, good, parts), false, 'no pinned key: nothing verifies');
  }), { seed: SEED, numRuns: RUNS });
});

test(`fuzz (seed ${SEED + 1}): epochs at the integer limits — schemas and the bound agree, nothing throws`, () => {
  fc.assert(fc.property(epochArb, fc.integer({ min: 0, max: MAX_EPOCH }), (epoch, seen) => {
    const push = PushBody.safeParse({ epoch, sender: 'calgary-01', push_seq: 1, items: [] });
    const hello = PeerInfo.safeParse({ pop_id: 'calgary-01', role: 'primary', epoch });
    const inRange = Number.isSafeInteger(epoch) && epoch >= 0 && epoch <= MAX_EPOCH;
    assert.equal(hello.success, inRange);
    if (push.success) assert.ok(inRange);
    if (!inRange) assert.notEqual(epochClaimProblem(epoch, seen), undefined, 'the bound refuses what the schemas refuse');
  }), { seed: SEED + 1, numRuns: RUNS });
});
