/**
 * replication.yaml shape rules, peer URLs and token strength as pure functions, the cases mutation
 * testing found unpinned (issue 17 item 3, docs/testing.md). config.test.ts covers the same rules
 * through real files, TLS material and the binary, which takes minutes per run; this file runs in
 * well under a second so it can run once per mutant. Expected lines and reasons are docs/config.md's
 * (the "Keys" table, "URLs", token forms and the "Errors" examples), not the schema's constants.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { validateShape } from '../../src/config/validate.js';
import { parseYamlSource } from '../../src/config/yaml-source.js';
import { ConfigError } from '../../src/config/config-error.js';
import { dotted } from '../../src/config/describe-issue.js';
import { DEFAULTS, LIMITS, MAPPING_KEYS } from '../../src/config/schema.js';
import { isLoopbackHost, normalizePeerUrl } from '../../src/config/url.js';
import { MIN_TOKEN_BYTES, TOKEN_PREFIX, tokenWeakness } from '../../src/config/token-strength.js';

const F = '/etc/clavitor/replication.yaml';
const PRIMARY = ['pop_id: "calgary-01"', 'region: "north-america"', 'role: "primary"', 'backup_pop:', '  id: "zurich-01"', '  url: "https://zurich-01.clavitor.ai"', '  auth_token_file: "r.key"', 'auth:', '  token_file: "r.key"'];
const BACKUP = ['pop_id: "zurich-01"', 'region: "europe"', 'role: "backup"', 'primary_pop:', '  id: "calgary-01"', '  url: "https://calgary-01.clavitor.ai"', 'auth:', '  token_file: "r.key"'];

const shape = (lines: readonly string[]) => validateShape(F, parseYamlSource(F, lines.join('\n') + '\n'));
/** The one error line for `lines`, without the file name. */
function errorOf(lines: readonly string[]): string {
  try {
    shape(lines);
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    assert.equal(e.code, 'CV-1001');
    assert.ok(e.line.startsWith(`${F}:`));
    return e.line.slice(F.length + 1);
  }
  assert.fail(`accepted: ${lines.join(' / ')}`);
}
const edit = (base: readonly string[], i: number, line: string | null): string[] => {
  const out = [...base];
  if (line === null) out.splice(i, 1);
  else out[i] = line;
  return out;
};

test('valid files: defaults are documented ones, URLs normalised, an empty replication: means all defaults', () => {
  assert.deepEqual(DEFAULTS, { batchSize: 100, maxRetries: 5, heartbeatIntervalSeconds: 60 });
  assert.deepEqual(LIMITS, { batchSize: { min: 1, max: 10000 }, maxRetries: { min: 0, max: 100 }, heartbeatIntervalSeconds: { min: 1, max: 3600 } });
  const c = shape([...edit(PRIMARY, 5, '  url: "HTTPS://Zurich-01.Clavitor.AI:443/"'), 'replication:', 'control_plane:', '  url: "https://control.clavitor.ai"', '  token_file: "cp.key"', '  heartbeat_interval: 3600']);
  assert.equal(c.backup_pop?.url, 'https://zurich-01.clavitor.ai');
  assert.equal(c.replication, undefined);
  assert.equal(c.control_plane?.heartbeat_interval, 3600);
  const b = shape([...BACKUP, 'replication:', '  batch_size: 10000', '  max_retries: 0']);
  assert.equal(b.role, 'backup');
  assert.deepEqual(b.replication, { batch_size: 10000, max_retries: 0 });
  assert.equal(shape([...PRIMARY, 'replication:', '  batch_size: 1', '  max_retries: 100']).replication?.max_retries, 100);
  assert.equal(shape(edit(PRIMARY, 1, `region: "${'r'.repeat(256)}"`)).region.length, 256);
  assert.equal(shape([...PRIMARY.slice(0, 8), '  token_file: "r.key"', '  mtls_cert: "c.pem"', '  mtls_key: "k.pem"', '  mtls_ca: "ca.pem"']).auth.mtls_key, 'k.pem');
  assert.equal(shape([...PRIMARY, '  mtls_ca: "ca.pem"']).auth.mtls_ca, 'ca.pem', 'mtls_ca may be given alone');
});

