/**
 * Issue 6 item 5 as pure functions: TOTP codes against RFC 6238's published test vectors (through
 * an otpauth:// URI and a bare base32 secret), refusal of non-secrets without echoing them, and
 * the password generator's length, alphabet and class coverage.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isTotpSecret, totpCode } from '../../src/vault/totp.js';
import { CHAR_CLASSES, CLASS_NAMES, generatePassword, type CharClass } from '../../src/vault/password-gen.js';
import { isCvError } from '../../src/lib/errors.js';

// RFC 6238 appendix B: ASCII "12345678901234567890" as the SHA-1 key, 8 digits, 30 s steps.
const RFC_B32 = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
const VECTORS: [number, string][] = [[59, '94287082'], [1111111109, '07081804'], [1111111111, '14050471'], [1234567890, '89005924'], [2000000000, '69279037']];

test('RFC 6238 vectors through an otpauth:// URI', () => {
  for (const [sec, code] of VECTORS) {
    const out = totpCode(`otpauth://totp/Example:alice?secret=${RFC_B32}&digits=8&period=30&algorithm=SHA1`, sec * 1000);
    assert.equal(out.code, code, `T=${sec}`);
    assert.equal(out.seconds_left, 30 - (sec % 30));
  }
});

test('a bare base32 secret is SHA-1, 6 digits, 30 s (the last 6 digits of the vectors)', () => {
  for (const [sec, code] of VECTORS) assert.equal(totpCode(RFC_B32.toLowerCase().replace(/(.{4})/g, '$1 '), sec * 1000).code, code.slice(2));
});

test('non-secrets are refused with CV-4006 and the value is not echoed', () => {
  for (const bad of ['', 'hello', 'otpauth://hotp/x?secret=JBSWY3DPEHPK3PXP&counter=1', 'otpauth://totp/x', 'JBSW!!!']) {
    assert.equal(isTotpSecret(bad), false, bad);
    assert.throws(() => totpCode(bad, 0), (e) => isCvError(e, 'TOTP_INVALID') && !(e as Error).message.includes(bad || '\u0000'));
  }
});

test('generated passwords have the length, only the alphabet, and every requested class', () => {
  const classes = fc.subarray(CLASS_NAMES, { minLength: 1 });
  fc.assert(fc.property(classes, fc.integer({ min: 4, max: 64 }), (cs: CharClass[], len) => {
    const pw = generatePassword(len, cs);
    assert.equal(pw.length, len);
    const alphabet = cs.map((c) => CHAR_CLASSES[c]).join('');
    assert.ok([...pw].every((ch) => alphabet.includes(ch)));
    for (const c of cs) assert.ok([...pw].some((ch) => CHAR_CLASSES[c].includes(ch)), c);
  }), { seed: 62026, numRuns: 300 });
  assert.throws(() => generatePassword(3, ['lower']), RangeError);
  assert.throws(() => generatePassword(10, []), RangeError);
});

test('the generator is not visibly biased: each digit appears about 1/10 of the time', () => {
  const counts = new Map<string, number>();
  for (const ch of generatePassword(1024, ['digits']) + generatePassword(1024, ['digits'])) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  for (const [d, n] of counts) assert.ok(n > 120 && n < 300, `digit ${d}: ${n} of 2048`);
});
