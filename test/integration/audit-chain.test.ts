/**
 * Issue 6 item 4: the audit trail is a hash chain that `clavitor-cli audit verify` recomputes.
 * Over a real SQLite vault file served by a real server, a record edited, deleted or moved (two
 * records swapped) in the file is detected, and the first broken record is named — through the
 * CLI's paging verifier (pages of 2, so the chain crosses page boundaries) and through the built
 * CLI binary (exit status 1).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { BIN } from '../kit/pop.js';
import { createClient } from '../../src/bin/cli/http.js';
import { verifyAudit } from '../../src/bin/cli/audit-cmd.js';
import { join } from 'node:path';
import { newEntry, newVault, startTestServer, type TestServer } from '../kit/in-process.js';

const run = promisify(execFile);

/** Runs the built CLI (asynchronously: the server runs in this process) and returns status and output. */
async function cli(s: TestServer, token: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [BIN.cli, ...args], { env: { ...process.env, CLAVITOR_URL: s.url, CLAVITOR_TOKEN: token, XDG_CONFIG_HOME: s.dataDir } });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}

/** A vault with at least 8 audit records (create, reads, an update). */
async function busyVault(s: TestServer): Promise<{ vaultId: string; owner: string }> {
  const v = await newVault(s);
  const id = await newEntry(s, v.owner, { title: 't', fields: [{ label: 'k', value: 'v' }] });
  for (let i = 0; i < 5; i++) await s.call('GET', `/api/entries/${id}`, { token: v.owner });
  await s.call('PUT', `/api/entries/${id}`, { token: v.owner, headers: { 'if-match': '"2"' }, body: { title: 't2' } });
  return v;
}

test('audit verify detects an edited, a deleted and a reordered record in the SQLite file', async (t) => {
  const s = await startTestServer();
  t.after(() => s.stop());
  const tamper = (vaultId: string, sql: string) => {
    // One database per POP (issue 12): the vault's audit rows are those with its vault_id.
    const db = new Database(join(s.dataDir, 'clavitor.db'));
    db.exec(sql.replace(/WHERE id = (\d+)/g, `WHERE vault_id = '${vaultId}' AND id = $1`));
    db.close();
  };
  const verify = (owner: string) => verifyAudit(createClient(s.url, owner), 2);

  const edited = await busyVault(s);
  const intact = await verify(edited.owner);
  assert.equal(intact.ok, true);
  assert.ok(intact.records >= 8);
  const ok = await cli(s, edited.owner, ['audit', 'verify']);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /^audit chain intact: \d+ records\n$/);

  tamper(edited.vaultId, "UPDATE audit SET outcome = 'denied' WHERE id = 4");
  assert.deepEqual((await verify(edited.owner)).first_broken, { id: 4, reason: 'hash' });
  const bad = await cli(s, edited.owner, ['audit', 'verify']);
  assert.equal(bad.code, 1);
  assert.match(bad.stdout, /broken at record 4: its contents no longer match its hash \(the record was edited\)/);
  const badJson = await cli(s, edited.owner, ['--json', 'audit', 'verify']);
  assert.deepEqual(JSON.parse(badJson.stdout).first_broken, { id: 4, reason: 'hash' });

  const deleted = await busyVault(s);
  tamper(deleted.vaultId, 'DELETE FROM audit WHERE id = 3');
  assert.deepEqual((await verify(deleted.owner)).first_broken, { id: 4, reason: 'link' });
  const del = await cli(s, deleted.owner, ['audit', 'verify']);
  assert.equal(del.code, 1);
  assert.match(del.stdout, /broken at record 4: it does not link to the record before it/);

  const reordered = await busyVault(s);
  tamper(reordered.vaultId, `
    CREATE TEMP TABLE a5 AS SELECT * FROM audit WHERE id = 5;
    UPDATE audit SET (at, actor, action, entry_id, outcome, code, ip, prev_hash, hash) =
      (SELECT at, actor, action, entry_id, outcome, code, ip, prev_hash, hash FROM audit WHERE id = 6) WHERE id = 5;
    UPDATE audit SET (at, actor, action, entry_id, outcome, code, ip, prev_hash, hash) =
      (SELECT at, actor, action, entry_id, outcome, code, ip, prev_hash, hash FROM a5) WHERE id = 6;`);
  assert.deepEqual((await verify(reordered.owner)).first_broken, { id: 5, reason: 'link' });
  assert.equal((await cli(s, reordered.owner, ['audit', 'verify'])).code, 1);

  // Records appended after the tampering do not hide it.
  await s.call('GET', '/api/entries', { token: edited.owner });
  assert.deepEqual((await verify(edited.owner)).first_broken, { id: 4, reason: 'hash' });
});
