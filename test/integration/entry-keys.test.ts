/**
 * Issue 14 item 3, migration: a vault written before key-enforced scopes keeps working after the
 * upgrade, and moves to entry keys lazily (docs/security.md "What an agent token can decrypt",
 * "Upgrading"): an entry keeps its shared-key revisions until the owner's next write of it, or
 * until an agent's scope change or revocation re-keys it; an agent created before keeps reading
 * its scope (its own key is derived from the shared agent-tier key it holds).
 *
 * The "before" state is written the way the code before issue 14 item 3 wrote it: revisions whose
 * title and agent-tier values are sealed under the shared agent-tier key, and an `agent.create`
 * whose token wraps that shared key (no `key_owner`), appended to a real data directory while
 * the server is stopped; then the current server is started on it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { newVault, startTestServer } from '../kit/in-process.js';
import { tempDir } from '../kit/pop.js';
import { attack, copyDataDir } from '../kit/offline-attack.js';
import { acquirePopDb, releasePopDb } from '../../src/store/pop-db.js';
import { openVaultStore } from '../../src/store/vault-store.js';
import { applyRevision } from '../../src/vault/apply.js';
import { seal } from '../../src/vault/crypto.js';
import { agentNameAad, fieldAad, titleAad } from '../../src/vault/aad.js';
import { kekFor, mintToken, parseToken, unwrapKeys, wrapKeys } from '../../src/vault/tokens.js';
import { newAgentId, newEntryId } from '../../src/lib/ids.js';
import type { Revision, RevisionKind } from '../../src/vault/revision.js';

/** Writes, as the code before issue 14 item 3 did, two entries and an agent scoped to the first; returns their ids and the agent's token. */
function writeLegacyVault(dataDir: string, ownerToken: string) {
  const t = parseToken(ownerToken)!;
  const pop = acquirePopDb(dataDir);
  try {
    const store = openVaultStore(pop, t.vaultId);
    const keys = unwrapKeys(kekFor(t.secret, t.tokenId), t.vaultId, t.tokenId, store.getToken(t.tokenId)!.wrapped);
    const [ownerKey, shared] = [keys.subarray(0, 32), keys.subarray(32)];
    const first = store.getRevision(1)!;
    const append = (kind: RevisionKind, subject: string, body: (seq: number) => unknown) => store.tx(() => {
      const seq = store.maxSeq() + 1;
      const rev: Revision = { vaultId: t.vaultId, seq, kind, subject, body: JSON.stringify(body(seq)), epoch: first.epoch, originPop: first.originPop, createdAt: new Date().toISOString() };
      applyRevision(store, rev);
    });
    const legacyEntry = (id: string, title: string, agentValue: string) => append('entry.put', id, (seq) => ({
      type: 'credential', parent: null, title: seal(shared, title, titleAad(t.vaultId, id, seq)),
      fields: [
        { label: 'pw', kind: 'password', tier: 'agent', value: seal(shared, agentValue, fieldAad(t.vaultId, id, 0, seq)) },
        { label: 'note', kind: 'text', tier: 'owner', value: seal(ownerKey, `${title}-owner-note`, fieldAad(t.vaultId, id, 1, seq)) },
      ],
    }));
    const inScope = newEntryId();
    const outside = newEntryId();
    legacyEntry(inScope, 'old-db', 'old-db-pw');
    legacyEntry(outside, 'old-bank', 'old-bank-pw');
    const agentId = newAgentId();
    const tok = mintToken(t.vaultId);
    append('agent.create', agentId, () => ({
      token_id: tok.tokenId, verifier: tok.verifier, wrapped: wrapKeys(tok.kek, t.vaultId, tok.tokenId, shared),
      name: seal(shared, 'old-agent', agentNameAad(t.vaultId, agentId)), scopes: [inScope],
    }));
    return { inScope, outside, agentId, agentToken: tok.text };
  } finally {
    releasePopDb(pop);
  }
}

