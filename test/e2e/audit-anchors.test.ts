/**
 * Issue 13 §3: the audit chain is anchored outside the host that writes it. An attacker with the
 * host's access opens clavitor.db directly (better-sqlite3, as root would) and rewrites the trail
 * so that the chain alone still verifies: edits one record and re-hashes the chain after it,
 * deletes one record and re-numbers and re-hashes the rest, or cuts off the newest records. Each
 * is detected by `clavitor-cli audit verify` twice over, independently: against the anchors the
 * peer POP kept (`--peer`, nothing remembered) and against the anchor the CLI remembered at its
 * previous verify (`--no-peer`). An untouched trail still verifies intact; both directions
 * (primary → backup and backup → primary) are anchored.
 *
 * Expected codes from docs/errors.md: CV-6020 (an anchored record is gone), CV-6021 (an anchored
 * record hashes differently); exit status 1 (docs/cli.md "Exit statuses").
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { api, createVault, runningPair, tempDir, waitFor, type Pair } from '../kit/pop.js';
import { runCli, type CliResult } from '../kit/cli.js';
import { auditHash } from '../../src/vault/audit.js';
import { createClient } from '../../src/bin/cli/http.js';
import { verifyAudit } from '../../src/bin/cli/audit-cmd.js';

type Rec = { id: number; at: string; actor: string; action: string; entry_id: string | null; outcome: string; code: string | null; ip: string | null; prev_hash: string; hash: string };

/** A vault with an entry (created on the primary) read 6 times on `readAt`: a trail of at least 6 records there. */
async function vaultWithTrail(pair: Pair, readAt: string): Promise<{ vaultId: string; owner: string; entryId: string }> {
  const v = await createVault(pair.primary.url, pair.primary.adminToken());
  const e = await api(pair.primary.url, 'POST', '/api/entries', { token: v.owner, body: { title: 'db', fields: [{ label: 'pw', value: 's3cret' }] } });
  assert.equal(e.status, 201);
  await waitFor('the entry reaches the backup', async () => (await api(pair.backup.url, 'GET', `/api/entries/${e.json.id}`, { token: v.owner })).status === 200);
  for (let i = 0; i < 6; i++) assert.equal((await api(readAt, 'GET', `/api/entries/${e.json.id}`, { token: v.owner })).status, 200);
  return { ...v, entryId: e.json.id as string };
}

/** Every audit record of the vault on `base`, in order. */
async function trail(base: string, owner: string): Promise<Rec[]> {
  const r = await api(base, 'GET', '/api/audit?limit=1000', { token: owner });
  assert.equal(r.status, 200);
  return r.json.records as Rec[];
}

/** Waits until `keeper` holds an anchor from `popId` at the newest record of the trail on `writer`. */
async function anchoredAt(writer: string, keeper: string, popId: string, owner: string): Promise<Rec> {
  const recs = await trail(writer, owner);
  assert.ok(recs.length >= 6, `a trail to anchor (${recs.length} records)`);
  const newest = recs.at(-1)!;
  await waitFor(`${keeper} keeps the anchor of record ${newest.id}`, async () => {
    const r = await api(keeper, 'GET', '/api/audit/anchors', { token: owner });
    return r.status === 200 && (r.json.anchors as { pop_id: string; seq: number; hash: string }[]).some((a) => a.pop_id === popId && a.seq === newest.id && a.hash === newest.hash);
  });
  return newest;
}

/**
 * The attacker: rewrites the vault's trail in `dataDir`/clavitor.db with `change` (on the rows in
 * id order) and re-hashes the whole chain, so that it verifies as a chain again.
 */
