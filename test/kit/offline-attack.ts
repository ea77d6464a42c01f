/**
 * The offline attack of issue 14 item 3 (docs/security.md "What an agent token can decrypt"): a
 * token plus a copy of a POP's data directory, decrypted with the product's own crypto functions
 * (vault/crypto.ts, vault/tokens.ts) and the key layout the doc describes. Used by
 * test/e2e/agent-offline-attack.test.ts and test/integration/entry-keys.test.ts.
 */
import { copyFileSync, existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { hkdf, open } from '../../src/vault/crypto.js';
import { kekFor, parseToken, unwrapKeys } from '../../src/vault/tokens.js';

/** What an offline attacker opened with one token and one copy of a data directory. */
export interface Attack {
  /** Entry ids of the live entries whose newest revision it tried. */
  tried: string[];
  /** Entry id → the title it decrypted. */
  opened: Map<string, string>;
}

/** Copies `<dataDir>/clavitor.db` and its `-wal` to a fresh directory, as a thief would; returns the copy's path. */
export function copyDataDir(dataDir: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'clavitor-stolen-'));
  for (const f of ['clavitor.db', 'clavitor.db-wal']) if (existsSync(join(dataDir, f))) copyFileSync(join(dataDir, f), join(dir, f));
  return join(dir, 'clavitor.db');
}

/**
 * The offline attack: unwrap what the token's row holds, then for every live entry's newest
 * revision try to open its title with that material, with every 32-byte slice of it, with a key
 * derived from it for any agent id, and with every entry key any wrap (in the body or in any table)
 * yields to one of those.
 */
export function attack(dbFile: string, token: string): Attack {
  const t = parseToken(token)!;
  const db = new Database(dbFile);
  try {
    const row = db.prepare('SELECT wrapped, agent_id FROM tokens WHERE vault_id = ? AND token_id = ?').get(t.vaultId, t.tokenId) as { wrapped: string; agent_id: string };
    const material = unwrapKeys(kekFor(t.secret, t.tokenId), t.vaultId, t.tokenId, row.wrapped);
    const agentIds = (db.prepare("SELECT agent_id FROM tokens WHERE vault_id = ? AND kind = 'agent'").all(t.vaultId) as { agent_id: string }[]).map((r) => r.agent_id);
    const base: Buffer[] = [material];
    for (let i = 0; i + 32 <= material.length && material.length > 32; i += 32) base.push(material.subarray(i, i + 32));
    // A key derived from the material for any agent (docs/agents.md: agents created before key-enforced scopes).
    for (const k of [...base]) for (const a of agentIds) base.push(hkdf(k, a, `clavitor/v1/legacy-agent-key|${t.vaultId}`));
    const hasGrants = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'grants'").get() !== undefined;
    const heads = db.prepare('SELECT e.entry_id, r.seq, r.body FROM entries e JOIN revisions r ON r.vault_id = e.vault_id AND r.seq = e.head_seq WHERE e.vault_id = ? AND e.deleted = 0').all(t.vaultId) as { entry_id: string; seq: number; body: string }[];
    const out: Attack = { tried: [], opened: new Map() };
    for (const h of heads) {
      out.tried.push(h.entry_id);
      const body = JSON.parse(h.body) as { title: string; key_owner?: string; key_agents?: Record<string, string> };
      const wraps: { holder: string; wrap: string; seq: number }[] = [];
      if (body.key_owner) wraps.push({ holder: 'owner', wrap: body.key_owner, seq: h.seq });
      for (const [holder, wrap] of Object.entries(body.key_agents ?? {})) wraps.push({ holder, wrap, seq: h.seq });
      if (hasGrants) {
        for (const g of db.prepare('SELECT agent_id, seq, wrap FROM grants WHERE vault_id = ? AND entry_id = ?').all(t.vaultId, h.entry_id) as { agent_id: string; seq: number; wrap: string }[]) {
          wraps.push({ holder: g.agent_id, wrap: g.wrap, seq: g.seq });
        }
      }
      const keys = [...base];
      for (const k of base) {
        for (const w of wraps) {
          try {
            keys.push(open(k, w.wrap, `clavitor/v1|entry-key|${t.vaultId}|${h.entry_id}|${w.seq}|${w.holder}`));
          } catch { /* not this key */ }
        }
      }
      for (const k of keys) {
        try {
          out.opened.set(h.entry_id, open(k, body.title, `clavitor/v1|title|${t.vaultId}|${h.entry_id}|${h.seq}`).toString('utf8'));
          break;
        } catch { /* not this key */ }
      }
    }
    return out;
  } finally {
    db.close();
  }
}