test('a vault written before entry keys keeps working and moves to entry keys at the owner\'s writes, scope changes and revocations', async (t) => {
  const tmp = tempDir('clavitor-legacy-keys-');
  t.after(() => tmp.cleanup());
  const dataDir = join(tmp.dir, 'data');
  let s = await startTestServer({ dataDir });
  const { owner } = await newVault(s);
  await s.stop();
  const old = writeLegacyVault(dataDir, owner);
  s = await startTestServer({ dataDir });
  t.after(() => s.stop());
  const get = (id: string, token: string) => s.call('GET', `/api/entries/${id}`, { token });
  const pw = (r: { json: { fields: { label: string; value?: string }[] } }) => r.json.fields.find((f) => f.label === 'pw')!.value;

  // Before any write: the owner and the pre-upgrade agent read as before; the scope holds.
  assert.equal(pw(await get(old.inScope, owner)), 'old-db-pw');
  assert.equal((await get(old.outside, owner)).json.fields[1].value, 'old-bank-owner-note');
  assert.equal(pw(await get(old.inScope, old.agentToken)), 'old-db-pw');
  assert.equal((await get(old.outside, old.agentToken)).json.error.code, 'CV-2007');
  assert.equal((await s.call('GET', '/api/agents', { token: owner })).json.agents[0].name, 'old-agent');

  // The owner's write of an entry gives it an entry key; the pre-upgrade agent still reads it.
  const cur = await get(old.inScope, owner);
  const upd = await s.call('PUT', `/api/entries/${old.inScope}`, { token: owner, headers: { 'if-match': String(cur.json.version) }, body: { type: 'credential', parent: null, title: 'old-db', fields: [{ label: 'pw', kind: 'password', tier: 'agent', value: 'new-db-pw' }] } });
  assert.equal(upd.status, 200, JSON.stringify(upd.json));
  assert.equal(pw(await get(old.inScope, old.agentToken)), 'new-db-pw');
  // The old revision stays readable in the owner's history.
  const hist = await s.call('GET', `/api/entries/${old.inScope}/revisions`, { token: owner });
  assert.deepEqual(hist.json.revisions.filter((r: { kind: string }) => r.kind === 'entry.put').map((r: { entry: { fields: { value: string }[] } }) => r.entry.fields[0]!.value), ['old-db-pw', 'new-db-pw']);

  // A new agent scoped to the other pre-upgrade entry: that entry is re-keyed for it, and it reads it.
  const created = await s.call('POST', '/api/agents', { token: owner, body: { name: 'new-agent', scopes: [old.outside] } });
  assert.equal(created.status, 201, JSON.stringify(created.json));
  assert.equal(pw(await get(old.outside, created.json.token)), 'old-bank-pw');
  assert.equal((await get(old.inScope, created.json.token)).json.error.code, 'CV-2007');

  // Offline, with a copy of the data directory: the new agent's token opens its one entry only; the
  // pre-upgrade agent's opens its one entry only (the other's newest revision now has an entry key).
  const copy = copyDataDir(dataDir);
  t.after(() => rmSync(join(copy, '..'), { recursive: true, force: true }));
  const byNew = attack(copy, created.json.token);
  assert.deepEqual(byNew.tried.sort(), [old.inScope, old.outside].sort());
  assert.deepEqual([...byNew.opened.keys()], [old.outside]);
  assert.deepEqual([...attack(copy, old.agentToken).opened.keys()], [old.inScope]);

  // Revoking the pre-upgrade agent re-keys what it could read: offline, its token opens no newest revision.
  assert.equal((await s.call('DELETE', `/api/agents/${old.agentId}`, { token: owner })).status, 204);
  const copy2 = copyDataDir(dataDir);
  t.after(() => rmSync(join(copy2, '..'), { recursive: true, force: true }));
  const revoked = attack(copy2, old.agentToken);
  assert.equal(revoked.tried.length, 2);
  assert.deepEqual([...revoked.opened.keys()], []);
  assert.equal(pw(await get(old.outside, created.json.token)), 'old-bank-pw', 'the remaining agent still reads its entry');
});

test('folder scopes follow moves and deletions by keys: an entry brought under a scoped folder is readable, one taken out is re-keyed', async (t) => {
  const s = await startTestServer();
  t.after(() => s.stop());
  const { owner } = await newVault(s);
  const put = async (title: string, parent: string | null, type = 'credential') => {
    const r = await s.call('POST', '/api/entries', { token: owner, body: { type, parent, title, fields: type === 'folder' ? [] : [{ label: 'pw', kind: 'password', tier: 'agent', value: `${title}-pw` }] } });
    assert.equal(r.status, 201, JSON.stringify(r.json));
    return r.json.id as string;
  };
  const top = await put('top', null, 'folder');
  const sub = await put('sub', null, 'folder');
  const leaf = await put('leaf', sub);
  const agent = await s.call('POST', '/api/agents', { token: owner, body: { name: 'deployer', scopes: [], folders: [top] } });
  assert.equal(agent.status, 201, JSON.stringify(agent.json));
  const tok = agent.json.token as string;
  assert.equal((await s.call('GET', `/api/entries/${leaf}`, { token: tok })).json.error.code, 'CV-2007');

  // Move `sub` under `top`: `leaf` (not written itself) enters the agent's folder scope and opens for it.
  const subNow = await s.call('GET', `/api/entries/${sub}`, { token: owner });
  const moved = await s.call('PUT', `/api/entries/${sub}`, { token: owner, headers: { 'if-match': String(subNow.json.version) }, body: { type: 'folder', parent: top, title: 'sub', fields: [] } });
  assert.equal(moved.status, 200, JSON.stringify(moved.json));
  const read = await s.call('GET', `/api/entries/${leaf}`, { token: tok });
  assert.equal(read.status, 200, JSON.stringify(read.json));
  assert.equal(read.json.fields[0].value, 'leaf-pw');
  const listed = await s.call('GET', '/api/entries', { token: tok });
  assert.deepEqual(listed.json.entries.map((e: { id: string }) => e.id).sort(), [top, sub, leaf].sort());

  // Delete `sub`: `leaf` leaves the scope (a deleted folder links nothing above it) and is re-keyed:
  // offline, the agent's token no longer opens its newest revision.
  const subV = (await s.call('GET', `/api/entries/${sub}`, { token: owner })).json.version;
  assert.equal((await s.call('DELETE', `/api/entries/${sub}`, { token: owner, headers: { 'if-match': String(subV) } })).status, 204);
  assert.equal((await s.call('GET', `/api/entries/${leaf}`, { token: tok })).json.error.code, 'CV-2007');
  const copy = copyDataDir(s.dataDir);
  t.after(() => rmSync(join(copy, '..'), { recursive: true, force: true }));
  const a = attack(copy, tok);
  assert.deepEqual(a.tried.sort(), [top, leaf].sort());
  assert.deepEqual([...a.opened.keys()], [top]);
  const audit = await s.call('GET', '/api/audit?limit=1000', { token: owner });
  assert.ok(audit.json.records.some((r: { action: string; entry_id: string | null }) => r.action === 'entry.rekey' && r.entry_id === leaf), 'the re-key is audited');
});
