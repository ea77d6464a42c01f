/**
 * Issue 14 item 3, "Done when: the offline attack test passes; scope changes and revocations
 * re-key": an agent token plus a copy of the data directory (`clavitor.db` and its `-wal`) must
 * open, offline, nothing outside the agent's scope at the moment of the copy: not entries outside
 * its scope, not entries taken out of it by a narrowing, nothing after its revocation, and nothing
 * written later. The attacker uses only the product's own crypto functions (vault/crypto.ts,
 * vault/tokens.ts) and the key layout docs/security.md describes ("What an agent token can
 * decrypt": entry keys sealed under the owner key and each agent's own key, AAD
 * `clavitor/v1|entry-key|<vault>|<entry>|<seq>|<holder>`), and tries every wrap it finds.
 *
 * Real POP pair (two clavitor-commercial processes). The remaining agent reads the re-keyed
 * entries on the backup, which shows the backup applied the re-key revisions it was shipped.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { api, createVault, runningPair, waitFor } from '../kit/pop.js';
import { attack, copyDataDir } from '../kit/offline-attack.js';

test('an agent token and a copy of the data directory open nothing outside the scope at the time of the copy; narrowing and revocation re-key', async (t) => {
  const pair = await runningPair(t);
  const P = pair.primary.url;
  const B = pair.backup.url;
  const { owner } = await createVault(P, readFileSync(join(pair.primary.dataDir, 'admin.token'), 'utf8').trim());
  const put = async (title: string, tags: string[] = []) => {
    const r = await api(P, 'POST', '/api/entries', { token: owner, body: { type: 'credential', parent: null, title, tags, fields: [{ label: 'pw', value: `${title}-secret`, kind: 'password', tier: 'agent' }] } });
    assert.equal(r.status, 201, JSON.stringify(r.json));
    return r.json.id as string;
  };
  const named = await put('named');
  const shared = await put('shared', ['ci']);
  const outside = await put('outside', ['finance']);
  const mkAgent = async (name: string, body: Record<string, unknown>) => {
    const r = await api(P, 'POST', '/api/agents', { token: owner, body: { name, ...body } });
    assert.equal(r.status, 201, JSON.stringify(r.json));
    return { id: r.json.agent_id as string, token: r.json.token as string };
  };
  const attacker = await mkAgent('attacker', { scopes: [named], tags: ['ci'] });
  const remaining = await mkAgent('remaining', { scopes: [], tags: ['ci'] });
  const copies: string[] = [];
  t.after(() => {
    for (const c of copies) rmSync(join(c, '..'), { recursive: true, force: true });
  });
  const stolen = (dataDir: string) => {
    const c = copyDataDir(dataDir);
    copies.push(c);
    return c;
  };

  // 1. In scope: the attacker's token opens its two entries offline (so this test can fail), never the third.
  const before = attack(stolen(pair.primary.dataDir), attacker.token);
  assert.deepEqual(before.tried.sort(), [named, shared, outside].sort());
  assert.equal(before.opened.get(named), 'named');
  assert.equal(before.opened.get(shared), 'shared');
  assert.equal(before.opened.has(outside), false, 'an entry outside the scope opened offline');

  // 2. Narrow: only the tag remains. The named entry is re-keyed; offline, it no longer opens.
  const narrowed = await api(P, 'PATCH', `/api/agents/${attacker.id}`, { token: owner, body: { scopes: [] } });
  assert.equal(narrowed.status, 200, JSON.stringify(narrowed.json));
  const afterNarrow = attack(stolen(pair.primary.dataDir), attacker.token);
  assert.deepEqual(afterNarrow.tried.sort(), [named, shared, outside].sort());
  assert.deepEqual([...afterNarrow.opened.keys()], [shared], 'after narrowing, only the entry still in scope opens');
  const online = await api(P, 'GET', `/api/entries/${named}`, { token: attacker.token });
  assert.deepEqual([online.status, online.json.error?.code], [403, 'CV-2007']);

  // 3. Revoke, then write a new entry the revoked agent's old scope would cover.
  assert.equal((await api(P, 'DELETE', `/api/agents/${attacker.id}`, { token: owner })).status, 204);
  const later = await put('later', ['ci']);
  const afterRevoke = attack(stolen(pair.primary.dataDir), attacker.token);
  assert.deepEqual(afterRevoke.tried.sort(), [named, shared, outside, later].sort());
  assert.deepEqual([...afterRevoke.opened.keys()], [], 'after revocation, nothing opens');

  // 4. The backup applied the re-key revisions: the remaining agent reads the re-keyed and the new
  //    entry there, at the primary's versions, and the backup's copy opens nothing for the attacker either.
  const heads = new Map<string, number>();
  for (const id of [shared, later]) heads.set(id, (await api(P, 'GET', `/api/entries/${id}`, { token: owner })).json.version as number);
  for (const id of [shared, later]) {
    const r = await waitFor(`the remaining agent reads ${id} on the backup at the primary's version`, async () => {
      const x = await api(B, 'GET', `/api/entries/${id}`, { token: remaining.token });
      return x.status === 200 && x.json.version === heads.get(id) ? x : undefined;
    });
    assert.equal(r.json.fields[0].value, `${r.json.title}-secret`);
  }
  const onBackup = attack(stolen(pair.backup.dataDir), attacker.token);
  assert.deepEqual(onBackup.tried.sort(), [named, shared, outside, later].sort());
  assert.deepEqual([...onBackup.opened.keys()], [], 'the backup copy opens nothing after revocation');
  // The remaining agent's own token, offline, opens exactly its scope.
  const rem = attack(stolen(pair.backup.dataDir), remaining.token);
  assert.deepEqual([...rem.opened.keys()].sort(), [shared, later].sort());
});
