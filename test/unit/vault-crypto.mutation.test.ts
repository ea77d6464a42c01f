/**
 * Vault crypto and key wrapping, the cases mutation testing found unpinned (issue 17 item 3,
 * docs/testing.md). Expected values are computed here with node:crypto from the documented
 * formats, never taken from the modules under test:
 * - crypto.ts: `c1.` + base64url(iv[12] ‖ ciphertext ‖ tag[16]), AES-256-GCM, HKDF-SHA256 (RFC 5869
 *   test case 3);
 * - tokens (docs/api.md, docs/security.md, tokens.ts): `cvt1.<vault_id>.<token_id>.<43 base64url>`,
 *   verifier HKDF-SHA256(secret, salt = token id, info "clavitor/v1/verifier"), kek with info
 *   "clavitor/v1/kek";
 * - sealed tier (docs/cli.md): scrypt N = 2^15, r = 8, p = 1 salted `clavitor/v1/seal|<vault_id>`,
 *   passphrase of at least 16 characters, wire form `cs1.` + base64url(salt[16] ‖ iv[12] ‖ ct ‖ tag[16]);
 * - entry input checks (docs/api.md `POST /api/entries`, docs/errors.md CV-3001).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes, scryptSync } from 'node:crypto';
import { hkdf, KEY_BYTES, open, randomKey, seal } from '../../src/vault/crypto.js';
import { kekFor, mintToken, parseToken, unwrapKeys, verifierFor, verifierMatches, wrapKeys } from '../../src/vault/tokens.js';
import { agentNameAad, fieldAad, titleAad, wrapAad } from '../../src/vault/aad.js';
import { deriveSealKey, isSealedCiphertext, MIN_PASSPHRASE_CHARS, openValue, SEALED_PREFIX, sealedAad, sealValue } from '../../src/vault/sealed.js';
import { checkEntryInput, decryptView, encryptEntry, entryKeyOf, keyFor, openField, openTitle, type EntryInput } from '../../src/vault/entry-codec.js';
import { isCvError } from '../../src/lib/errors.js';
import type { AgentPrincipal, OwnerPrincipal } from '../../src/vault/principal.js';
import type { Revision } from '../../src/vault/revision.js';
import type { AgentId, TokenId, VaultId } from '../../src/lib/ids.js';

const decryptFailed = (e: unknown): boolean => isCvError(e, 'DECRYPT_FAILED');

test('seal: wire form is c1. + base64url(iv 12 ‖ ciphertext ‖ tag 16), AES-256-GCM with the AAD, opened by node:crypto', () => {
  const key = randomBytes(32);
  const blob = seal(key, 'hello', 'aad-1');
  assert.ok(blob.startsWith('c1.'));
  const raw = Buffer.from(blob.slice(3), 'base64url');
  assert.equal(raw.length, 12 + 5 + 16);
  const d = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
  d.setAAD(Buffer.from('aad-1', 'utf8'));
  d.setAuthTag(raw.subarray(raw.length - 16));
  assert.equal(Buffer.concat([d.update(raw.subarray(12, raw.length - 16)), d.final()]).toString('utf8'), 'hello');
  assert.notEqual(seal(key, 'hello', 'aad-1'), blob, 'a fresh iv each time');
  assert.equal(KEY_BYTES, 32);
  assert.equal(randomKey().length, 32);
  assert.notDeepEqual(randomKey(), randomKey());
});

test('open: accepts what node:crypto seals in the documented form; refuses other prefixes, short blobs and empty AAD swaps', () => {
  const key = randomBytes(32);
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, iv);
  c.setAAD(Buffer.from('ctx', 'utf8'));
  const body = Buffer.concat([c.update(Buffer.from('secret value')), c.final()]);
  const raw = Buffer.concat([iv, body, c.getAuthTag()]);
  assert.equal(open(key, `c1.${raw.toString('base64url')}`, 'ctx').toString('utf8'), 'secret value');
  assert.throws(() => open(key, `c2.${raw.toString('base64url')}`, 'ctx'), decryptFailed);
  assert.throws(() => open(key, raw.toString('base64url'), 'ctx'), decryptFailed);
  assert.throws(() => open(key, `c1.${raw.toString('base64url')}`, ''), decryptFailed);
  // An empty plaintext is 28 bytes; anything shorter is refused with the same stable code.
  for (const n of [0, 1, 27]) assert.throws(() => open(key, `c1.${randomBytes(n).toString('base64url')}`, 'ctx'), decryptFailed, `${n} bytes`);
  assert.equal(open(key, seal(key, '', 'ctx'), 'ctx').length, 0);
  assert.throws(() => open(randomBytes(16), seal(key, 'x', 'ctx'), 'ctx'), decryptFailed, 'a short key is a decrypt failure, not a crash');
});

test('seal refuses a key that is not 32 bytes', () => {
  for (const n of [0, 16, 31, 33]) assert.throws(() => seal(Buffer.alloc(n), 'x', 'a'), (e) => e instanceof RangeError && /32/.test(e.message), `${n}`);
});

test('hkdf is HKDF-SHA256: RFC 5869 test case 3 (empty salt and info), 32 bytes by default', () => {
  const ikm = Buffer.alloc(22, 0x0b);
  const okm = '8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8';
  assert.equal(hkdf(ikm, '', '', 42).toString('hex'), okm);
  assert.equal(hkdf(ikm, '', '').toString('hex'), okm.slice(0, 64));
  assert.deepEqual(hkdf(ikm, 'salt', 'info'), Buffer.from(hkdfSync('sha256', ikm, Buffer.from('salt'), Buffer.from('info'), 32)));
});

test('tokens: text form, verifier and kek are the documented HKDFs of the secret', () => {
  const vault = 'v_AAAAAAAAAAAAAAAAAAAAAA' as VaultId;
  const t = mintToken(vault);
  const m = /^cvt1\.(v_[A-Za-z0-9_-]+)\.(t_[A-Za-z0-9_-]+)\.([A-Za-z0-9_-]{43})$/.exec(t.text);
  assert.ok(m, 'cvt1.<vault_id>.<token_id>.<43 base64url characters>');
  assert.equal(m[1], vault);
  assert.equal(m[2], t.tokenId);
  const secret = Buffer.from(m[3]!, 'base64url');
  assert.equal(secret.length, 32);
  const expectVerifier = Buffer.from(hkdfSync('sha256', secret, Buffer.from(t.tokenId), Buffer.from('clavitor/v1/verifier'), 32));
  const expectKek = Buffer.from(hkdfSync('sha256', secret, Buffer.from(t.tokenId), Buffer.from('clavitor/v1/kek'), 32));
  assert.equal(t.verifier, expectVerifier.toString('base64url'));
  assert.deepEqual(t.kek, expectKek);
  assert.equal(verifierFor(secret, t.tokenId), t.verifier);
  assert.deepEqual(kekFor(secret, t.tokenId), expectKek);
  assert.notEqual(mintToken(vault).text, t.text);

  const parsed = parseToken(t.text);
  assert.deepEqual(parsed, { vaultId: vault, tokenId: t.tokenId, secret });
  assert.equal(verifierMatches(secret, t.tokenId, t.verifier), true);
  assert.equal(verifierMatches(randomBytes(32), t.tokenId, t.verifier), false);
  assert.equal(verifierMatches(secret, t.tokenId, t.verifier.slice(0, 20)), false, 'a stored verifier of another length');
});

test('parseToken refuses anything that is not exactly the token shape', () => {
  const t = mintToken('v_AAAAAAAAAAAAAAAAAAAAAA' as VaultId).text;
  const [, v, id, s] = t.split('.');
  for (const bad of [
    `cvt2.${v}.${id}.${s}`, `${v}.${id}.${s}`, `cvt1.${v}.${id}.${s}.x`, `cvt1.${v}.${id}`,
    `cvt1.x.${id}.${s}`, `cvt1.${v}.x.${s}`, `cvt1.${v}.${id}.${s!.slice(1)}`, `cvt1.${v}.${id}.${s}A`, `cvt1.${v}.${id}.${s!.slice(1)}+`,
    `cvt1.${v}.${id}.x${s}`, `cvt1.${v}.${id}.${s!.slice(0, 42)}=`, '',
  ]) assert.equal(parseToken(bad), undefined, bad);
});

test('key wrapping: AAD names vault and token, so a wrap moved to another token or vault does not open', () => {
  const kek = randomBytes(32);
  const keys = randomBytes(64);
  const w = wrapKeys(kek, 'v_1', 't_1', keys);
  assert.deepEqual(unwrapKeys(kek, 'v_1', 't_1', w), keys);
  assert.deepEqual(open(kek, w, 'clavitor/v1|wrap|v_1|t_1'), keys);
  assert.throws(() => unwrapKeys(kek, 'v_1', 't_2', w), decryptFailed);
  assert.throws(() => unwrapKeys(kek, 'v_2', 't_1', w), decryptFailed);
  assert.throws(() => unwrapKeys(randomBytes(32), 'v_1', 't_1', w), decryptFailed);
});

test('AAD strings are the stored format (changing one makes every existing vault unreadable)', () => {
  assert.equal(titleAad('v_1', 'e_1', 7), 'clavitor/v1|title|v_1|e_1|7');
  assert.equal(fieldAad('v_1', 'e_1', 2, 7), 'clavitor/v1|field|v_1|e_1|2|7');
  assert.equal(wrapAad('v_1', 't_1'), 'clavitor/v1|wrap|v_1|t_1');
  assert.equal(agentNameAad('v_1', 'a_1'), 'clavitor/v1|agent-name|v_1|a_1');
  assert.equal(sealedAad('v_1', 'pw'), 'clavitor/v1|sealed|v_1|pw');
});

test('sealed tier: scrypt key as documented, 16-character passphrases, cs1. wire form opened by node:crypto', () => {
  assert.equal(MIN_PASSPHRASE_CHARS, 16);
  assert.throws(() => deriveSealKey('x'.repeat(15), 'v_1'), (e) => e instanceof RangeError && /16/.test(e.message));
  const pass = 'correct horse battery';
  const master = deriveSealKey(pass, 'v_1');
  assert.deepEqual(master, scryptSync(pass, 'clavitor/v1/seal|v_1', 32, { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 }));
  assert.equal(deriveSealKey('y'.repeat(16), 'v_1').length, 32, 'exactly 16 characters is enough');

  const s = sealValue(master, 'v_1', 'pw', 'hunter2');
  assert.equal(SEALED_PREFIX, 'cs1.');
  assert.ok(s.startsWith('cs1.'));
  const raw = Buffer.from(s.slice(4), 'base64url');
  assert.equal(raw.length, 16 + 12 + 7 + 16);
  const salt = raw.subarray(0, 16);
  const key = Buffer.from(hkdfSync('sha256', master, Buffer.from(salt.toString('base64url')), Buffer.from('clavitor/v1/sealed-value'), 32));
  const d = createDecipheriv('aes-256-gcm', key, raw.subarray(16, 28));
  d.setAAD(Buffer.from('clavitor/v1|sealed|v_1|pw'));
  d.setAuthTag(raw.subarray(raw.length - 16));
  assert.equal(Buffer.concat([d.update(raw.subarray(28, raw.length - 16)), d.final()]).toString('utf8'), 'hunter2');
  assert.equal(openValue(master, 'v_1', 'pw', s), 'hunter2');
  assert.equal(openValue(master, 'v_1', 'pw', sealValue(master, 'v_1', 'pw', '')), '');
});

test('sealed tier: the shape check wants cs1. and at least salt + iv + tag (44 bytes) of base64url', () => {
  const min = Buffer.alloc(44).toString('base64url');
  assert.equal(min.length, 59);
  assert.equal(isSealedCiphertext(`cs1.${min}`), true);
  assert.equal(isSealedCiphertext(`cs1.${min.slice(1)}`), false);
  assert.equal(isSealedCiphertext(`cs1.${min}+`), false);
  assert.equal(isSealedCiphertext(`x cs1.${min}`), false);
  assert.equal(isSealedCiphertext(`cs2.${min}`), false);
  assert.equal(isSealedCiphertext(`cs1x${min}`), false);
  const master = randomBytes(32);
  assert.throws(() => openValue(master, 'v_1', 'pw', `cs1.${min}`), /sealed value cannot be opened/);
  assert.throws(() => openValue(master, 'v_1', 'pw', 'plaintext'), /sealed value cannot be opened/);
});

// ---------------------------------------------------------------------------------------------
// Entries.

const VAULT = 'v_CCCCCCCCCCCCCCCCCCCCCC' as VaultId;
const keys = { owner: randomBytes(32), agent: randomBytes(32) };
const owner: OwnerPrincipal = { kind: 'owner', vaultId: VAULT, tokenId: 't_o' as TokenId, keys };
const agentKey = randomBytes(32);
const agent: AgentPrincipal = {
  kind: 'agent', vaultId: VAULT, tokenId: 't_a' as TokenId, agentId: 'a_1' as AgentId, scopes: new Set(['e_1']), folders: new Set(), tags: new Set(),
  keys: { own: agentKey }, locked: false, limits: { perMinute: 3, perHour: 10 },
};
/** Agent a_1 receives every entry key in these tests (issue 14 item 3). */
const toAgent = [{ agentId: 'a_1', key: agentKey }];
const sealedValue = sealValue(randomBytes(32), VAULT, 'pin', '1234');
const input: EntryInput = {
  type: 'credential', parent: null, title: 'Bank',
  fields: [
    { label: 'user', value: 'alice', kind: 'text', tier: 'agent' },
    { label: 'password', value: 'hunter2', kind: 'text', tier: 'owner' },
    { label: 'pin', value: sealedValue, kind: 'text', tier: 'sealed' },
  ],
};
const revOf = (body: string, seq = 5): Revision => ({ vaultId: VAULT, seq, kind: 'entry.put', subject: 'e_1', body, epoch: 1, originPop: 'p', createdAt: '2026-02-02T00:00:00.000Z' });

