/**
 * Issue 6 item 5 over a real server: `GET /api/entries/{id}/totp` for the owner and for an agent
 * (in scope, agent-tier field only), sealed TOTP secrets left to the client (409), and
 * `GET /api/generate` with length and character classes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TOTP } from 'otpauth';
import { deriveSealKey, sealValue } from '../../src/vault/sealed.js';
import { newEntry, newVault, startTestServer } from '../kit/in-process.js';

const URI = 'otpauth://totp/GitHub:alice?secret=JBSWY3DPEHPK3PXP&issuer=GitHub&digits=6&period=30';

test('TOTP codes for the owner and for agents within scope and tier', async (t) => {
  const s = await startTestServer();
  t.after(() => s.stop());
  const { vaultId, owner } = await newVault(s);
  const agentTier = await newEntry(s, owner, { title: 'gh', fields: [{ label: 'otp', value: URI, kind: 'totp', tier: 'agent' }] });
  const ownerTier = await newEntry(s, owner, { title: 'bank', fields: [{ label: 'otp', value: 'JBSW Y3DP EHPK 3PXP', kind: 'totp', tier: 'owner' }] });
  const sealed = sealValue(deriveSealKey('seal-passphrase-long-enough', vaultId), vaultId, 'otp', URI);
  const sealedTier = await newEntry(s, owner, { title: 'vpn', fields: [{ label: 'otp', value: sealed, kind: 'totp', tier: 'sealed' }] });
  const none = await newEntry(s, owner, { title: 'plain', fields: [] });

  const expected = new TOTP({ secret: 'JBSWY3DPEHPK3PXP' });
  const r = await s.call('GET', `/api/entries/${agentTier}/totp`, { token: owner });
  assert.equal(r.status, 200);
  assert.match(r.json.code, /^\d{6}$/);
  assert.ok(expected.validate({ token: r.json.code, window: 1 }) !== null, 'the code is the RFC 6238 code of the secret');
  assert.ok(r.json.seconds_left >= 1 && r.json.seconds_left <= 30);
  assert.equal(r.headers.get('cache-control'), 'no-store');
  const base32 = await s.call('GET', `/api/entries/${ownerTier}/totp?field=otp`, { token: owner });
  assert.ok(expected.validate({ token: base32.json.code, window: 1 }) !== null, 'a bare base32 secret (spaces allowed) works');

  assert.equal((await s.call('GET', `/api/entries/${sealedTier}/totp`, { token: owner })).json.error.code, 'CV-4005');
  assert.equal((await s.call('GET', `/api/entries/${none}/totp`, { token: owner })).status, 404);
  assert.equal((await s.call('GET', `/api/entries/${agentTier}/totp?field=nope`, { token: owner })).status, 404);

  const agent = await s.call('POST', '/api/agents', { token: owner, body: { name: 'a', scopes: [agentTier, ownerTier], limits: { per_minute: 10, per_hour: 10 } } });
  const tok = agent.json.token;
  const ok = await s.call('GET', `/api/entries/${agentTier}/totp`, { token: tok });
  assert.equal(ok.status, 200);
  const wrongTier = await s.call('GET', `/api/entries/${ownerTier}/totp`, { token: tok });
  assert.deepEqual([wrongTier.status, wrongTier.json.error.code], [403, 'CV-2003']);
  const outOfScope = await s.call('GET', `/api/entries/${sealedTier}/totp`, { token: tok });
  assert.deepEqual([outOfScope.status, outOfScope.json.error.code], [403, 'CV-2007']);
});

test('GET /api/generate: length, classes, and refusals', async (t) => {
  const s = await startTestServer();
  t.after(() => s.stop());
  const { owner } = await newVault(s);
  const def = await s.call('GET', '/api/generate', { token: owner });
  assert.equal(def.status, 200);
  assert.equal(def.json.password.length, 24);
  const digits = await s.call('GET', '/api/generate?length=40&classes=digits', { token: owner });
  assert.match(digits.json.password, /^\d{40}$/);
  const mixed = await s.call('GET', '/api/generate?length=8&classes=lower,upper,symbols', { token: owner });
  assert.match(mixed.json.password, /^(?=.*[a-z])(?=.*[A-Z])(?=.*[^A-Za-z0-9])[^0-9]{8}$/);
  assert.equal((await s.call('GET', '/api/generate?classes=emoji', { token: owner })).status, 400);
  assert.equal((await s.call('GET', '/api/generate?length=3', { token: owner })).status, 400);
  assert.equal((await s.call('GET', '/api/generate?length=100000', { token: owner })).status, 400);
  assert.equal((await s.call('GET', '/api/generate')).status, 401);
});

// docs/api.md `GET /api/generate`: lower a–z, upper A–Z, digits 0–9, symbols the 32 printable ASCII
// characters U+0021..U+007E that are neither letters nor digits. Built from character codes.
const DOC_ALPHABET = Array.from({ length: 0x7e - 0x21 + 1 }, (_, i) => String.fromCharCode(0x21 + i)).join('');

test('GET /api/generate: every documented character is drawn (8 passwords of 1024, default classes)', async (t) => {
  const s = await startTestServer();
  t.after(() => s.stop());
  const { owner } = await newVault(s);
  assert.equal(DOC_ALPHABET.length, 94);
  const seen = new Set<string>();
  // 8,192 uniform draws over 94 characters: a given one is missing with probability (93/94)^8192 < 1e-37.
  for (let i = 0; i < 8; i++) {
    const r = await s.call('GET', '/api/generate?length=1024', { token: owner });
    assert.equal(r.status, 200);
    assert.equal(r.json.password.length, 1024);
    for (const ch of r.json.password as string) seen.add(ch);
  }
  assert.ok(seen.size > 0);
  assert.deepEqual([...seen].filter((ch) => !DOC_ALPHABET.includes(ch)), [], 'only documented characters');
  const missing = [...DOC_ALPHABET].filter((ch) => !seen.has(ch));
  assert.deepEqual(missing, [], `never drawn: ${missing.join(' ')}`);
});
