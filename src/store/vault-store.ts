/**
 * One vault's view of the POP database (issue 12 item 1; DESIGN.md §2): its revision log, the
 * entries and tokens derived from it, and its local audit trail — rows of `<data>/clavitor.db`
 * keyed by this vault's id, through statements prepared once for the whole database. A facade
 * is a few bytes; creating one opens nothing. Reads are synchronous; `commit` queues a write for
 * the group committer (group-commit.ts).
 */
import type { PopDb, RevDbRow, TokDbRow, EntryDbRow, GrantDbRow } from './pop-db.js';
import type { Revision, RevisionKind } from './revision-row.js';

/** Derived current state of one entry. */
export interface EntryRow {
  readonly entryId: string;
  /** Seq of the newest revision of the entry: its version for If-Match. */
  readonly headSeq: number;
  readonly createdSeq: number;
  readonly deleted: boolean;
}

/** A token as stored (owner or agent). */
export interface TokenRow {
  readonly tokenId: string;
  readonly kind: 'owner' | 'agent';
  readonly agentId: string | null;
  readonly verifier: string;
  readonly wrapped: string;
  readonly scopes: readonly string[];
  readonly name: string | null;
  readonly revoked: boolean;
  /** Locked after repeated rate-limit breaches (issue 6 item 3); only the owner's unlock clears it. */
  readonly locked: boolean;
  /** Agent's distinct-entries-per-minute limit; null means the default. */
  readonly perMinute: number | null;
  /** Agent's distinct-entries-per-hour limit; null means the default. */
  readonly perHour: number | null;
  readonly createdSeq: number;
  /** Folders (entry ids) in the agent's scope: every entry whose parent chain holds one (issue 14 item 2). */
  readonly folders: readonly string[];
  /** Tags in the agent's scope: every entry carrying one (issue 14 item 2). */
  readonly tags: readonly string[];
  /** ISO-8601 UTC date after which the token is refused; null: never expires (issue 14 item 2). */
  readonly expiresAt: string | null;
  /** The TTL in seconds the expiry was given as, or null when it was given as a date or not at all. */
  readonly ttlSeconds: number | null;
  /**
   * The agent's own key wrapped under the vault's owner key (issue 14 item 3), or null: an owner
   * token, or an agent created before key-enforced scopes, whose token unwraps the shared agent-tier key.
   */
  readonly keyOwner: string | null;
}

/**
 * A grant (issue 14 item 3): agent `agentId` can unwrap the entry key of revision `seq` of entry
 * `entryId`; `wrap` is that entry key sealed under the agent's own key (AAD: vault/aad.ts `entryKeyAad`).
 */
export interface GrantRow {
  readonly entryId: string;
  readonly agentId: string;
  readonly seq: number;
  readonly wrap: string;
}

/** What an `agent.update` revision changes: the whole scope and the expiry (issue 14 item 2). */
export interface AgentScopeRow {
  readonly scopes: readonly string[];
  readonly folders: readonly string[];
  readonly tags: readonly string[];
  readonly expiresAt: string | null;
  readonly ttlSeconds: number | null;
}

/** One audit record (hash-chained; DESIGN.md §3 audit). */
export interface AuditRow {
  readonly id: number;
  readonly at: string;
  readonly actor: string;
  readonly action: string;
  readonly entryId: string | null;
  readonly outcome: string;
  readonly code: string | null;
  readonly ip: string | null;
  readonly prevHash: string;
  readonly hash: string;
}

const toRev = (r: RevDbRow): Revision => ({
  vaultId: r.vault_id, seq: r.seq, kind: r.kind as RevisionKind, subject: r.subject, body: r.body, epoch: r.epoch, originPop: r.origin_pop, createdAt: r.created_at,
});
const toTok = (r: TokDbRow): TokenRow => ({
  tokenId: r.token_id, kind: r.kind, agentId: r.agent_id, verifier: r.verifier, wrapped: r.wrapped,
  scopes: JSON.parse(r.scopes) as string[], name: r.name, revoked: r.revoked === 1, createdSeq: r.created_seq,
  locked: r.locked === 1, perMinute: r.per_minute, perHour: r.per_hour,
  folders: JSON.parse(r.folders) as string[], tags: JSON.parse(r.tags) as string[], expiresAt: r.expires_at, ttlSeconds: r.ttl_seconds, keyOwner: r.key_owner,
});
const toGrant = (r: GrantDbRow): GrantRow => ({ entryId: r.entry_id, agentId: r.agent_id, seq: r.seq, wrap: r.wrap });
const toEntry = (r: EntryDbRow): EntryRow => ({
  entryId: r.entry_id, headSeq: r.head_seq, createdSeq: r.created_seq, deleted: r.deleted === 1,
});

