/**
 * Password and TOTP generation (issue 6 item 5), the cases mutation testing found unpinned
 * (issue 17 item 3, docs/testing.md). Expected values come from docs/api.md (`GET /api/generate`:
 * length 4 to 1024, classes `lower,upper,digits,symbols`, each requested class at least once;
 * `fields[].value` of kind `totp`: an `otpauth://totp/…` URI or a base32 secret of at least 16
 * characters) and from ASCII itself (symbols are its printable punctuation), never from
 * password-gen.ts's own constants.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generatePassword, type CharClass } from '../../src/vault/password-gen.js';
import { isTotpSecret, totpCode, TOTP_KIND } from '../../src/vault/totp.js';
import { isCvError } from '../../src/lib/errors.js';

/** The documented alphabet of each class, built from ASCII code points. */
const ascii = (from: string, to: string): string[] =>
  Array.from({ length: to.charCodeAt(0) - from.charCodeAt(0) + 1 }, (_, i) => String.fromCharCode(from.charCodeAt(0) + i));
const PUNCT = Array.from({ length: 126 - 33 + 1 }, (_, i) => String.fromCharCode(33 + i)).filter((c) => !/[A-Za-z0-9]/.test(c));
const DOCUMENTED: Record<CharClass, string[]> = { lower: ascii('a', 'z'), upper: ascii('A', 'Z'), digits: ascii('0', '9'), symbols: PUNCT };

test('documented alphabets: the symbols class is the 32 printable ASCII punctuation characters', () => {
  assert.equal(PUNCT.length, 32);
  assert.equal(DOCUMENTED.lower.length + DOCUMENTED.upper.length + DOCUMENTED.digits.length + PUNCT.length, 94, 'printable ASCII without space');
});

test('every character of every requested class is drawn, and nothing else (no character is left out)', () => {
  // 4 × 1024 draws from at most 94 characters: a given character is missed with probability
  // (93/94)^4096 ≈ 5e-20, so a character that never appears is one the generator cannot draw.
  for (const classes of [['lower'], ['upper'], ['digits'], ['symbols'], ['lower', 'upper', 'digits', 'symbols']] as CharClass[][]) {
    const seen = new Set<string>();
    for (let i = 0; i < 4; i++) for (const ch of generatePassword(1024, classes)) seen.add(ch);
    const expected = new Set(classes.flatMap((c) => DOCUMENTED[c]));
    assert.ok(expected.size > 0);
    assert.deepEqual([...seen].sort(), [...expected].sort(), classes.join(','));
  }
});

test('length bounds are 4 and 1024 (docs/api.md), and the refusal names them', () => {
  assert.equal(generatePassword(4, ['lower']).length, 4);
  assert.equal(generatePassword(1024, ['lower']).length, 1024);
  assert.equal(generatePassword(4, ['lower', 'upper', 'digits', 'symbols']).length, 4);
  for (const bad of [3, 1025, 4.5, Number.NaN]) {
    assert.throws(() => generatePassword(bad, ['lower']), (e) => e instanceof RangeError && /\b4\b/.test(e.message) && /\b1024\b/.test(e.message), String(bad));
  }
});

test('classes: none is refused with a message that says so; a duplicate counts once', () => {
  assert.throws(() => generatePassword(10, []), (e) => e instanceof RangeError && /class/.test(e.message));
  const pw = generatePassword(4, ['digits', 'digits']);
  assert.match(pw, /^[0-9]{4}$/);
});

test('TOTP: the field kind is "totp"; a 16-character base32 secret is accepted', () => {
  assert.equal(TOTP_KIND, 'totp');
  assert.equal(isTotpSecret('JBSWY3DPEHPK3PXP'), true, 'exactly 16 characters');
  assert.equal(isTotpSecret('JBSWY3DPEHPK3PX'), false, '15 characters');
  assert.match(totpCode('JBSWY3DPEHPK3PXP', 0).code, /^[0-9]{6}$/);
});

test('TOTP: a URI or secret pasted with surrounding whitespace (a trailing newline) is accepted', () => {
  const uri = 'otpauth://totp/Example:alice?secret=JBSWY3DPEHPK3PXP&digits=8&period=30';
  assert.equal(isTotpSecret(`  ${uri}\n`), true);
  assert.equal(totpCode(`  ${uri}\n`, 59_000).code, totpCode(uri, 59_000).code);
  assert.equal(totpCode(uri, 59_000).code.length, 8, 'digits come from the URI');
  assert.throws(() => totpCode('otpauth://totp/x?secret=JBSW!!!', 0), (e) => isCvError(e, 'TOTP_INVALID'));
});
