/**
 * Issue 14 item 1: secret references `clavitor://<vault>/<entry title or id>/<field label>[?totp]`
 * (src/lib/secret-ref.ts) parse and format, with percent-encoding for `/` and spaces; references
 * with spaces and slashes round-trip (fast-check); malformed ones get REF_INVALID (CV-3020). Also
 * the `inject` placeholders and the `run` output masker (src/bin/cli/mask.ts).
 * Run: node --import tsx --test --test-reporter=spec test/unit/secret-ref.test.ts
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { fillPlaceholders, formatRef, parseRef, placeholdersOf, type SecretRef } from '../../src/lib/secret-ref.js';
import { CONCEALED, createMasker } from '../../src/bin/cli/mask.js';
import { fuzzRuns } from '../kit/fuzz.js';

const V = 'v_AAAAAAAAAAAAAAAAAAAAAA';

test('a reference names vault, entry and field; percent-escapes decode; spaces may be raw', () => {
  assert.deepEqual(parseRef(`clavitor://${V}/GitHub/password`), { vault: V, entry: 'GitHub', field: 'password', totp: false });
  assert.deepEqual(parseRef(`clavitor://${V}/prod%2Fdb%20main/api%20key`), { vault: V, entry: 'prod/db main', field: 'api key', totp: false });
  assert.deepEqual(parseRef(`clavitor://${V}/My DB/pass word`), { vault: V, entry: 'My DB', field: 'pass word', totp: false });
  assert.deepEqual(parseRef(`clavitor://${V}/GitHub/otp?totp`), { vault: V, entry: 'GitHub', field: 'otp', totp: true });
  assert.deepEqual(parseRef(`clavitor://${V}/GitHub?totp`), { vault: V, entry: 'GitHub', field: undefined, totp: true });
  assert.equal(formatRef({ vault: V, entry: 'prod/db main', field: 'api key', totp: false }), `clavitor://${V}/prod%2Fdb%20main/api%20key`);
  assert.equal(formatRef({ vault: V, entry: 'GitHub', field: undefined, totp: true }), `clavitor://${V}/GitHub?totp`);
});

test('malformed references get REF_INVALID (CV-3020) and the message never repeats the reference', () => {
  const bad = [
    'op://v/e/f', `clavitor://${V}/GitHub`, `clavitor://${V}/a/b/c`, `clavitor://${V}//password`, `clavitor://${V}/e/`,
    `clavitor://${V}/100%/x`, `clavitor://${V}/e/f?reveal`, `clavitor://${V}/e/f#frag`, `clavitor://${V}/e/${'x'.repeat(5000)}`, '',
  ];
  for (const b of bad) {
    assert.throws(() => parseRef(b), (e: { code?: string; message: string }) => e.code === 'CV-3020' && (b.length < 12 || !e.message.includes(b)), b);
  }
  assert.throws(() => formatRef({ vault: V, entry: '', field: 'x', totp: false }), { code: 'CV-3020' });
  assert.throws(() => formatRef({ vault: V, entry: 'e', field: undefined, totp: false }), { code: 'CV-3020' });
});

test('references with spaces, slashes, percent signs and any text round-trip (fast-check)', () => {
  const seg = fc.oneof(
    fc.string({ minLength: 1, maxLength: 40 }),
    fc.array(fc.constantFrom('a', 'Z', ' ', '/', '%', '?', '#', '{', '}', 'é', '%2F', '  '), { minLength: 1, maxLength: 12 }).map((xs) => xs.join('')),
  );
  const ref = fc.record({ vault: seg, entry: seg, field: fc.option(seg, { nil: undefined }), totp: fc.boolean() })
    .filter((r) => r.field !== undefined || r.totp);
  fc.assert(fc.property(ref, (r: SecretRef) => {
    const text = formatRef(r);
    const segs = text.slice('clavitor://'.length).replace(/\?totp$/, '').split('/');
    assert.equal(segs.length, r.field === undefined ? 2 : 3, 'a slash inside a segment is escaped');
    assert.ok(segs.every((x) => !/[ ?#]/.test(x)), 'no raw space, ? or # inside a segment');
    const expected = { vault: r.vault, entry: r.entry, field: r.field, totp: r.totp };
    assert.deepEqual(parseRef(text), expected);
    assert.deepEqual(parseRef(formatRef(parseRef(text))), expected, 'stable');
  }), { numRuns: fuzzRuns(2000) });
});

test('inject placeholders: {{ clavitor://… }} with or without blanks, each distinct reference once', () => {
  const t = `user={{ clavitor://${V}/db/user }}\npass={{clavitor://${V}/db%20main/pass}}\nagain={{  clavitor://${V}/db/user  }}\nplain={{ not-a-ref }}\n`;
  const refs = placeholdersOf(t);
  assert.deepEqual(refs, [`clavitor://${V}/db/user`, `clavitor://${V}/db%20main/pass`]);
  const out = fillPlaceholders(t, new Map([[refs[0]!, 'alice'], [refs[1]!, 's3cr3t']]));
  assert.equal(out, 'user=alice\npass=s3cr3t\nagain=alice\nplain={{ not-a-ref }}\n');
});

test('the masker conceals every occurrence, also split across chunks, and passes other text unchanged', () => {
  const m = createMasker(['hunter2', 'hunter2-long', 'xyz']);
  let out = '';
  for (const chunk of ['pw=hun', 'ter2; long=hunter2-lo', 'ng; h', 'unt; x', 'y', 'z!', ' hunt']) out += m.push(chunk);
  out += m.end();
  assert.equal(out, `pw=${CONCEALED}; long=${CONCEALED}; hunt; ${CONCEALED}! hunt`);
  fc.assert(fc.property(fc.array(fc.string({ maxLength: 8 }), { maxLength: 20 }), fc.string({ minLength: 1, maxLength: 6 }), (chunks, secret) => {
    const mm = createMasker([secret]);
    let o = '';
    for (const c of chunks) o += mm.push(c);
    o += mm.end();
    const whole = chunks.join('');
    assert.equal(o, whole.split(secret).join(CONCEALED), 'same as masking the whole text at once');
  }), { numRuns: 500 });
});