/** Synchronous access to one vault's rows of the POP database; see `openVaultStore`. */
export class VaultStore {
  constructor(
    private readonly pop: PopDb,
    /** The vault's id. */
    readonly vaultId: string,
  ) {}

  /** Runs `fn` in one transaction of the POP database (nested: a savepoint), committed with an fsync. */
  tx<T>(fn: () => T): T {
    return this.pop.db.transaction(fn)();
  }

  /**
   * Queues `fn` for the next group commit (group-commit.ts) in its own savepoint; resolves with its
   * result once committed (with an fsync), rejects with what it threw (nothing of it written).
   */
  commit<T>(fn: () => T): Promise<T> {
    return this.pop.committer.enqueue(fn);
  }

  /**
   * Queues `fn` — the audit record of a read or refusal, which changes no vault data — for the next
   * group commit with no fsync of its own (group-commit.ts). Responses are sent after it commits
   * (src/http/app.ts waits for `VaultFiles.settled`). A failure is reported to the database's
   * `onError` (logged by the server), never thrown at the request.
   */
  txRelaxed(fn: () => void): void {
    this.pop.committer.enqueue(fn, { relaxed: true }).catch((e: unknown) => this.pop.onError(e));
  }

  /** Highest revision seq, 0 for a vault without revisions. */
  maxSeq(): number {
    return this.pop.q.maxSeq.get(this.vaultId)!.m ?? 0;
  }

  /**
   * Appends a revision row (no derived-state change; see vault/apply.ts) at the next log position,
   * or at `lsn` — the primary's position of a replicated revision (issue 12 item 3). Revision 1 also
   * records the vault as existing on this POP, in the same transaction.
   */
  insertRevision(r: Revision, lsn?: number): void {
    if (r.seq === 1) this.pop.q.addVault.run(this.vaultId, r.createdAt);
    if (lsn === undefined) this.pop.q.insertRev.run(this.vaultId, r.seq, r.kind, r.subject, r.body, r.epoch, r.originPop, r.createdAt);
    else this.pop.q.insertRevAt.run(lsn, this.vaultId, r.seq, r.kind, r.subject, r.body, r.epoch, r.originPop, r.createdAt);
  }

  /** One revision, or undefined. */
  getRevision(seq: number): Revision | undefined {
    const r = this.pop.q.getRev.get(this.vaultId, seq);
    return r && toRev(r);
  }

  /** Revisions `from..to` inclusive, in order. */
  revisionRange(from: number, to: number): Revision[] {
    return this.pop.q.revRange.all(this.vaultId, from, to).map(toRev);
  }

  /** Every revision about one subject (entry or agent id), oldest first. */
  revisionsOf(subject: string): Revision[] {
    return this.pop.q.revsOfSubject.all(this.vaultId, subject).map(toRev);
  }

  /** Iterates over all revisions of the vault in order (for digests and snapshots). */
  *iterateRevisions(): IterableIterator<Revision> {
    for (const r of this.pop.q.vaultRevs.iterate(this.vaultId)) yield toRev(r);
  }

  /**
   * Removes revisions `fromSeq` and later and every derived row (entries, tokens), for a rebuild
   * from the remaining log (demotion, DESIGN.md §4.4.7). Call inside `tx`.
   */
  truncateFrom(fromSeq: number): void {
    this.pop.q.deleteRevsFrom.run(this.vaultId, fromSeq);
    this.pop.q.deleteEntries.run(this.vaultId);
    this.pop.q.deleteTokens.run(this.vaultId);
    this.pop.q.deleteGrants.run(this.vaultId);
  }

  /** Current state of one entry, or undefined. */
  getEntry(entryId: string): EntryRow | undefined {
    const r = this.pop.q.getEntry.get(this.vaultId, entryId);
    return r && toEntry(r);
  }

  /** Live (not deleted) entries, oldest first. */
  listEntries(): EntryRow[] {
    return this.pop.q.listEntries.all(this.vaultId).map(toEntry);
  }

  /** Deleted entries (the owner's trash, issue 15 item 4), most recently deleted first. */
  listDeleted(): EntryRow[] {
    return this.pop.q.listDeleted.all(this.vaultId).map(toEntry);
  }

  /** Sets the current state of an entry. */
  upsertEntry(entryId: string, headSeq: number, createdSeq: number, deleted: boolean): void {
    this.pop.q.upsertEntry.run(this.vaultId, entryId, headSeq, createdSeq, deleted ? 1 : 0);
  }

  /** Stores a token (neither revoked nor locked; limits null for the owner or default limits). */
  insertToken(t: Omit<TokenRow, 'revoked' | 'locked'>): void {
    this.pop.q.insertToken.run(this.vaultId, t.tokenId, t.kind, t.agentId, t.verifier, t.wrapped, JSON.stringify(t.scopes), t.name, t.createdSeq, t.perMinute, t.perHour,
      JSON.stringify(t.folders), JSON.stringify(t.tags), t.expiresAt, t.ttlSeconds, t.keyOwner);
  }

