/**
 * Conversion of a data directory in the old layout (issue 12 item 1): node.db plus one
 * vaults/<id>.db per vault, made by the real binaries of the last commit that wrote it
 * (test/fixtures/legacy-layout/README.md), converted on start into clavitor.db, verified, and the
 * old files moved to legacy-layout-<UTC stamp>/. What the fixture held must be served as before:
 * entries (a sealed field byte for byte), the agent's scope, the revoked agent refused, the audit
 * chain intact, the primary's backlog replicated to a fresh backup, quarantine listed. A damaged
 * old file stops the start with CV-5022, leaving the old files untouched and no clavitor.db.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmodSync, cpSync, existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { api, BIN, provisionPair, runCommercial, ServerProc, tempDir, waitFor } from '../kit/pop.js';
import { freePort } from '../kit/ports.js';
import { createClient } from '../../src/bin/cli/http.js';
import { verifyAudit } from '../../src/bin/cli/audit-cmd.js';

const FIXTURE = resolve(import.meta.dirname, '../fixtures/legacy-layout');

/**
 * Copies a fixture data directory to `dest` with the modes a POP's data directory has: git keeps
 * no file modes, so a checkout's admin.token is as readable as the umask makes it, and the server
 * rightly refuses a group- or world-readable token file (CV-1003).
 */
function copyFixture(name: string, dest: string): void {
  cpSync(join(FIXTURE, name), dest, { recursive: true });
  const walk = (dir: string): void => {
    chmodSync(dir, 0o700);
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(dir, e.name));
      else chmodSync(join(dir, e.name), 0o600);
    }
  };
  walk(dest);
}
const expected = JSON.parse(readFileSync(join(FIXTURE, 'expected.json'), 'utf8'));

/**
 * Every file under `dir` (relative path → SHA-256), leaving out the server's own lock file
 * (`clavitor.lock`, docs/operations.md), which every `serve` holds whatever the layout.
 */
function tree(dir: string, base = dir, out: Record<string, string> = {}): Record<string, string> {
  for (const name of readdirSync(dir)) {
    if (dir === base && name === 'clavitor.lock') continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) tree(p, base, out);
    else out[p.slice(base.length + 1)] = createHash('sha256').update(readFileSync(p)).digest('hex');
  }
  return out;
}

test('an old-layout primary is converted on start: entries, agents, audit, backlog (replicated to a fresh backup) all kept', async (t) => {
  const pair = await provisionPair();
  t.after(() => pair.stop());
  copyFixture('primary', pair.primary.dataDir);
  const before = tree(pair.primary.dataDir);
  const e = expected.primary;

  await pair.backup.start();
  await pair.primary.start();
  const converted = pair.primary.logLines().find((l) => l.event === 'storage.converted');
  assert.ok(converted, 'the conversion is logged');
  assert.deepEqual({ vaults: converted.vaults, revisions: converted.revisions, backlog: converted.backlog, quarantine: converted.quarantine }, { vaults: 1, revisions: 10, backlog: 10, quarantine: 0 });
  const data = pair.primary.dataDir;
  assert.ok(existsSync(join(data, 'clavitor.db')));
  assert.ok(!existsSync(join(data, 'node.db')) && !existsSync(join(data, 'vaults')), 'the old files are no longer in place');
  const moved = readdirSync(data).filter((f) => /^legacy-layout-\d{8}T\d{6}Z$/.test(f));
  assert.equal(moved.length, 1);
  assert.equal(converted.movedTo, moved[0]);
  // Kept byte for byte (never deleted).
  const kept = tree(join(data, moved[0]!));
  for (const [f, h] of Object.entries(before)) if (f === 'node.db' || f.startsWith('vaults/')) assert.equal(kept[f], h, `${f} kept unchanged`);

  // Entries as the owner wrote them.
  const list = await api(pair.primary.url, 'GET', '/api/entries', { token: e.owner_token });
  assert.equal(list.status, 200);
  assert.deepEqual(list.json.entries.map((x: { id: string }) => x.id).sort(), [e.entries.e1, e.entries.e2, e.entries.e3].sort());
  const e1 = await api(pair.primary.url, 'GET', `/api/entries/${e.entries.e1}`, { token: e.owner_token });
  assert.equal(e1.status, 200);
  assert.deepEqual(e1.json.fields.map((f: { label: string; value: string }) => [f.label, f.value]), [['user', 'bob'], ['password', 'hunter2-owner'], ['recovery', e.sealed_value]]);
  const e3 = await api(pair.primary.url, 'GET', `/api/entries/${e.entries.e3}`, { token: e.owner_token });
  assert.deepEqual([e3.json.title, e3.json.version], ['bank v2', e.e3_version]);
  assert.equal((await api(pair.primary.url, 'GET', `/api/entries/${e.entries.e4_deleted}`, { token: e.owner_token })).json.error.code, 'CV-4002', 'deleted (ENTRY_DELETED)');

  // The agent sees only its scope, its owner-tier field redacted; the revoked agent is refused.
  const a1 = await api(pair.primary.url, 'GET', `/api/entries/${e.entries.e1}`, { token: e.agent_token });
  assert.equal(a1.status, 200);
  assert.deepEqual(a1.json.fields.map((f: { label: string; value?: string; redacted?: boolean }) => [f.label, f.value ?? (f.redacted ? 'redacted' : '?')]), [['user', 'bob'], ['password', 'redacted'], ['recovery', 'redacted']]);
  const a2 = await api(pair.primary.url, 'GET', `/api/entries/${e.entries.e2}`, { token: e.agent_token });
  assert.deepEqual([a2.status, a2.json.error.code], [403, 'CV-2007']);
  assert.equal((await api(pair.primary.url, 'GET', `/api/entries/${e.entries.e1}`, { token: e.revoked_agent_token })).status, 401);

  // The audit chain carried over verifies, with the records just added after it.
  const audit = await verifyAudit(createClient(pair.primary.url, e.owner_token), 5);
  assert.equal(audit.ok, true);
  assert.ok(audit.records >= 12, `${audit.records} audit records`);

  // The backlog (the whole log: the backup was never reached) replicates to the fresh backup.
  await waitFor('the converted backlog to drain', async () => (await pair.primary.status()).replication.backlog === 0, 30000);
  const onBackup = await api(pair.backup.url, 'GET', `/api/entries/${e.entries.e1}`, { token: e.owner_token });
  assert.equal(onBackup.status, 200);
  assert.deepEqual(onBackup.json.fields.map((f: { value: string }) => f.value), ['bob', 'hunter2-owner', e.sealed_value]);
  assert.equal((await api(pair.backup.url, 'GET', `/api/entries/${e.entries.e1}`, { token: e.revoked_agent_token })).status, 401);

  // A second start does not convert again.
  await pair.primary.kill('SIGTERM');
  await pair.primary.start();
  assert.ok(!pair.primary.logLines().some((l) => l.event === 'storage.converted'));
  assert.equal((await api(pair.primary.url, 'GET', '/api/entries', { token: e.owner_token })).json.entries.length, 3);
});

