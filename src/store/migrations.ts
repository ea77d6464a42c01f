/**
 * Schema migrations, one array per database kind; index i moves `user_version` from i to i+1.
 * Never edit a shipped step: append a new one.
 */
import type { Migration } from './sqlite.js';

/**
 * Node database (`<data>/node.db`): what belongs to the POP rather than a vault — epoch and role
 * facts (`meta`), the list of vaults, the replication backlog (DESIGN.md §4.4.2) and quarantine.
 */
export const NODE_MIGRATIONS: readonly Migration[] = [
  `CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
   CREATE TABLE vaults (vault_id TEXT PRIMARY KEY, created_at TEXT NOT NULL);
   CREATE TABLE backlog (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     vault_id TEXT NOT NULL,
     seq INTEGER NOT NULL,
     queued_at_ms INTEGER NOT NULL,
     UNIQUE (vault_id, seq)
   );
   CREATE TABLE quarantine (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     vault_id TEXT NOT NULL,
     seq INTEGER NOT NULL,
     kind TEXT NOT NULL,
     subject TEXT,
     epoch INTEGER NOT NULL,
     revision TEXT NOT NULL,
     reason TEXT NOT NULL,
     quarantined_at TEXT NOT NULL
   );`,
  // 2 (issue 11 item 8): a quarantined revision that the successor turns out to hold
  // byte-identically (its acknowledgement was lost, or the backup received it before the cut) is
  // marked, not listed to the owner as lost: `held_at` is when this POP received it back from its
  // primary. Owner reads filter by vault.
  `ALTER TABLE quarantine ADD COLUMN held_at TEXT;
   CREATE INDEX quarantine_vault ON quarantine (vault_id, seq);`,
];

/**
 * Vault database (`<data>/vaults/<vault_id>.db`): the append-only revision log and the state
 * derived from it (entries, tokens), plus the local audit trail (never replicated).
 */
export const VAULT_MIGRATIONS: readonly Migration[] = [
  `CREATE TABLE revisions (
     seq INTEGER PRIMARY KEY,
     kind TEXT NOT NULL,
     subject TEXT,
     body TEXT NOT NULL,
     epoch INTEGER NOT NULL,
     origin_pop TEXT NOT NULL,
     created_at TEXT NOT NULL
   );
   CREATE TABLE entries (
     entry_id TEXT PRIMARY KEY,
     head_seq INTEGER NOT NULL,
     created_seq INTEGER NOT NULL,
     deleted INTEGER NOT NULL DEFAULT 0
   );
   CREATE TABLE tokens (
     token_id TEXT PRIMARY KEY,
     kind TEXT NOT NULL CHECK (kind IN ('owner','agent')),
     agent_id TEXT UNIQUE,
     verifier TEXT NOT NULL,
     wrapped TEXT NOT NULL,
     scopes TEXT NOT NULL DEFAULT '[]',
     name TEXT,
     revoked INTEGER NOT NULL DEFAULT 0,
     created_seq INTEGER NOT NULL
   );
   CREATE TABLE audit (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     at TEXT NOT NULL,
     actor TEXT NOT NULL,
     action TEXT NOT NULL,
     entry_id TEXT,
     outcome TEXT NOT NULL,
     code TEXT,
     ip TEXT,
     prev_hash TEXT NOT NULL,
     hash TEXT NOT NULL
   );`,
  // 2 (issue 6 items 3 and 7): agent lockdown and per-agent rate limits, derived from the
  // `agent.lock` / `agent.unlock` revisions and the `limits` of `agent.create`. NULL limits mean
  // the defaults (3 distinct entries per minute, 10 per hour).
  `ALTER TABLE tokens ADD COLUMN locked INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE tokens ADD COLUMN per_minute INTEGER;
   ALTER TABLE tokens ADD COLUMN per_hour INTEGER;`,
];