function rewrite(dataDir: string, vaultId: string, change: (rows: Rec[]) => Rec[]): void {
  const db = new Database(join(dataDir, 'clavitor.db'));
  try {
    db.pragma('busy_timeout = 5000');
    db.transaction(() => {
      const rows = db.prepare('SELECT id, at, actor, action, entry_id, outcome, code, ip, prev_hash, hash FROM audit WHERE vault_id = ? ORDER BY id').all(vaultId) as Rec[];
      const next = change(rows);
      db.prepare('DELETE FROM audit WHERE vault_id = ?').run(vaultId);
      const ins = db.prepare('INSERT INTO audit (vault_id, id, at, actor, action, entry_id, outcome, code, ip, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
      let prev = '0'.repeat(64);
      next.forEach((r, i) => {
        const hash = auditHash(prev, { at: r.at, actor: r.actor, action: r.action, entryId: r.entry_id, outcome: r.outcome as 'ok' | 'denied', code: r.code, ip: r.ip });
        ins.run(vaultId, i + 1, r.at, r.actor, r.action, r.entry_id, r.outcome, r.code, r.ip, prev, hash);
        prev = hash;
      });
    })();
  } finally {
    db.close();
  }
}

test('a trail rewritten or cut on its host is detected against the peer\'s anchors and the CLI\'s remembered anchor', async (t) => {
  const pair = await runningPair(t);
  const P = pair.primary.url;
  const B = pair.backup.url;
  const homes = tempDir('clavitor-anchor-cli-');
  t.after(() => homes.cleanup());
  /** The CLI as the owner, with its own config directory `home` (its remembered anchors). */
  const cli = (home: string, owner: string, ...args: string[]): Promise<CliResult> =>
    runCli(args, { env: { XDG_CONFIG_HOME: join(homes.dir, home), CLAVITOR_TOKEN: owner } });

  const cases = {
    untouched: await vaultWithTrail(pair, P),
    edited: await vaultWithTrail(pair, P),
    deleted: await vaultWithTrail(pair, P),
    cut: await vaultWithTrail(pair, P),
    cutOnBackup: await vaultWithTrail(pair, B),
  };
  for (const [name, v] of Object.entries(cases)) {
    const [writer, keeper, writerId] = name === 'cutOnBackup' ? [B, P, 'zurich-01'] : [P, B, 'calgary-01'];
    await anchoredAt(writer, keeper, writerId, v.owner);
    // The owner verifies once: intact, checked against the peer (named by the POP itself), remembered.
    const first = await cli(name, v.owner, '--server', writer, 'audit', 'verify');
    assert.equal(first.code, 0, `${name}: ${first.stdout}${first.stderr}`);
    assert.match(first.stdout, /^audit chain intact: \d+ records\n$/);
    assert.match(first.stderr, new RegExp(`checked against [1-9]\\d* anchors kept by ${writerId === 'calgary-01' ? 'zurich-01' : 'calgary-01'}`));
  }

  // The attacker, with the hosts' access.
  rewrite(pair.primary.dataDir, cases.edited.vaultId, (rows) => rows.map((r) => (r.id === 3 ? { ...r, ip: '203.0.113.9' } : r)));
  rewrite(pair.primary.dataDir, cases.deleted.vaultId, (rows) => rows.filter((r) => r.id !== 4));
  rewrite(pair.primary.dataDir, cases.cut.vaultId, (rows) => rows.slice(0, rows.length - 3));
  rewrite(pair.backup.dataDir, cases.cutOnBackup.vaultId, (rows) => rows.slice(0, rows.length - 2));

  const expected: Record<string, { server: string; peer: string; code: RegExp }> = {
    edited: { server: P, peer: B, code: /CV-6021/ },
    deleted: { server: P, peer: B, code: /CV-6020|CV-6021/ },
    cut: { server: P, peer: B, code: /CV-6020/ },
    cutOnBackup: { server: B, peer: P, code: /CV-6020/ },
  };
  for (const [name, e] of Object.entries(expected)) {
    const v = cases[name as keyof typeof cases];
    // The chain alone no longer tells: the attacker re-hashed it.
    const chain = await verifyAudit(createClient(e.server, v.owner));
    assert.equal(chain.ok, true, `${name}: the re-hashed chain verifies as a chain`);
    // 1. Against the peer's anchors only (a fresh config directory: nothing remembered).
    const byPeer = await cli(`${name}-fresh`, v.owner, '--server', e.server, 'audit', 'verify', '--peer', e.peer);
    assert.equal(byPeer.code, 1, `${name} by peer: ${byPeer.stdout}${byPeer.stderr}`);
    assert.match(byPeer.stdout, /contradicts the peer (calgary|zurich)-01 anchor/);
    assert.match(byPeer.stdout, e.code);
    assert.doesNotMatch(byPeer.stdout, /intact/);
    // 2. Against the remembered anchor only.
    const byMemory = await cli(name, v.owner, '--server', e.server, 'audit', 'verify', '--no-peer');
    assert.equal(byMemory.code, 1, `${name} by memory: ${byMemory.stdout}${byMemory.stderr}`);
    assert.match(byMemory.stdout, /contradicts the remembered/);
    assert.match(byMemory.stdout, e.code);
    // 3. JSON names the code of every problem (once: each CLI run costs a process start).
    if (name !== 'edited') continue;
    const json = JSON.parse((await cli(name, v.owner, '--json', '--server', e.server, 'audit', 'verify')).stdout);
    assert.equal(json.ok, false);
    assert.ok(json.anchor_problems.length >= 2, `${name}: both anchors contradicted`);
    assert.ok(json.anchor_problems.every((p: { code: string }) => e.code.test(p.code)));
  }

  // A failed verify remembers nothing new: the next one still fails, even after new records.
  const again = cases.cut;
  const e2 = await api(P, 'GET', `/api/entries/${again.entryId}`, { token: again.owner });
  assert.equal(e2.status, 200);
  assert.equal((await cli('cut', again.owner, '--server', P, 'audit', 'verify', '--no-peer')).code, 1);

  // The untouched trail still verifies intact against both.
  const ok = await cli('untouched', cases.untouched.owner, '--server', P, 'audit', 'verify', '--peer', B);
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  assert.match(ok.stdout, /^audit chain intact: \d+ records\n$/);
  assert.match(ok.stderr, /remembered from/);

  // The peer said so in its log too, for the anchors sent after the rewrite (newer records):
  // the cut trail's next anchor is below the one kept (CV-5052 on the backup).
  // The route is a replication route: the replication token, and only from the peer (docs/errors.md).
  const token = readFileSync(pair.keyFile, 'utf8').split('\n')[0]!.trim();
  const anchor = { vault_id: cases.untouched.vaultId, seq: 1, hash: 'f'.repeat(64) };
  const noToken = await api(B, 'POST', '/replication/v1/anchors', { body: { sender: 'calgary-01', anchors: [anchor] } });
  assert.equal(noToken.status, 401);
  const notPeer = await api(B, 'POST', '/replication/v1/anchors', { token, body: { sender: 'oslo-01', anchors: [anchor] } });
  assert.deepEqual([notPeer.status, notPeer.json.error.code], [403, 'CV-5050']);
  const itself = await api(B, 'POST', '/replication/v1/anchors', { token, body: { sender: 'zurich-01', anchors: [anchor] } });
  assert.deepEqual([itself.status, itself.json.error.code], [403, 'CV-5050']);
  const malformed = await api(B, 'POST', '/replication/v1/anchors', { token, body: { sender: 'calgary-01', anchors: [{ ...anchor, hash: 'x' }] } });
  assert.deepEqual([malformed.status, malformed.json.error.code], [400, 'CV-5051']);
  const kept = (await api(B, 'GET', '/api/audit/anchors', { token: cases.untouched.owner })).json;
  assert.ok(!kept.anchors.some((a: { hash: string }) => a.hash === anchor.hash), 'no refused anchor was kept');
  assert.equal(kept.pop_id, 'zurich-01');
  assert.deepEqual(kept.peer, { pop_id: 'calgary-01', url: P });

  await waitFor('the backup logs the contradicting anchor', () => pair.backup.logLines().some((l) => l.event === 'audit.anchor_conflict' && l.code === 'CV-5052' && l.vault_id === again.vaultId));
});