test('docs/config.md error examples, line:col and reason', () => {
  assert.equal(errorOf(edit(PRIMARY, 0, 'pop_id: "Calgary_01"')), '1:9: pop_id: must be 1 to 63 characters from a-z, 0-9 and "-" (e.g. "calgary-01")');
  assert.equal(errorOf(edit(PRIMARY, 2, 'role: "Backup"')), '3:7: role: must be "primary" or "backup" (lower case), got "Backup"');
  assert.equal(errorOf(PRIMARY.slice(0, 3).concat(PRIMARY.slice(7))), '3:7: backup_pop: required when role is "primary": add a backup_pop block with id, url and auth_token_file (or set role: "backup")');
  assert.equal(errorOf(edit(PRIMARY, 2, 'role: "backup"')), '4:1: backup_pop: not allowed when role is "backup": a backup never replicates further (no cascade); remove backup_pop or set role: "primary"');
  assert.equal(errorOf(edit(PRIMARY, 5, null)), '4:1: backup_pop.url: required key is missing');
  assert.equal(errorOf(edit(PRIMARY, 5, '  url: "http://zurich-01.clavitor.ai"')), '6:8: backup_pop.url: must use https:// for a non-loopback host (zurich-01.clavitor.ai); plain http:// is allowed only for localhost, 127.0.0.0/8 and [::1]');
  assert.equal(errorOf([...edit(PRIMARY, 1, 'regoin: "x"')]), '2:1: regoin: unknown key; did you mean "region"? (allowed at the top level: pop_id, region, role, backup_pop, primary_pop, auth, replication, control_plane, trusted_proxies)');
  assert.equal(errorOf([...PRIMARY, 'replication:', '  batch_size: "100"']), '11:15: replication.batch_size: must be a whole number from 1 to 10000 (revisions per push), got the string "100" (write numbers without quotes)');
});

test('missing keys point at the enclosing mapping (1:1 for a top-level key) and name a mapping\'s keys', () => {
  assert.equal(errorOf(edit(PRIMARY, 1, null)), '1:1: region: required key is missing');
  assert.equal(errorOf(PRIMARY.slice(0, 7)), '1:1: auth: required key is missing (a mapping with keys token_file, mtls_cert, mtls_key, mtls_ca, signing_key_file, peer_public_key)');
  assert.equal(errorOf([...PRIMARY, 'control_plane:', '  url: "https://cp.clavitor.ai"']), '10:1: control_plane.token_file: required key is missing');
});

test('the first problem: an unknown key first, else the one nearest the top', () => {
  assert.match(errorOf([...edit(PRIMARY, 0, 'pop_id: "BAD"'), 'extra: 1']), /^10:1: extra: unknown key/);
  assert.match(errorOf(edit(edit(PRIMARY, 0, 'pop_id: "BAD"'), 1, 'region: ""')), /^1:9: pop_id: /);
  assert.match(errorOf(edit(edit(PRIMARY, 1, 'region: ""'), 5, '  url: "ftp://x"')), /^2:9: region: must not be empty/);
  assert.match(errorOf(['pop_id: "a"', 'region: "r"', 'role: "backup"', 'auth: { token_file: "", mtls_ca: "" }']), /^4:21: auth\.token_file: must not be empty; give the path of a file$/, 'same line: the leftmost first');
});

test('unknown keys: suggestions only for near misses, a hint for inline secrets, the allowed keys of that mapping', () => {
  assert.equal(errorOf([...PRIMARY, '  token: "x"']), '10:3: auth.token: unknown key; secrets are never written in this file, name a file holding them (token_file) (allowed in auth: token_file, mtls_cert, mtls_key, mtls_ca, signing_key_file, peer_public_key)');
  assert.equal(errorOf([...PRIMARY, '  password: "x"']), '10:3: auth.password: unknown key; secrets are never written in this file, name a file holding them (token_file) (allowed in auth: token_file, mtls_cert, mtls_key, mtls_ca, signing_key_file, peer_public_key)');
  assert.equal(errorOf([...PRIMARY, 'zzzzzzzz: 1']), '10:1: zzzzzzzz: unknown key (allowed at the top level: pop_id, region, role, backup_pop, primary_pop, auth, replication, control_plane, trusted_proxies)');
  assert.match(errorOf([...PRIMARY, 'replication:', '  batchsize: 5']), /^11:3: replication\.batchsize: unknown key; did you mean "batch_size"\? \(allowed in replication: batch_size, max_retries\)$/);
  assert.match(errorOf([...PRIMARY, 'Region: "x"']), /did you mean "region"\?/, 'case is ignored when suggesting');
  assert.match(errorOf([...PRIMARY, 'control_plane:', '  url: "https://cp.clavitor.ai"', '  token_file: "t"', '  heartbeat_intervall: 5']), /did you mean "heartbeat_interval"\?/);
  assert.deepEqual(MAPPING_KEYS.primary_pop, ['id', 'url']);
  assert.deepEqual(MAPPING_KEYS.control_plane, ['url', 'token_file', 'heartbeat_interval', 'ca_file']);
  assert.deepEqual(MAPPING_KEYS.backup_pop, ['id', 'url', 'auth_token_file']);
});

