/**
 * `trusted_proxies` (issue 13 §2): CIDR parsing and matching, and the replication.yaml key —
 * optional, empty by default (no proxy trusted), a bad range refused with file:line:col.
 * Run: node --import tsx --test --test-reporter=spec test/unit/trusted-proxies.test.ts
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addressMatcher, parseCidr, parseCidrList } from '../../src/lib/cidr.js';
import { writeKeyFile } from '../../src/config/keygen.js';
import { loadReplicationConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/config/config-error.js';

const dir = mkdtempSync(join(tmpdir(), 'clavitor-proxies-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const key = join(dir, 'replication.key');
writeKeyFile(key);
const backupYaml = (extra: string) => `pop_id: "zurich-01"\nregion: "europe"\nrole: "backup"\nauth:\n  token_file: "${key}"\n${extra}`;
const load = (yaml: string) => {
  const p = join(dir, 'replication.yaml');
  writeFileSync(p, yaml);
  return loadReplicationConfig(p);
};

test('parseCidr accepts ranges and bare addresses of both families and names what is wrong otherwise', () => {
  assert.deepEqual(parseCidr('10.0.0.0/8'), { address: '10.0.0.0', prefix: 8, family: 'ipv4' });
  assert.deepEqual(parseCidr('192.0.2.7'), { address: '192.0.2.7', prefix: 32, family: 'ipv4' });
  assert.deepEqual(parseCidr('fd00::/8'), { address: 'fd00::', prefix: 8, family: 'ipv6' });
  for (const bad of ['10.0.0.0/33', 'fd00::/129', 'proxy.example', '10.0.0/8', '', '10.0.0.0/8 ', '*']) {
    assert.equal(typeof parseCidr(bad), 'string', bad);
  }
  assert.throws(() => parseCidrList('10.0.0.0/8, nope'), /"nope" is not an IP address/);
  assert.equal(parseCidrList(' 10.0.0.0/8 ,192.0.2.1,').length, 2);
});

test('a matcher folds IPv4-mapped IPv6 addresses onto IPv4 and trusts nothing when empty', () => {
  const m = addressMatcher(parseCidrList('10.0.0.0/8,fd00::/8'));
  assert.equal(m.matches('10.1.2.3'), true);
  assert.equal(m.matches('::ffff:10.1.2.3'), true);
  assert.equal(m.matches('fd12::1'), true);
  assert.equal(m.matches('11.0.0.1'), false);
  assert.equal(m.matches(undefined), false);
  const none = addressMatcher([]);
  for (const a of ['127.0.0.1', '10.1.2.3', '::1']) assert.equal(none.matches(a), false, a);
});

test('replication.yaml: trusted_proxies is optional and empty by default', () => {
  assert.deepEqual(load(backupYaml('')).trustedProxies, []);
  assert.deepEqual(load(backupYaml('trusted_proxies:\n')).trustedProxies, []);
  const cfg = load(backupYaml('trusted_proxies:\n  - "10.0.0.0/8"\n  - "192.0.2.7"\n'));
  assert.deepEqual(cfg.trustedProxies.map((c) => `${c.address}/${c.prefix}`), ['10.0.0.0/8', '192.0.2.7/32']);
});

test('replication.yaml: a bad trusted_proxies item is refused with file:line:col and the key', () => {
  const p = join(dir, 'replication.yaml');
  const e = (() => { try { load(backupYaml('trusted_proxies:\n  - "10.0.0.0/8"\n  - "10.0.0.0/33"\n')); } catch (x) { return x; } return undefined; })();
  assert.ok(e instanceof ConfigError, 'ConfigError');
  assert.equal(e.code, 'CV-1001');
  assert.match(e.line, new RegExp(`^${p.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:8:5: trusted_proxies\\.1: .*prefix length must be 0\\.\\.32`));
  assert.throws(() => load(backupYaml('trusted_proxies: "10.0.0.0/8"\n')), (x: ConfigError) => /:6:\d+: trusted_proxies: /.test(x.line));
});
