/**
 * Reading the audit trail (DESIGN.md §3 `GET /api/audit`, issue 6 item 4): the owner pages through
 * the vault's hash-chained records on the POP that serves the request (records are local to the
 * POP that served each action: a backup's reads are audited, and visible, on the backup).
 */
import type { VaultFiles } from '../store/vault-files.js';
import type { AuditRow } from '../store/vault-store.js';
import { cvError, Errors } from '../lib/errors.js';
import { actorOf, type Principal } from './principal.js';
import { appendAudit } from './audit.js';

/** One audit record as the API returns it (snake_case; `hash` chains to `prev_hash`). */
export interface AuditRecordView {
  id: number;
  at: string;
  actor: string;
  action: string;
  entry_id: string | null;
  outcome: string;
  code: string | null;
  ip: string | null;
  prev_hash: string;
  hash: string;
}

/** Converts a stored row to its API form. */
export function toAuditView(r: AuditRow): AuditRecordView {
  return { id: r.id, at: r.at, actor: r.actor, action: r.action, entry_id: r.entryId, outcome: r.outcome, code: r.code, ip: r.ip, prev_hash: r.prevHash, hash: r.hash };
}

/** Converts an API record back to the stored row shape (for chain verification by clients). */
export function fromAuditView(v: AuditRecordView): AuditRow {
  return { id: v.id, at: v.at, actor: v.actor, action: v.action, entryId: v.entry_id, outcome: v.outcome, code: v.code, ip: v.ip, prevHash: v.prev_hash, hash: v.hash };
}

/** Audit reading service; see `createAuditService`. */
export type AuditService = ReturnType<typeof createAuditService>;

/** Builds the service over the vault files; `now` is the clock of denial records. */
export function createAuditService(deps: { files: VaultFiles; now?: () => Date }) {
  const now = deps.now ?? (() => new Date());
  return {
    /**
     * Records with id > `afterId`, at most `limit`, oldest first, and the id to pass as `after`
     * for the next page (null when this page is empty). Owner only: an agent's attempt is audited
     * and refused with FORBIDDEN (CV-2003).
     */
    page(p: Principal, afterId: number, limit: number, ip: string | null): { records: AuditRecordView[]; next_after: number | null } {
      const store = deps.files.find(p.vaultId);
      if (!store) throw cvError('VAULT_NOT_FOUND');
      if (p.kind !== 'owner') {
        store.txRelaxed(() => appendAudit(store, { actor: actorOf(p), action: 'audit.read', outcome: 'denied', code: Errors.FORBIDDEN.code, ip }, now().toISOString()));
        throw cvError('FORBIDDEN');
      }
      const records = store.pageAudit(afterId, limit).map(toAuditView);
      return { records, next_after: records.length > 0 ? records[records.length - 1]!.id : null };
    },
    /**
     * The audit anchors this POP keeps for the caller's vault from its peer (issue 13 §3;
     * audit-anchor.ts), by POP then seq: `{pop_id, seq, hash, received_at}`. Owner only, like
     * `page` (an agent's attempt is audited and refused with FORBIDDEN, CV-2003).
     */
    anchors(p: Principal, ip: string | null): { pop_id: string; seq: number; hash: string; received_at: string }[] {
      const store = deps.files.find(p.vaultId);
      if (!store) throw cvError('VAULT_NOT_FOUND');
      if (p.kind !== 'owner') {
        store.txRelaxed(() => appendAudit(store, { actor: actorOf(p), action: 'audit.anchors', outcome: 'denied', code: Errors.FORBIDDEN.code, ip }, now().toISOString()));
        throw cvError('FORBIDDEN');
      }
      return deps.files.anchors().ofVault(p.vaultId).map((a) => ({ pop_id: a.popId, seq: a.seq, hash: a.hash, received_at: a.receivedAt }));
    },
  };
}
