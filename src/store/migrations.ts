/**
 * Schema migrations of the POP database `<data>/clavitor.db` (issue 12 item 1); index i moves
 * `user_version` from i to i+1. Never edit a shipped step: append a new one.
 *
 * One database per POP holds what the old layout spread over `node.db` and one
 * `vaults/<vault_id>.db` per vault: so that one transaction (one fsync) can commit writes to many
 * vaults (group commit, a whole replication push), and so that start-up, positions, resync and
 * `verify` read one index instead of opening every vault file. Vaults stay cryptographically
 * separate (own keys, AAD binds vault, entry, field and revision); every vault table carries
 * `vault_id` first in its key.
 */
import type { Migration } from './sqlite.js';

/** Migrations of `<data>/clavitor.db`. */
export const POP_MIGRATIONS: readonly Migration[] = [
  `-- POP facts: epoch, seen epoch, last role, push counters, holds, directives.
   CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
   -- A vault exists on this POP from its first revision (vault.create) on.
   CREATE TABLE vaults (vault_id TEXT PRIMARY KEY, created_at TEXT NOT NULL);
   -- The revision log of every vault. lsn: POP-wide log position, assigned in commit order on
   -- this POP and never reused (AUTOINCREMENT); seq: the per-vault, gap-free entry version.
   CREATE TABLE revisions (
     lsn INTEGER PRIMARY KEY AUTOINCREMENT,
     vault_id TEXT NOT NULL,
     seq INTEGER NOT NULL,
     kind TEXT NOT NULL,
     subject TEXT,
     body TEXT NOT NULL,
     epoch INTEGER NOT NULL,
     origin_pop TEXT NOT NULL,
     created_at TEXT NOT NULL,
     UNIQUE (vault_id, seq)
   );
   CREATE INDEX revisions_subject ON revisions (vault_id, subject, seq);
   -- Derived state (src/vault/apply.ts): entries and tokens, per vault.
   CREATE TABLE entries (
     vault_id TEXT NOT NULL,
     entry_id TEXT NOT NULL,
     head_seq INTEGER NOT NULL,
     created_seq INTEGER NOT NULL,
     deleted INTEGER NOT NULL DEFAULT 0,
     PRIMARY KEY (vault_id, entry_id)
   );
   CREATE INDEX entries_live ON entries (vault_id, deleted, created_seq);
   CREATE TABLE tokens (
     vault_id TEXT NOT NULL,
     token_id TEXT NOT NULL,
     kind TEXT NOT NULL CHECK (kind IN ('owner','agent')),
     agent_id TEXT,
     verifier TEXT NOT NULL,
     wrapped TEXT NOT NULL,
     scopes TEXT NOT NULL DEFAULT '[]',
     name TEXT,
     revoked INTEGER NOT NULL DEFAULT 0,
     created_seq INTEGER NOT NULL,
     locked INTEGER NOT NULL DEFAULT 0,
     per_minute INTEGER,
     per_hour INTEGER,
     PRIMARY KEY (vault_id, token_id),
     UNIQUE (vault_id, agent_id)
   );
   -- The local audit trail of every vault (never replicated); each vault's records form their
   -- own hash chain in id order, ids numbered per vault from 1 as in the old layout's vault files.
   CREATE TABLE audit (
     vault_id TEXT NOT NULL,
     id INTEGER NOT NULL,
     at TEXT NOT NULL,
     actor TEXT NOT NULL,
     action TEXT NOT NULL,
     entry_id TEXT,
     outcome TEXT NOT NULL,
     code TEXT,
     ip TEXT,
     prev_hash TEXT NOT NULL,
     hash TEXT NOT NULL,
     PRIMARY KEY (vault_id, id)
   ) WITHOUT ROWID;
   -- The replication backlog of a primary (DESIGN.md §4.4.2): written in the revision's own
   -- transaction.
   CREATE TABLE backlog (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     vault_id TEXT NOT NULL,
     seq INTEGER NOT NULL,
     queued_at_ms INTEGER NOT NULL,
     UNIQUE (vault_id, seq)
   );
   -- Revisions set aside at demotion (DESIGN.md §4.4.7); held_at: the successor turned out to hold it.
   CREATE TABLE quarantine (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     vault_id TEXT NOT NULL,
     seq INTEGER NOT NULL,
     kind TEXT NOT NULL,
     subject TEXT,
     epoch INTEGER NOT NULL,
     revision TEXT NOT NULL,
     reason TEXT NOT NULL,
     quarantined_at TEXT NOT NULL,
     held_at TEXT
   );
   CREATE INDEX quarantine_vault ON quarantine (vault_id, seq);`,
  `-- Issue 14 item 2: an agent's scope also names folders (an entry's parent chain) and tags, and a
   -- token may expire. Derived from agent.create / agent.update revisions (src/vault/apply.ts).
   -- expires_at: ISO-8601 UTC date after which the token is refused; ttl_seconds: the TTL it
   -- was given as, when it was (the POP also counts it down on its monotonic clock).
   ALTER TABLE tokens ADD COLUMN folders TEXT NOT NULL DEFAULT '[]';
   ALTER TABLE tokens ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';
   ALTER TABLE tokens ADD COLUMN expires_at TEXT;
   ALTER TABLE tokens ADD COLUMN ttl_seconds INTEGER;`,
  `-- Audit anchors (issue 13 §3; docs/security.md "Audit trail"). An anchor is (pop_id, vault_id,
   -- seq, hash): the newest record of a vault's audit chain on the POP pop_id, as that POP sent it.
   -- Anchors this POP received from its peer, kept so the owner can check the peer's trail against
   -- them: the newest per (pop, vault) and a thinned history of earlier ones.
   CREATE TABLE audit_anchors (
     pop_id TEXT NOT NULL,
     vault_id TEXT NOT NULL,
     seq INTEGER NOT NULL,
     hash TEXT NOT NULL,
     received_at TEXT NOT NULL,
     PRIMARY KEY (pop_id, vault_id, seq)
   ) WITHOUT ROWID;
   -- This POP's own chain heads its peer acknowledged: what was last sent, so that only changed
   -- anchors are sent again (an idle pair sends nothing).
   CREATE TABLE audit_anchors_sent (
     vault_id TEXT PRIMARY KEY,
     seq INTEGER NOT NULL,
     hash TEXT NOT NULL
   ) WITHOUT ROWID;`,
  `-- Issue 12 item 3: one ordered stream. Where each epoch's log began (DESIGN.md §4.4.2):
   -- start_lsn is the first log position of the epoch (the primary's last lsn + 1 when it took the
   -- epoch); pop_id the POP that took it. A backup stores its primary's history (learnt from pushes),
   -- so that a rejoining POP finds where its log left its new primary's (log-matching rule).
   -- The backlog table is no longer written: what the backup has not acknowledged is the log past
   -- meta 'acked_lsn' (node-store.ts converts rows left in it at the first open).
   CREATE TABLE epoch_history (epoch INTEGER PRIMARY KEY, start_lsn INTEGER NOT NULL, pop_id TEXT NOT NULL);`,
  `-- Issue 14 item 3: scopes enforced by keys (docs/security.md "What an agent token can decrypt").
   -- grants: derived from entry.put bodies (key_agents) and agent.create / agent.update bodies
   -- (grants): agent agent_id can unwrap, with its own agent key, the entry key of revision seq of
   -- entry_id (wrap: that entry key sealed under the agent key). Only the newest row per (entry,
   -- agent) is kept; a row whose seq is not the entry's head opens nothing current.
   CREATE TABLE grants (
     vault_id TEXT NOT NULL,
     entry_id TEXT NOT NULL,
     agent_id TEXT NOT NULL,
     seq INTEGER NOT NULL,
     wrap TEXT NOT NULL,
     PRIMARY KEY (vault_id, entry_id, agent_id)
   ) WITHOUT ROWID;
   CREATE INDEX grants_agent ON grants (vault_id, agent_id);
   -- key_owner: the agent's own key wrapped under the vault's owner key (agent.create body); NULL
   -- for an agent created before issue 14 item 3, whose token unwraps the shared agent-tier key.
   ALTER TABLE tokens ADD COLUMN key_owner TEXT;`,
  `-- The backlog's size (status, /metrics, drain: node-store.ts countAfter) counts the revisions past
   -- the acknowledged position. Counted on the table, that reads every row's page, bodies and all:
   -- 2.7 s for a 1,000,000-revision backlog in npm run bench, with the event loop stopped. This index
   -- holds only the positions, so the count reads a few MiB (docs/performance.md, 2026-12-01).
   CREATE INDEX revisions_lsn ON revisions (lsn);`,
];
