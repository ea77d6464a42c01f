/**
 * Generates test/fixtures/legacy-layout/: data directories in the old layout (`node.db` plus one
 * `vaults/<id>.db` per vault), made by the real binaries of the commit that still wrote it, for
 * the conversion test (issue 12 item 1). Run once with `npm run build && node --import tsx
 * scripts/make-legacy-fixture.ts`; the output is committed, so this script needs the old build.
 *
 * - `primary/`: a commercial primary whose backup was never reachable (its whole log is backlog):
 *   owner, entries (one with a sealed field, one updated, one deleted), an agent with a scope, a
 *   revoked agent, audit records of reads and refusals.
 * - `demoted/`: a primary demoted to backup with two unacknowledged revisions in quarantine.
 */
import { cpSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import Database from 'better-sqlite3';
import { api, createVault, provisionPair, waitFor } from '../test/kit/pop.js';

const OUT = resolve(import.meta.dirname, '../test/fixtures/legacy-layout');
const sealed = `cs1.${randomBytes(60).toString('base64url')}`;

function checkpoint(dataDir: string): void {
  const files = [join(dataDir, 'node.db'), ...readdirSync(join(dataDir, 'vaults')).filter((f) => f.endsWith('.db')).map((f) => join(dataDir, 'vaults', f))];
  for (const f of files) {
    const db = new Database(f);
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
  }
}

async function main(): Promise<void> {
  rmSync(OUT, { recursive: true, force: true });
  const expected: Record<string, unknown> = {};

  // primary/: the backup is never started.
  {
    const pair = await provisionPair();
    await pair.primary.start(30000);
    const base = pair.primary.url;
    const { vaultId, owner } = await createVault(base, pair.primary.adminToken());
    const put = async (body: unknown) => (await api(base, 'POST', '/api/entries', { token: owner, body })).json;
    const e1 = await put({ type: 'credential', parent: null, title: 'mail', fields: [
      { label: 'user', kind: 'text', tier: 'agent', value: 'bob' },
      { label: 'password', kind: 'password', tier: 'owner', value: 'hunter2-owner' },
      { label: 'recovery', kind: 'text', tier: 'sealed', value: sealed },
    ] });
    const e2 = await put({ type: 'note', parent: null, title: 'notes', fields: [{ label: 'text', kind: 'text', tier: 'owner', value: 'note body' }] });
    const e3 = await put({ type: 'credential', parent: null, title: 'bank v1', fields: [{ label: 'pin', kind: 'text', tier: 'owner', value: '1111' }] });
    const e3v2 = (await api(base, 'PUT', `/api/entries/${e3.id}`, { token: owner, headers: { 'if-match': String(e3.version) }, body: { type: 'credential', parent: null, title: 'bank v2', fields: [{ label: 'pin', kind: 'text', tier: 'owner', value: '2222' }] } })).json;
    const e4 = await put({ type: 'note', parent: null, title: 'gone', fields: [] });
    const del = await api(base, 'DELETE', `/api/entries/${e4.id}`, { token: owner });
    if (del.status !== 204) throw new Error(`delete ${del.status}`);
    const agent = (await api(base, 'POST', '/api/agents', { token: owner, body: { name: 'deploy-bot', scopes: [e1.id] } })).json;
    const revoked = (await api(base, 'POST', '/api/agents', { token: owner, body: { name: 'old-bot', scopes: [e2.id] } })).json;
    if ((await api(base, 'DELETE', `/api/agents/${revoked.agent_id}`, { token: owner })).status !== 204) throw new Error('revoke');
    if ((await api(base, 'GET', `/api/entries/${e1.id}`, { token: agent.token })).status !== 200) throw new Error('agent read');
    if ((await api(base, 'GET', `/api/entries/${e2.id}`, { token: agent.token })).status !== 403) throw new Error('scope');
    await api(base, 'GET', '/api/entries', { token: owner });
    const st = await pair.primary.status();
    await pair.primary.kill('SIGTERM');
    checkpoint(pair.primary.dataDir);
    cpSync(pair.primary.dataDir, join(OUT, 'primary'), { recursive: true });
    expected.primary = {
      vault_id: vaultId, owner_token: owner, agent_token: agent.token, agent_id: agent.agent_id, revoked_agent_token: revoked.token, revoked_agent_id: revoked.agent_id,
      entries: { e1: e1.id, e2: e2.id, e3: e3.id, e4_deleted: e4.id }, e3_version: e3v2.version, sealed_value: sealed, backlog: st.replication.backlog, epoch: st.epoch,
    };
    await pair.stop();
  }

  // demoted/: replicated once, then two writes the backup never acknowledged, then demotion.
  {
    const pair = await provisionPair();
    await pair.backup.start();
    await pair.primary.start();
    const base = pair.primary.url;
    const { vaultId, owner } = await createVault(base, pair.primary.adminToken());
    const d1 = (await api(base, 'POST', '/api/entries', { token: owner, body: { type: 'note', parent: null, title: 'kept', fields: [{ label: 'text', kind: 'text', tier: 'owner', value: 'v1' }] } })).json;
    await waitFor('drained', async () => (await pair.primary.status()).replication.backlog === 0);
    await pair.backup.kill();
    await api(base, 'PUT', `/api/entries/${d1.id}`, { token: owner, headers: { 'if-match': String(d1.version) }, body: { type: 'note', parent: null, title: 'kept', fields: [{ label: 'text', kind: 'text', tier: 'owner', value: 'v2-unacked' }] } });
    const d2 = (await api(base, 'POST', '/api/entries', { token: owner, body: { type: 'note', parent: null, title: 'lost', fields: [{ label: 'text', kind: 'text', tier: 'owner', value: 'unacked' }] } })).json;
    await pair.primary.kill('SIGTERM');
    pair.writeConfig('primary', pair.yamlFor('primary', 'backup'));
    await pair.primary.start();
    const q = (await api(base, 'GET', '/api/quarantine', { token: owner })).json;
    await pair.primary.kill('SIGTERM');
    checkpoint(pair.primary.dataDir);
    cpSync(pair.primary.dataDir, join(OUT, 'demoted'), { recursive: true });
    expected.demoted = { vault_id: vaultId, owner_token: owner, entries: { d1: d1.id, d2_quarantined: d2.id }, quarantined: (q.quarantine as unknown[]).length };
    await pair.stop();
  }
  const commit = execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
  writeFileSync(join(OUT, 'expected.json'), JSON.stringify({ made_with_commit: commit, ...expected }, null, 2) + '\n');
  console.log(JSON.stringify(expected, null, 2));
}

await main();
