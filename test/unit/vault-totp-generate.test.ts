/**
 * Issue 6 item 5 as pure functions: TOTP codes against RFC 6238's published test vectors (through
 * an otpauth:// URI and a bare base32 secret), refusal of non-secrets without echoing them, and
 * the password generator's length, alphabet and class coverage. The expected alphabet is the
 * documented one (docs/api.md, `GET /api/generate`), built here from character codes, never the
 * implementation's constant.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isTotpSecret, totpCode } from '../../src/vault/totp.js';
import { generatePassword, type CharClass } from '../../src/vault/password-gen.js';
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

// docs/api.md: lower a–z, upper A–Z, digits 0–9, symbols the printable ASCII U+0021..U+007E that
// are neither letters nor digits (32 of them).
const range = (from: number, to: number): string[] => Array.from({ length: to - from + 1 }, (_, i) => String.fromCharCode(from + i));
const DOC_CLASSES: Record<CharClass, string> = {
  lower: range(0x61, 0x7a).join(''),
  upper: range(0x41, 0x5a).join(''),
  digits: range(0x30, 0x39).join(''),
  symbols: range(0x21, 0x7e).filter((c) => !/[A-Za-z0-9]/.test(c)).join(''),
};
const DOC_CLASS_NAMES = Object.keys(DOC_CLASSES) as CharClass[];

test('the documented alphabet has 26 + 26 + 10 + 32 characters', () => {
  assert.deepEqual(DOC_CLASS_NAMES.map((c) => DOC_CLASSES[c].length), [26, 26, 10, 32]);
});

test('generated passwords have the length, only the alphabet, and every requested class', () => {
  const classes = fc.subarray(DOC_CLASS_NAMES, { minLength: 1 });
  fc.assert(fc.property(classes, fc.integer({ min: 4, max: 64 }), (cs: CharClass[], len) => {
    const pw = generatePassword(len, cs);
    assert.equal(pw.length, len);
    const alphabet = cs.map((c) => DOC_CLASSES[c]).join('');
    assert.ok([...pw].every((ch) => alphabet.includes(ch)), pw);
    for (const c of cs) assert.ok([...pw].some((ch) => DOC_CLASSES[c].includes(ch)), c);
  }), { seed: 62026, numRuns: 300 });
  assert.throws(() => generatePassword(3, ['lower']), RangeError);
  assert.throws(() => generatePassword(10, []), RangeError);
});

/**
 * Draws `n` characters of `classes` in passwords of 1024 and returns how often each appeared.
 * With k characters in the alphabet, the chance that a given one never appears in n uniform draws
 * is (1 − 1/k)^n: for k = 94 and n = 8192 that is below 1e-37, so a character the generator never
 * draws fails this test on every run, and a correct generator never does in practice.
 */
function draw(classes: CharClass[], n: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i < n / 1024; i++) for (const ch of generatePassword(1024, classes)) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  return counts;
}

test('every documented character is drawn (8,192 draws over all classes, 2,048 per single class)', () => {
  const all = draw(DOC_CLASS_NAMES, 8192);
  const alphabet = DOC_CLASS_NAMES.map((c) => DOC_CLASSES[c]).join('');
  assert.equal(alphabet.length, 94);
  const missing = [...alphabet].filter((ch) => !all.has(ch));
  assert.deepEqual(missing, [], `never drawn in 8,192 characters: ${missing.join(' ')}`);
  assert.deepEqual([...all.keys()].filter((ch) => !alphabet.includes(ch)), [], 'nothing outside the documented alphabet');
  for (const c of DOC_CLASS_NAMES) {
    const one = draw([c], 2048);
    const absent = [...DOC_CLASSES[c]].filter((ch) => !one.has(ch));
    assert.deepEqual(absent, [], `${c}: never drawn in 2,048 characters: ${absent.join(' ')}`);
  }
});

test('the generator is not visibly biased: each digit appears about 1/10 of the time', () => {
  const counts = draw(['digits'], 2048);
  const digits = [...DOC_CLASSES.digits];
  assert.equal(digits.length, 10);
  // Expected 204.8 each, standard deviation 13.6: the bounds are more than 6 deviations away.
  for (const d of digits) {
    const n = counts.get(d) ?? 0;
    assert.ok(n > 120 && n < 300, `digit ${d}: ${n} of 2048`);
  }
  const total = digits.reduce((a, d) => a + (counts.get(d) ?? 0), 0);
  assert.equal(total, 2048, 'only digits were drawn');
});
