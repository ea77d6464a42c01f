/**
 * Issue 13 §3, the control plane's part: a real `clavitor-control` and a real POP pair with
 * heartbeats every second. Each heartbeat carries a digest of the POP's audit chain heads, which
 * the control plane keeps and shows (docs/control-plane.md "Status": records = sum of every
 * trail's newest id; digest = SHA-256 over `<vault_id> <id> <hash>\n` per vault in vault-id
 * order). When someone with the host's access cuts records off a trail in clavitor.db, the next
 * heartbeat reports fewer records and the control plane logs `control.audit_shrank`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { api, createVault, waitFor } from '../kit/pop.js';
import { pairUnderControl } from '../kit/pair.js';

test('heartbeats carry the audit digest; the control plane shows it and warns when a trail shrinks', async (t) => {
  const { pair, cp } = await pairUnderControl(t);
  await pair.backup.start();
  await pair.primary.start();

  const v = await createVault(pair.primary.url, pair.primary.adminToken());
  const e = await api(pair.primary.url, 'POST', '/api/entries', { token: v.owner, body: { title: 'x' } });
  assert.equal(e.status, 201);
  for (let i = 0; i < 4; i++) assert.equal((await api(pair.primary.url, 'GET', `/api/entries/${e.json.id}`, { token: v.owner })).status, 200);
  const records = (await api(pair.primary.url, 'GET', '/api/audit?limit=1000', { token: v.owner })).json.records as { id: number; hash: string }[];
  assert.ok(records.length >= 5);
  const newest = records.at(-1)!;
  const expected = {
    vaults: 1,
    records: newest.id,
    digest: createHash('sha256').update(`${v.vaultId} ${newest.id} ${newest.hash}\n`).digest('hex'),
  };
  const shown = await waitFor('the control plane shows the primary\'s audit digest', async () => {
    const s = await cp.status();
    const p = s.pops.find((x) => x.pop_id === 'calgary-01');
    return p?.audit && p.audit.records === expected.records ? p.audit : undefined;
  });
  assert.deepEqual(shown, expected);

  // The attacker cuts the newest two records off the trail, behind the process's back.
  const db = new Database(join(pair.primary.dataDir, 'clavitor.db'));
  db.pragma('busy_timeout = 5000');
  db.prepare('DELETE FROM audit WHERE vault_id = ? AND id > ?').run(v.vaultId, newest.id - 2);
  db.close();
  await waitFor('the control plane warns that the trail shrank', () => cp.logLines().some((l) =>
    l.event === 'control.audit_shrank' && l.pop === 'calgary-01' && l.records_before === expected.records && l.records_now === expected.records - 2));
  const after = (await cp.status()).pops.find((x) => x.pop_id === 'calgary-01')!;
  assert.equal(after.audit?.records, expected.records - 2);
  assert.notEqual(after.audit?.digest, expected.digest);
});