test('wrong types: what was expected and what was found, never echoing a string', () => {
  assert.equal(errorOf(edit(PRIMARY, 0, 'pop_id: 12')), '1:9: pop_id: expected a string (quote it: "…"), got the number 12');
  assert.equal(errorOf(edit(PRIMARY, 1, 'region: true')), '2:9: region: expected a string (quote it: "…"), got the boolean true');
  assert.equal(errorOf(edit(PRIMARY, 1, 'region: [a]')), '2:9: region: expected a string (quote it: "…"), got a list');
  assert.equal(errorOf(edit(PRIMARY, 1, 'region: {a: 1}')), '2:9: region: expected a string (quote it: "…"), got a mapping');
  assert.equal(errorOf([...PRIMARY.slice(0, 7), 'auth: "secret-ish"']), '8:7: auth: expected a mapping with keys token_file, mtls_cert, mtls_key, mtls_ca, signing_key_file, peer_public_key, got a string');
  assert.equal(errorOf([...PRIMARY.slice(0, 7), 'auth:']), '8:6: auth: expected a mapping with keys token_file, mtls_cert, mtls_key, mtls_ca, signing_key_file, peer_public_key, got an empty value');
  assert.equal(errorOf([...PRIMARY, 'replication:', '  max_retries: 1.5']), '11:16: replication.max_retries: must be a whole number from 0 to 100, got the number 1.5');
  assert.equal(errorOf([...PRIMARY, 'replication:', '  max_retries: "-1.5"']), '11:16: replication.max_retries: must be a whole number from 0 to 100, got the string "-1.5" (write numbers without quotes)');
  assert.equal(errorOf([...PRIMARY, 'replication:', '  max_retries: "five"']), '11:16: replication.max_retries: must be a whole number from 0 to 100, got a string');
  assert.equal(errorOf([...PRIMARY, 'control_plane:', '  url: "https://cp.clavitor.ai"', '  token_file: "t"', '  heartbeat_interval: 0']), '13:23: control_plane.heartbeat_interval: must be a whole number from 1 to 3600 (seconds), got the number 0');
  assert.equal(errorOf([...PRIMARY, 'control_plane:', '  url: "https://cp.clavitor.ai"', '  token_file: "t"', '  heartbeat_interval: 3601']), '13:23: control_plane.heartbeat_interval: must be a whole number from 1 to 3600 (seconds), got the number 3601');
  assert.equal(errorOf([...PRIMARY, 'replication:', '  batch_size: 10001']), '11:15: replication.batch_size: must be a whole number from 1 to 10000 (revisions per push), got the number 10001');
  assert.equal(errorOf([...PRIMARY, 'replication:', '  batch_size: 0']), '11:15: replication.batch_size: must be a whole number from 1 to 10000 (revisions per push), got the number 0');
  assert.equal(errorOf([...PRIMARY, 'replication:', '  max_retries: 101']), '11:16: replication.max_retries: must be a whole number from 0 to 100, got the number 101');
  const longRole = `role: "${'x'.repeat(33)}"`;
  assert.equal(errorOf(edit(PRIMARY, 2, longRole)), '3:7: role: must be "primary" or "backup" (lower case), got a string', 'a long string is not echoed');
  assert.equal(errorOf(edit(PRIMARY, 2, `role: "${'x'.repeat(32)}"`)), `3:7: role: must be "primary" or "backup" (lower case), got "${'x'.repeat(32)}"`);
});

