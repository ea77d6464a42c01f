/**
 * Property tests (fast-check) of the vault's encryption (DESIGN.md §2 "AAD binds every ciphertext
 * to its vault, entry, field and revision"; issue 6 "Done when"):
 * - decrypt(encrypt(x)) = x for the primitive (crypto.ts), whole entries (entry-codec.ts) and the
 *   client's sealed layer (sealed.ts);
 * - a ciphertext moved to another field, entry, revision or vault fails to decrypt — even when the
 *   keys are the same — and so does one opened with another key.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import { open, seal } from '../../src/vault/crypto.js';
import { fieldAad, titleAad } from '../../src/vault/aad.js';
import { decryptView, encryptEntry, type EntryInput } from '../../src/vault/entry-codec.js';
import { openValue, sealValue } from '../../src/vault/sealed.js';
import { isCvError } from '../../src/lib/errors.js';
import type { OwnerPrincipal } from '../../src/vault/principal.js';
import type { Revision } from '../../src/vault/revision.js';
import type { TokenId, VaultId } from '../../src/lib/ids.js';

const SEED = 6_2026;
const runs = { seed: SEED, numRuns: 200 };

const id = (prefix: string) => fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => `${prefix}_${Buffer.from(b).toString('base64url')}`);
const key = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b));
/** A ciphertext context: vault, entry, field index, revision seq. */
const ctx = fc.record({ vault: id('v'), entry: id('e'), field: fc.nat({ max: 50 }), seq: fc.integer({ min: 1, max: 1_000_000 }) });
type Ctx = { vault: string; entry: string; field: number; seq: number };
/** `c` with exactly one component changed. */
const moved = (c: Ctx) => fc.oneof(
  fc.nat({ max: 50 }).filter((f) => f !== c.field).map((field) => ({ ...c, field, what: 'field' })),
  id('e').filter((e) => e !== c.entry).map((entry) => ({ ...c, entry, what: 'entry' })),
  fc.integer({ min: 1, max: 1_000_000 }).filter((s) => s !== c.seq).map((seq) => ({ ...c, seq, what: 'revision' })),
  id('v').filter((v) => v !== c.vault).map((vault) => ({ ...c, vault, what: 'vault' })),
);
const aadOf = (c: Ctx) => fieldAad(c.vault, c.entry, c.field, c.seq);
const failsToOpen = (fn: () => unknown): boolean => {
  try {
    fn();
    return false;
  } catch (e) {
    return isCvError(e, 'DECRYPT_FAILED');
  }
};

test('decrypt(encrypt(x)) = x for any bytes, key and context', () => {
  fc.assert(fc.property(key, fc.uint8Array({ maxLength: 4096 }), ctx, (k, x, c) => {
    assert.deepEqual(open(k, seal(k, Buffer.from(x), aadOf(c)), aadOf(c)), Buffer.from(x));
  }), runs);
  fc.assert(fc.property(key, fc.string({ unit: 'grapheme', maxLength: 300 }), ctx, (k, s, c) => {
    assert.equal(open(k, seal(k, s, titleAad(c.vault, c.entry, c.seq)), titleAad(c.vault, c.entry, c.seq)).toString('utf8'), s);
  }), runs);
});

test('a ciphertext moved to another field, entry, revision or vault fails to decrypt', () => {
  fc.assert(fc.property(key, fc.uint8Array({ maxLength: 256 }), ctx.chain((c) => fc.tuple(fc.constant(c), moved(c))), (k, x, [from, to]) => {
    const blob = seal(k, Buffer.from(x), aadOf(from));
    assert.ok(failsToOpen(() => open(k, blob, aadOf(to))), `moved to another ${to.what}`);
  }), runs);
});

test('a ciphertext opened with another key fails, and a flipped bit fails', () => {
  fc.assert(fc.property(key, key, fc.uint8Array({ maxLength: 256 }), ctx, fc.nat(), (k1, k2, x, c, bit) => {
    fc.pre(!k1.equals(k2));
    const blob = seal(k1, Buffer.from(x), aadOf(c));
    assert.ok(failsToOpen(() => open(k2, blob, aadOf(c))));
    const raw = Buffer.from(blob.slice(3), 'base64url');
    raw[bit % raw.length]! ^= 1 << (bit % 8);
    assert.ok(failsToOpen(() => open(k1, `c1.${raw.toString('base64url')}`, aadOf(c))));
  }), runs);
});

