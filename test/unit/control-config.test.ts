/**
 * clavitor-control's settings file (src/controlplane/server/config.ts): defaults, strict keys,
 * ranges, and one `<file>:<line>:<col>: <key>: <what is wrong>` line per problem.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONTROL_DEFAULTS, loadControlConfig } from '../../src/controlplane/server/config.js';
import { isConfigError } from '../../src/config/config-error.js';

const dir = mkdtempSync(join(tmpdir(), 'control-config-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
function file(text: string): string {
  const f = join(dir, `c${n++}.yaml`);
  writeFileSync(f, text);
  return f;
}
function refused(text: string): { line: string; code: string } {
  const f = file(text);
  try {
    loadControlConfig(f);
  } catch (e) {
    assert.ok(isConfigError(e), `expected a ConfigError, got ${String(e)}`);
    assert.ok(e.line.startsWith(`${f}:`));
    return { line: e.line.slice(f.length + 1), code: e.code };
  }
  assert.fail('expected the file to be refused');
}

test('no file: the documented defaults', () => {
  assert.deepEqual({ ...loadControlConfig(undefined) }, { path: undefined, leaseTtlSeconds: 10, failoverAfterMissedHeartbeats: 3, maxLagOnFailover: 0, safetyMarginMs: 1000 });
  assert.equal(loadControlConfig(undefined), CONTROL_DEFAULTS);
});

test('an empty or comment-only file means defaults', () => {
  const c = loadControlConfig(file('# nothing here\n\n'));
  assert.equal(c.leaseTtlSeconds, 10);
  assert.equal(c.safetyMarginMs, 1000);
});

test('every key is read', () => {
  const c = loadControlConfig(file('lease_ttl_seconds: 4\nfailover_after_missed_heartbeats: 2\nmax_lag_on_failover: 5\nsafety_margin_ms: 250\n'));
  assert.deepEqual([c.leaseTtlSeconds, c.failoverAfterMissedHeartbeats, c.maxLagOnFailover, c.safetyMarginMs], [4, 2, 5, 250]);
  assert.ok(Object.isFrozen(c));
});

test('unknown key: pointed at, allowed keys listed', () => {
  const r = refused('lease_ttl_seconds: 10\nleese_ttl: 3\n');
  assert.equal(r.code, 'CV-1001');
  assert.match(r.line, /^2:1: leese_ttl: unknown key \(allowed: lease_ttl_seconds, failover_after_missed_heartbeats, max_lag_on_failover, safety_margin_ms\)$/);
});

test('wrong type and out of range: pointed at the value, with the range and unit', () => {
  assert.equal(refused('safety_margin_ms: "1000"\n').line, '1:19: safety_margin_ms: must be a whole number from 0 to 600000 (milliseconds), got a string (write numbers without quotes)');
  assert.equal(refused('\nlease_ttl_seconds: 1\n').line, '2:20: lease_ttl_seconds: must be a whole number from 2 to 3600 (seconds), got the number 1');
  assert.match(refused('failover_after_missed_heartbeats: 2.5\n').line, /^1:35: failover_after_missed_heartbeats: must be a whole number from 1 to 100 \(heartbeats\)/);
  assert.match(refused('max_lag_on_failover: -1\n').line, /^1:22: max_lag_on_failover: must be a whole number from 0 to 1000000000 \(revisions\), got the number -1$/);
});

test('missing file: CV-1002 at 1:1', () => {
  try {
    loadControlConfig(join(dir, 'absent.yaml'));
    assert.fail('expected refusal');
  } catch (e) {
    assert.ok(isConfigError(e));
    assert.equal(e.code, 'CV-1002');
    assert.match(e.line, /absent\.yaml:1:1: \(file\): not found/);
  }
});

test('YAML problems keep their positions (duplicate key, syntax, not a mapping)', () => {
  assert.match(refused('lease_ttl_seconds: 5\nlease_ttl_seconds: 6\n').line, /^2:1: lease_ttl_seconds: key appears twice/);
  assert.match(refused('lease_ttl_seconds: [5\n').line, /^\d+:\d+: \(yaml\): YAML syntax error/);
  assert.match(refused('- 1\n- 2\n').line, /^1:1: \(file\): top level must be a mapping/);
});