test('entries: agent-tier values and titles under a fresh entry key sealed for the owner and each covering agent; owner and sealed under the owner key (AAD per field)', () => {
  type Body = { type: string; parent: null; title: string; fields: { label: string; kind: string; tier: string; value: string }[]; key_owner: string; key_agents?: Record<string, string> };
  const body = JSON.parse(encryptEntry(owner, 'e_1', input, 5, toAgent)) as Body;
  assert.equal(body.type, 'credential');
  assert.equal(body.parent, null);
  // docs/security.md "What an agent token can decrypt": K_e sealed under the owner key and under K_a, AAD vault, entry, seq, holder.
  const ke = open(keys.owner, body.key_owner, `clavitor/v1|entry-key|${VAULT}|e_1|5|owner`);
  assert.deepEqual(open(agentKey, body.key_agents!.a_1!, `clavitor/v1|entry-key|${VAULT}|e_1|5|a_1`), ke);
  assert.throws(() => open(agentKey, body.key_agents!.a_1!, `clavitor/v1|entry-key|${VAULT}|e_1|6|a_1`), decryptFailed, 'a wrap moved to another revision');
  assert.equal(open(ke, body.title, 'clavitor/v1|title|' + VAULT + '|e_1|5').toString(), 'Bank');
  assert.throws(() => open(keys.agent, body.title, 'clavitor/v1|title|' + VAULT + '|e_1|5'), decryptFailed, 'the shared agent-tier key no longer opens a new revision');
  assert.deepEqual(body.fields.map((f) => [f.label, f.kind, f.tier]), [['user', 'text', 'agent'], ['password', 'text', 'owner'], ['pin', 'text', 'sealed']]);
  assert.equal(open(ke, body.fields[0]!.value, `clavitor/v1|field|${VAULT}|e_1|0|5`).toString(), 'alice');
  assert.equal(open(keys.owner, body.fields[1]!.value, `clavitor/v1|field|${VAULT}|e_1|1|5`).toString(), 'hunter2');
  assert.equal(open(keys.owner, body.fields[2]!.value, `clavitor/v1|field|${VAULT}|e_1|2|5`).toString(), sealedValue);
  assert.equal(keyFor(agent, 'owner', ke), undefined);
  assert.equal(keyFor(agent, 'sealed', ke), undefined);
  assert.equal(keyFor(agent, 'agent', ke), ke);
  assert.equal(keyFor(owner, 'sealed', ke), keys.owner);
  const none = JSON.parse(encryptEntry(owner, 'e_1', input, 5, [])) as Body;
  assert.equal(none.key_agents, undefined, 'no covering agent: no agent wraps');
  assert.equal(entryKeyOf(agent, revOf(JSON.stringify(none)), none as never), undefined, 'an agent without a wrap holds no key');
});

