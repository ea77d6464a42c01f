/**
 * The audit trail (DESIGN.md §3 `GET /api/audit`): who read or changed what, when, from where.
 * Records are hash-chained — each holds SHA-256 of the previous record's hash and its own
 * fields — and are written in the same transaction as the action they describe (STYLE.md).
 * Audit records are local to the POP that served the request and are never replicated.
 */
import { createHash } from 'node:crypto';
import type { AuditRow, VaultStore } from '../store/vault-store.js';

/** What an audit record says, before the chain fields are added. */
export interface AuditInput {
  /** `owner`, `agent:<agent_id>` or `admin`. */
  readonly actor: string;
  /**
   * e.g. `entry.read`, `entry.totp`, `entry.create`, `agent.revoke`, `agent.unlock`, `auth` (a
   * revoked token's use), `agent.rate_limit` (a breach), `agent.lockdown` (issue 6 item 4).
   */
  readonly action: string;
  /** The entry concerned; for `agent.*` actions by the owner, the agent's id. */
  readonly entryId?: string | null;
  /** `ok` or `denied`. */
  readonly outcome: 'ok' | 'denied';
  /** CV code when denied. */
  readonly code?: string | null;
  /** Source IP address of the request. */
  readonly ip?: string | null;
}

/** Hash of the record that precedes the first one. */
export const AUDIT_GENESIS = '0'.repeat(64);

/** SHA-256 over the previous hash and the record's fields, hex. */
export function auditHash(prevHash: string, r: Omit<AuditRow, 'id' | 'hash' | 'prevHash'>): string {
  return createHash('sha256')
    .update(JSON.stringify([prevHash, r.at, r.actor, r.action, r.entryId, r.outcome, r.code, r.ip]))
    .digest('hex');
}

/** Appends one record to the vault's audit chain; call inside the action's transaction. */
export function appendAudit(store: VaultStore, input: AuditInput, at: string): void {
  const prevHash = store.lastAuditHash() ?? AUDIT_GENESIS;
  const rec = { at, actor: input.actor, action: input.action, entryId: input.entryId ?? null, outcome: input.outcome, code: input.code ?? null, ip: input.ip ?? null };
  store.insertAudit({ ...rec, prevHash, hash: auditHash(prevHash, rec) });
}

/**
 * Why a record breaks the chain: `link` — its prev_hash is not the hash of the record before it
 * (a record before it was deleted, inserted or moved); `hash` — its own fields no longer hash to
 * its stored hash (the record was edited).
 */
export interface AuditBreak {
  readonly id: number;
  readonly reason: 'link' | 'hash';
}

/**
 * A streaming chain checker, for verifying page by page (`clavitor-cli audit verify`): feed rows
 * in id order starting with the first record; `push` returns the first break, then keeps
 * returning it. Not detectable by a chain alone: removal of the newest records (truncation).
 */
export function createAuditVerifier() {
  let prev = AUDIT_GENESIS;
  let broken: AuditBreak | undefined;
  let checked = 0;
  return {
    /** Checks the next record; returns the first break found so far, or undefined. */
    push(r: AuditRow): AuditBreak | undefined {
      if (broken) return broken;
      checked++;
      if (r.prevHash !== prev) broken = { id: r.id, reason: 'link' };
      else if (auditHash(prev, r) !== r.hash) broken = { id: r.id, reason: 'hash' };
      prev = r.hash;
      return broken;
    },
    /** Records checked up to and including the first break. */
    checked: (): number => checked,
  };
}

/**
 * Recomputes the chain over `rows` (in id order, starting from genesis) and returns the id of the
 * first record whose hash or link does not match, or undefined when the chain is intact.
 */
export function firstBrokenAudit(rows: readonly AuditRow[]): number | undefined {
  const v = createAuditVerifier();
  for (const r of rows) {
    const b = v.push(r);
    if (b) return b.id;
  }
  return undefined;
}
