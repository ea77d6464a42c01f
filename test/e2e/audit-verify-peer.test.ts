/**
 * `clavitor-cli audit verify` never reports a trail as checked against its peer when it was not
 * (found by a newcomer's try-out, issue 13 §3 follow-up; docs/cli.md "audit verify"):
 * - `--peer` naming the POP being verified is refused before the trail is read (CV-6033, exit 2):
 *   a POP keeps only the anchors its peer sent, so it held "0 anchors" and verify passed;
 * - a peer that holds no anchor of this POP for a vault whose trail has records is said loudly
 *   and exits 4 (CV-6034), the chain and the remembered anchor still being checked.
 * Real POP pair; the lost anchors are deleted from the backup's database while it is stopped,
 * as a restore from an old copy would leave it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { api, createVault, runningPair, tempDir, waitFor } from '../kit/pop.js';
import { runCli, type CliResult } from '../kit/cli.js';

test('audit verify refuses --peer naming the POP itself and fails loudly when the peer holds no anchors for a trail', async (t) => {
  const pair = await runningPair(t);
  const P = pair.primary.url;
  const B = pair.backup.url;
  const home = tempDir('clavitor-verify-peer-');
  t.after(() => home.cleanup());
  const v = await createVault(P, pair.primary.adminToken());
  const e = await api(P, 'POST', '/api/entries', { token: v.owner, body: { title: 'db', fields: [{ label: 'pw', value: 's3cret' }] } });
  assert.equal(e.status, 201);
  const cli = (...args: string[]): Promise<CliResult> => runCli(args, { env: { XDG_CONFIG_HOME: join(home.dir, 'cfg'), CLAVITOR_TOKEN: v.owner } });

  // The backup holds the primary's anchor of the newest record: the pair works as documented.
  const trail = (await api(P, 'GET', '/api/audit?limit=1000', { token: v.owner })).json.records as { id: number; hash: string }[];
  assert.ok(trail.length >= 2, `a trail on the primary (${trail.length} records)`);
  const newest = trail.at(-1)!;
  await waitFor('the backup keeps the anchor of the newest record', async () => {
    const r = await api(B, 'GET', '/api/audit/anchors', { token: v.owner });
    return r.status === 200 && (r.json.anchors as { pop_id: string; seq: number }[]).some((a) => a.pop_id === 'calgary-01' && a.seq === newest.id);
  });

  // 1. --peer is the POP being verified: refused, nothing checked, nothing remembered.
  const self = await cli('--server', P, 'audit', 'verify', '--peer', P);
  assert.equal(self.code, 2, self.stdout + self.stderr);
  assert.match(self.stderr, /CV-6033: --peer .* is the POP being verified/);
  assert.doesNotMatch(self.stdout + self.stderr, /intact|checked against/);
  const selfJson = await cli('--json', '--server', P, 'audit', 'verify', '--peer', `${P}/`);
  assert.equal(selfJson.code, 2);
  assert.equal(JSON.parse(selfJson.stdout).error.code, 'CV-6033');

  // The other POP, named or not, checks the trail against real anchors.
  const good = await cli('--server', P, 'audit', 'verify', '--peer', B);
  assert.equal(good.code, 0, good.stdout + good.stderr);
  assert.match(good.stderr, /checked against [1-9]\d* anchors kept by zurich-01/);

  // 2. The peer lost its anchors (restored from an old copy): verify says the trail was NOT checked.
  await pair.backup.kill('SIGTERM');
  const db = new Database(join(pair.backup.dataDir, 'clavitor.db'));
  const removed = db.prepare('DELETE FROM audit_anchors WHERE vault_id = ?').run(v.vaultId).changes;
  db.close();
  assert.ok(removed > 0, 'the backup held anchors of this vault');
  await pair.backup.start();
  const kept = await api(B, 'GET', '/api/audit/anchors', { token: v.owner });
  assert.equal(kept.status, 200);
  assert.deepEqual(kept.json.anchors, []);

  for (const args of [[], ['--peer', B]]) {
    const none = await cli('--server', P, 'audit', 'verify', ...args);
    assert.equal(none.code, 4, `${args.join(' ')}: ${none.stdout}${none.stderr}`);
    assert.match(none.stdout, /^audit chain intact: \d+ records\n$/, 'the chain itself is still checked');
    assert.match(none.stderr, /CV-6034: NOT checked against the peer: zurich-01 \(.*\) holds 0 anchors of calgary-01/);
    assert.doesNotMatch(none.stderr, /checked against 0 anchors/);
  }
  const json = JSON.parse((await cli('--json', '--server', P, 'audit', 'verify')).stdout);
  assert.equal(json.ok, true);
  assert.deepEqual([json.peer.checked, json.peer.anchors, json.peer.error], [false, 0, 'CV-6034']);
});