test('entries: an agent sees the title and agent-tier values; owner and sealed fields are redacted', () => {
  const rev = revOf(encryptEntry(owner, 'e_1', input, 5, toAgent));
  const view = decryptView(agent, rev, '2026-01-01T00:00:00.000Z');
  assert.deepEqual(view, {
    id: 'e_1', type: 'credential', parent: null, title: 'Bank', tags: [], version: 5, created_at: '2026-01-01T00:00:00.000Z', updated_at: '2026-02-02T00:00:00.000Z',
    fields: [
      { label: 'user', kind: 'text', tier: 'agent', value: 'alice' },
      { label: 'password', kind: 'text', tier: 'owner', redacted: true },
      { label: 'pin', kind: 'text', tier: 'sealed', redacted: true },
    ],
  });
  const ownerView = decryptView(owner, rev, 'x');
  assert.deepEqual(ownerView.fields.map((f) => ('value' in f ? f.value : 'REDACTED')), ['alice', 'hunter2', sealedValue]);
  assert.equal(openTitle(agent, rev), 'Bank');
  assert.equal(openField(owner, keys.owner, rev, 1), 'hunter2');
  assert.throws(() => openField(owner, keys.owner, revOf(rev.body, 6), 1), decryptFailed, 'another revision');
});

test('entry input: a sealed value must be cs1. ciphertext; a readable totp field must be a TOTP secret (CV-3001 naming the field)', () => {
  assert.doesNotThrow(() => checkEntryInput(input));
  const withField = (f: EntryInput['fields'][number]): EntryInput => ({ ...input, fields: [...input.fields, f] });
  const badRequest = (i: number) => (e: unknown) => isCvError(e, 'BAD_REQUEST') && (e as Error).message.startsWith(`fields.${i}.value: `) && !(e as Error).message.includes('plain-secret');
  assert.throws(() => checkEntryInput(withField({ label: 'x', value: 'plain-secret', kind: 'text', tier: 'sealed' })), badRequest(3));
  for (const tier of ['agent', 'owner'] as const) {
    assert.throws(() => checkEntryInput(withField({ label: 'otp', value: 'plain-secret', kind: 'totp', tier })), badRequest(3), tier);
    assert.doesNotThrow(() => checkEntryInput(withField({ label: 'otp', value: 'JBSWY3DPEHPK3PXP', kind: 'totp', tier })));
  }
  assert.doesNotThrow(() => checkEntryInput(withField({ label: 'otp', value: sealedValue, kind: 'totp', tier: 'sealed' })), 'a sealed totp is checked by shape only');
  assert.doesNotThrow(() => checkEntryInput(withField({ label: 'note', value: 'plain-secret', kind: 'text', tier: 'owner' })));
});