test('cross-field rules and string rules', () => {
  assert.equal(errorOf(edit(PRIMARY, 4, '  id: "calgary-01"')), '5:7: backup_pop.id: must differ from pop_id ("calgary-01"): a POP cannot replicate to itself');
  assert.equal(errorOf(edit(BACKUP, 4, '  id: "zurich-01"')), '5:7: primary_pop.id: must differ from pop_id ("zurich-01"): a backup\'s primary is another POP');
  assert.equal(errorOf([...PRIMARY, 'primary_pop:', '  id: "x"', '  url: "https://x.clavitor.ai"']), '10:1: primary_pop: only allowed when role is "backup"; a primary names its peer in backup_pop');
  assert.equal(errorOf([...PRIMARY, '  mtls_cert: "c.pem"']), '8:1: auth.mtls_key: required when auth.mtls_cert is set (give both mtls_cert and mtls_key, or neither)');
  assert.equal(errorOf([...PRIMARY, '  mtls_key: "k.pem"']), '8:1: auth.mtls_cert: required when auth.mtls_key is set (give both mtls_cert and mtls_key, or neither)');
  assert.equal(errorOf(edit(PRIMARY, 1, 'region: "   "')), '2:9: region: must not be empty');
  assert.equal(errorOf(edit(PRIMARY, 1, `region: "${'r'.repeat(257)}"`)), '2:9: region: must be at most 256 characters with no control characters');
  for (const c of ['\\x1f', '\\x7f', '\\t']) assert.match(errorOf(edit(PRIMARY, 1, `region: "a${c}b"`)), /^2:9: region: must be at most 256 characters with no control characters$/, c);
  assert.equal(shape(edit(PRIMARY, 1, 'region: "a b ~"')).region, 'a b ~', 'space and ~ are not control characters');
  assert.equal(errorOf(edit(PRIMARY, 6, '  auth_token_file: " "')), '7:20: backup_pop.auth_token_file: must not be empty; give the path of a file');
  assert.equal(errorOf(edit(PRIMARY, 0, `pop_id: "${'a'.repeat(64)}"`)), '1:9: pop_id: must be 1 to 63 characters from a-z, 0-9 and "-" (e.g. "calgary-01")');
  assert.equal(shape(edit(edit(PRIMARY, 0, `pop_id: "${'a'.repeat(63)}"`), 4, '  id: "b"')).pop_id.length, 63);
  assert.equal(dotted([]), '(file)');
  assert.equal(dotted(['backup_pop', 'url']), 'backup_pop.url');
});