  /** Stores (or replaces) the grant of one agent on one entry (derived; issue 14 item 3). */
  putGrant(g: GrantRow): void {
    this.pop.q.putGrant.run(this.vaultId, g.entryId, g.agentId, g.seq, g.wrap);
  }

  /** The grant of `agentId` on `entryId`, or undefined. */
  getGrant(entryId: string, agentId: string): GrantRow | undefined {
    const r = this.pop.q.getGrant.get(this.vaultId, entryId, agentId);
    return r && toGrant(r);
  }

  /** Every grant on one entry, by agent id. */
  grantsOfEntry(entryId: string): GrantRow[] {
    return this.pop.q.grantsOfEntry.all(this.vaultId, entryId).map(toGrant);
  }

  /** Every grant of one agent, by entry id. */
  grantsOfAgent(agentId: string): GrantRow[] {
    return this.pop.q.grantsOfAgent.all(this.vaultId, agentId).map(toGrant);
  }

  /** Drops every grant on one entry (a new revision or a tombstone replaces them). */
  deleteGrantsOfEntry(entryId: string): void {
    this.pop.q.deleteGrantsOfEntry.run(this.vaultId, entryId);
  }

  /** Drops every grant of one agent (revoked). */
  deleteGrantsOfAgent(agentId: string): void {
    this.pop.q.deleteGrantsOfAgent.run(this.vaultId, agentId);
  }

  /** Replaces an agent's scope and expiry (derived from `agent.update`). */
  updateAgent(agentId: string, u: AgentScopeRow): void {
    this.pop.q.updateAgent.run(JSON.stringify(u.scopes), JSON.stringify(u.folders), JSON.stringify(u.tags), u.expiresAt, u.ttlSeconds, this.vaultId, agentId);
  }

  /** A token by id, or undefined. */
  getToken(tokenId: string): TokenRow | undefined {
    const r = this.pop.q.getToken.get(this.vaultId, tokenId);
    return r && toTok(r);
  }

  /** An agent's token by agent id, or undefined. */
  getAgent(agentId: string): TokenRow | undefined {
    const r = this.pop.q.getAgent.get(this.vaultId, agentId);
    return r && toTok(r);
  }

  /** All agents, oldest first. */
  listAgents(): TokenRow[] {
    return this.pop.q.listAgents.all(this.vaultId).map(toTok);
  }

  /** Marks one token revoked by token id (owner tokens and recovery codes; issue 15 item 5). */
  revokeToken(tokenId: string): void {
    this.pop.q.revokeToken.run(this.vaultId, tokenId);
  }

  /** Unrevoked owner-kind tokens (owner tokens and the recovery code), oldest first. */
  listOwnerTokens(): TokenRow[] {
    return this.pop.q.listOwnerTokens.all(this.vaultId).map(toTok);
  }

  /** Marks an agent's token revoked. */
  revokeAgent(agentId: string): void {
    this.pop.q.revokeAgent.run(this.vaultId, agentId);
  }

  /** Sets or clears an agent's lockdown (derived from `agent.lock` / `agent.unlock`). */
  setAgentLocked(agentId: string, locked: boolean): void {
    this.pop.q.setAgentLocked.run(locked ? 1 : 0, this.vaultId, agentId);
  }

  /** Hash of the vault's newest audit record, or undefined for an empty trail. */
  lastAuditHash(): string | undefined {
    return this.pop.q.lastAudit.get(this.vaultId)?.hash;
  }

  /**
   * Appends an audit record (hash computed by the caller; see vault/audit.ts) and tells the
   * database's `onAudit` listener (the audit-anchor sender, issue 13 §3) which vault changed.
   */
  insertAudit(a: Omit<AuditRow, 'id'>): void {
    this.pop.q.insertAudit.run(this.vaultId, a.at, a.actor, a.action, a.entryId, a.outcome, a.code, a.ip, a.prevHash, a.hash, this.vaultId);
    this.pop.onAudit?.(this.vaultId);
  }

  /** The vault's audit records with id > `afterId`, at most `limit`, in id order. */
  pageAudit(afterId: number, limit: number): AuditRow[] {
    return this.pop.q.pageAudit.all(this.vaultId, afterId, limit).map((r) => ({
      id: r.id, at: r.at, actor: r.actor, action: r.action, entryId: r.entry_id, outcome: r.outcome, code: r.code, ip: r.ip, prevHash: r.prev_hash, hash: r.hash,
    }));
  }

  /** Nothing to close: the connection belongs to the POP database. Kept for callers of the old layout's API. */
  close(): void {}
}

/** The facade of vault `vaultId` over an open POP database. */
export function openVaultStore(pop: PopDb, vaultId: string): VaultStore {
  return new VaultStore(pop, vaultId);
}