test('an old-layout demoted POP keeps its quarantine through the conversion', async (t) => {
  const pair = await provisionPair();
  t.after(() => pair.stop());
  copyFixture('demoted', pair.primary.dataDir);
  pair.writeConfig('primary', pair.yamlFor('primary', 'backup'));
  await pair.primary.start();
  const e = expected.demoted;
  const q = await api(pair.primary.url, 'GET', '/api/quarantine', { token: e.owner_token });
  assert.equal(q.status, 200);
  assert.equal(q.json.quarantine.length, e.quarantined);
  assert.ok(q.json.quarantine.some((i: { subject: string }) => i.subject === e.entries.d2_quarantined));
  const status = await pair.primary.status();
  assert.equal(status.epoch, 1);
});

test('a damaged old-layout file stops the start with CV-5022: old files untouched, no clavitor.db', async (t) => {
  const tmp = tempDir();
  t.after(() => tmp.cleanup());
  const data = join(tmp.dir, 'data');
  copyFixture('primary', data);
  const vaultFile = join(data, 'vaults', `${expected.primary.vault_id}.db`);
  const bytes = readFileSync(vaultFile);
  bytes.fill(0x41, 0, 4096); // the header page: no longer a database
  writeFileSync(vaultFile, bytes);
  const before = tree(data);
  const port = await freePort();
  const srv = new ServerProc('community', BIN.community, ['serve', '--data', data, '--listen', `127.0.0.1:${port}`], port, data);
  await assert.rejects(srv.start(), /exited/);
  assert.notEqual(srv.exitCode, 0);
  assert.match(srv.stderr, /CV-5022: .*converting the old layout .* failed while reading vaults\/v_[A-Za-z0-9_-]+\.db/);
  assert.doesNotMatch(srv.stderr, /cvt1\./, 'no token in the error');
  assert.deepEqual(tree(data), before, 'old files untouched, nothing added');
  assert.ok(!existsSync(join(data, 'clavitor.db')));
});

test('missing old-layout pieces stop the start with CV-5022 instead of converting less: a vault file gone, node.db gone', async (t) => {
  const cases: [string, (data: string) => void, RegExp][] = [
    ['vault file removed', (data) => rmSync(join(data, 'vaults', `${expected.primary.vault_id}.db`)), /failed while reading vaults\/v_[A-Za-z0-9_-]+\.db: .*backlog or quarantine/],
    ['node.db removed', (data) => { for (const f of readdirSync(data)) if (f.startsWith('node.db')) rmSync(join(data, f)); }, /failed while reading node\.db: 1 vault file\(s\) under vaults\/ but no node\.db/],
  ];
  assert.ok(cases.length > 0);
  for (const [name, damage, message] of cases) {
    const tmp = tempDir();
    t.after(() => tmp.cleanup());
    const data = join(tmp.dir, 'data');
    copyFixture('primary', data);
    damage(data);
    const before = tree(data);
    const port = await freePort();
    const srv = new ServerProc('community', BIN.community, ['serve', '--data', data, '--listen', `127.0.0.1:${port}`], port, data);
    await assert.rejects(srv.start(), /exited/, name);
    assert.notEqual(srv.exitCode, 0, name);
    assert.match(srv.stderr, /CV-5022: /, name);
    assert.match(srv.stderr, message, name);
    assert.deepEqual(tree(data), before, `${name}: old files untouched, nothing added`);
    assert.ok(!existsSync(join(data, 'clavitor.db')), name);
  }
});

test('an offline command converts an old-layout directory and says so on stderr, as the server logs it', async (t) => {
  const tmp = tempDir();
  t.after(() => tmp.cleanup());
  const data = join(tmp.dir, 'data');
  copyFixture('demoted', data);
  const r = await runCommercial(['quarantine', 'list', '--data', data, '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /storage\.converted: data directory converted to one database \(clavitor\.db\): 1 vaults, \d+ revisions, .*kept in legacy-layout-\d{8}T\d{6}Z\//);
  assert.equal(JSON.parse(r.stdout).length, expected.demoted.quarantined);
  // Converted once: the next command has nothing to say about it.
  const again = await runCommercial(['quarantine', 'list', '--data', data, '--json']);
  assert.doesNotMatch(again.stderr, /storage\.converted/);
});