test('peer URLs (docs/config.md "URLs")', () => {
  assert.deepEqual(normalizePeerUrl('  https://Zurich-01.Clavitor.AI:443/ '), { ok: true, url: 'https://zurich-01.clavitor.ai' });
  assert.deepEqual(normalizePeerUrl('https://z.clavitor.ai:8443'), { ok: true, url: 'https://z.clavitor.ai:8443' });
  for (const ok of ['http://localhost:1', 'http://LOCALHOST', 'http://127.0.0.1:8443', 'http://127.255.0.9', 'http://[::1]:9']) assert.equal(normalizePeerUrl(ok).ok, true, ok);
  const reason = (u: string): string => {
    const r = normalizePeerUrl(u);
    assert.equal(r.ok, false, u);
    return (r as { reason: string }).reason;
  };
  assert.match(reason(''), /^must not be empty/);
  assert.match(reason('   '), /^must not be empty/);
  assert.match(reason('ftp://x'), /^must start with https:\/\//);
  assert.match(reason('zurich-01.clavitor.ai'), /^must start with https:\/\//);
  assert.match(reason('https://exa mple.com'), /^is not a valid URL/);
  assert.match(reason('https://x.clavitor.ai:0'), /port 0/);
  assert.match(reason('https://u:p@x.clavitor.ai'), /user name or password/);
  assert.match(reason('https://u@x.clavitor.ai'), /user name or password/);
  assert.match(reason('https://:p@x.clavitor.ai'), /user name or password/);
  assert.match(reason('https://x.clavitor.ai/path'), /no path, query or fragment/);
  assert.match(reason('https://x.clavitor.ai?'), /no path, query or fragment/);
  assert.match(reason('https://x.clavitor.ai/#'), /no path, query or fragment/);
  assert.match(reason('http://128.0.0.1'), /must use https:\/\/ for a non-loopback host \(128\.0\.0\.1\)/);
  assert.match(reason('http://127.0.0.1.example.com'), /non-loopback/);
  assert.match(reason('http://[::2]'), /non-loopback/);
  assert.equal(isLoopbackHost('LocalHost'), true);
  assert.equal(isLoopbackHost('127.1.2.3'), true);
  assert.equal(isLoopbackHost('127.100.200.250'), true, 'any address in 127.0.0.0/8');
  assert.equal(normalizePeerUrl('http://127.0.0.10:8443').ok, true);
  assert.equal(isLoopbackHost('127.1.2'), false);
  assert.equal(isLoopbackHost('x127.1.2.3'), false);
  assert.equal(isLoopbackHost('127.1.2.3x'), false);
});

test('token strength (docs/config.md "Token files"): the three forms at 256 bits, and non-random material refused', () => {
  assert.equal(TOKEN_PREFIX, 'clavitor-pop-v1-');
  assert.equal(MIN_TOKEN_BYTES, 32);
  const rnd = randomBytes(32);
  assert.equal(tokenWeakness(`clavitor-pop-v1-${rnd.toString('base64url')}`), null);
  assert.equal(tokenWeakness(rnd.toString('hex')), null);
  assert.equal(tokenWeakness(rnd.toString('hex').toUpperCase()), null);
  assert.equal(tokenWeakness(rnd.toString('base64')), null);
  assert.equal(tokenWeakness(rnd.toString('base64url')), null);
  const shortBy1 = randomBytes(31);
  assert.match(tokenWeakness(`clavitor-pop-v1-${randomBytes(33).toString('base64url').slice(0, 42)}`)!, /^is too short: \d+ bits of material, at least 256 required; generate one with: clavitor-commercial keygen --out FILE$/);
  assert.equal(tokenWeakness(shortBy1.toString('hex')), 'is too short: 248 bits of material, at least 256 required; generate one with: clavitor-commercial keygen --out FILE');
  assert.match(tokenWeakness(shortBy1.toString('base64'))!, /^is too short: 248 bits/);
  assert.equal(tokenWeakness(''), 'is empty');
  assert.match(tokenWeakness('correct horse battery staple')!, /whitespace/);
  assert.match(tokenWeakness('#' + rnd.toString('hex'))!, /comment/);
  assert.match(tokenWeakness('clavitor-pop-v1-a1b2c3d4e5f6...')!, /base64url characters only/);
  assert.match(tokenWeakness('clavitor-pop-v2-' + rnd.toString('base64url'))!, /unknown clavitor- prefix; expected "clavitor-pop-v1-"/);
  assert.equal(tokenWeakness(rnd.toString('hex') + 'a'), 'is hex with an odd number of digits');
  assert.equal(tokenWeakness(rnd.toString('base64').replace(/=+$/, '') + '=='), 'is base64 with malformed "=" padding');
  assert.match(tokenWeakness('!' + rnd.toString('hex'))!, /^is not a recognised token: expected clavitor-pop-v1-…, or hex or base64 of at least 32 random bytes/);
  // Plainly not random, though long enough.
  assert.match(tokenWeakness('A'.repeat(64))!, /too few distinct characters/);
  assert.match(tokenWeakness('abcdefghijklmnopqrstuvwxyzabcdefghijklmnopq')!, /does not look random \(random base64 mixes letters and digits\)/);
  assert.match(tokenWeakness(Buffer.from(Array.from({ length: 32 }, (_, i) => i)).toString('hex'))!, /counting sequence/);
  assert.match(tokenWeakness(Buffer.from(Array.from({ length: 32 }, (_, i) => (250 + i * 3) % 256)).toString('hex'))!, /counting sequence/, 'counting wraps around 255');
  const pattern = Buffer.concat([randomBytes(20), Buffer.alloc(0)]);
  assert.match(tokenWeakness(Buffer.concat([pattern, pattern]).toString('hex'))!, /repeating pattern/);
  const fewBytes = Buffer.from(Array.from({ length: 40 }, (_, i) => [3, 77, 150, 201, 9, 240, 18, 66, 99, 120, 180, 33, 55, 210, 1][i % 15]!));
  assert.match(tokenWeakness(fewBytes.toString('hex'))!, /too few distinct byte values/);
  for (let i = 0; i < 20; i++) assert.equal(tokenWeakness(randomBytes(32).toString('base64url')), null, 'random tokens pass');
});

test('the first problem is the one nearest the top of the file, whatever the schema order of the keys', () => {
  const lines = ['region: ""', 'role: "primary"', 'pop_id: "BAD"', ...PRIMARY.slice(3)];
  assert.match(errorOf(lines), /^1:9: region: must not be empty$/);
  const sameLine = ['pop_id: "a"', 'region: "r"', 'role: "backup"', 'auth: { mtls_ca: "", token_file: "" }'];
  assert.match(errorOf(sameLine), /^4:18: auth\.mtls_ca: must not be empty; give the path of a file$/);
});