const owner = (vaultId: string, keys: { owner: Buffer; agent: Buffer }): OwnerPrincipal =>
  ({ kind: 'owner', vaultId: vaultId as VaultId, tokenId: 't_x' as TokenId, keys });
const fieldArb = fc.record({ label: fc.string({ minLength: 1, maxLength: 20 }), value: fc.string({ maxLength: 200 }), kind: fc.constant('text'), tier: fc.constantFrom('agent' as const, 'owner' as const) });
const entryArb: fc.Arbitrary<EntryInput> = fc.record({ type: fc.constant('credential' as const), parent: fc.constant(null), title: fc.string({ minLength: 1, maxLength: 50 }), fields: fc.array(fieldArb, { minLength: 2, maxLength: 6 }) });
const revOf = (vaultId: string, entryId: string, seq: number, body: string): Revision =>
  ({ vaultId, seq, kind: 'entry.put', subject: entryId, body, epoch: 1, originPop: 'p', createdAt: '2026-01-01T00:00:00Z' });

test('whole entries: decryptView(encryptEntry(e)) = e, and moved stored fields fail', () => {
  fc.assert(fc.property(key, key, ctx, entryArb, fc.nat(), id('e'), id('v'), (ko, ka, c, input, pick, otherEntry, otherVault) => {
    fc.pre(otherEntry !== c.entry && otherVault !== c.vault);
    const p = owner(c.vault, { owner: ko, agent: ka });
    const body = encryptEntry(p, c.entry, input, c.seq, []);
    const view = decryptView(p, revOf(c.vault, c.entry, c.seq, body), 'x');
    assert.equal(view.title, input.title);
    assert.deepEqual(view.fields.map((f) => ('value' in f ? f.value : null)), input.fields.map((f) => f.value));

    // Swap two stored field ciphertexts of the same tier (same key): the AAD names the field.
    const parsed = JSON.parse(body) as { fields: { value: string; tier: string }[] };
    const i = pick % parsed.fields.length;
    const j = parsed.fields.findIndex((f, n) => n !== i && f.tier === parsed.fields[i]!.tier);
    if (j >= 0) {
      const swapped = structuredClone(parsed);
      swapped.fields[i]!.value = parsed.fields[j]!.value;
      assert.ok(failsToOpen(() => decryptView(p, revOf(c.vault, c.entry, c.seq, JSON.stringify(swapped)), 'x')), 'moved to another field');
    }
    assert.ok(failsToOpen(() => decryptView(p, revOf(c.vault, otherEntry, c.seq, body), 'x')), 'moved to another entry');
    assert.ok(failsToOpen(() => decryptView(p, revOf(c.vault, c.entry, c.seq + 1, body), 'x')), 'moved to another revision');
    assert.ok(failsToOpen(() => decryptView(owner(otherVault, { owner: ko, agent: ka }), revOf(otherVault, c.entry, c.seq, body), 'x')), 'moved to another vault, same keys');
  }), { seed: SEED, numRuns: 100 });
});

test('sealed tier: open(seal(x)) = x; a sealed value moved to another label or vault does not open', () => {
  const master = randomBytes(32);
  fc.assert(fc.property(id('v'), fc.string({ minLength: 1, maxLength: 20 }), fc.string({ maxLength: 300 }), id('v'), fc.string({ minLength: 1, maxLength: 20 }), (vault, label, x, otherVault, otherLabel) => {
    const s = sealValue(master, vault, label, x);
    assert.equal(openValue(master, vault, label, s), x);
    if (otherLabel !== label) assert.throws(() => openValue(master, vault, otherLabel, s));
    if (otherVault !== vault) assert.throws(() => openValue(master, otherVault, label, s));
    assert.throws(() => openValue(randomBytes(32), vault, label, s));
  }), runs);
});
