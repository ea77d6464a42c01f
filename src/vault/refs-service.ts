/**
 * Secret references resolved on the server (issue 14 item 1): a reference
 * `clavitor://<vault>/<entry title or id>/<field label>[?totp]` (lib/secret-ref.ts) becomes one
 * field's value or the current TOTP code, and an agent may list the entries it may read.
 *
 * What an agent may see here is what it may read anyway, never more:
 * - `readable()` lists, for an agent, only the live entries its scope names (titles are in the
 *   agent tier, so it sees them on `GET /api/entries/{id}` already); never a field value.
 * - A title is looked up among those entries only: an out-of-scope entry with the same title is
 *   neither found nor counted as a duplicate, so resolution tells an agent nothing about
 *   entries outside its scope. The read itself then goes through `EntriesService.get`/`totp`,
 *   that is through the agent gate (lockdown, rate limit of distinct entries, scope) and the
 *   audit trail, exactly like `GET /api/entries/{id}` (not a bypass).
 * - Fields of tiers the token holds no key for stay closed: FORBIDDEN (CV-2003), audited denied.
 *
 * The scope rule used for the listing is the gate's (`scope.ts`: the scope names entries, folders
 * and tags; issue 14 item 2).
 *
 * Errors: REF_INVALID (CV-3020), REF_VAULT_MISMATCH (CV-4021), NOT_FOUND (CV-3004, no entry with
 * that title among those the token may read), REF_AMBIGUOUS (CV-4020, details `entry_ids`),
 * FIELD_NOT_FOUND (CV-4022), FORBIDDEN (CV-2003), AGENT_LOCKED (CV-2010), and whatever the
 * entries service throws (gate errors, ENTRY_DELETED, TOTP_*).
 */
import type { VaultFiles } from '../store/vault-files.js';
import type { VaultStore } from '../store/vault-store.js';
import { isEntryId } from '../lib/ids.js';
import { cvError, Errors } from '../lib/errors.js';
import { parseRef } from '../lib/secret-ref.js';
import { entryInScope } from './scope.js';
import { actorOf, type Principal } from './principal.js';
import { appendAudit, type AuditInput } from './audit.js';
import { entryBody, entryKeyOf, openTitle } from './entry-codec.js';
import type { EntriesService, EntrySummary, ReadContext } from './entries-service.js';

/** A resolved reference to a field's value. */
export interface RefFieldValue {
  readonly vault_id: string;
  readonly entry_id: string;
  readonly field: string;
  readonly kind: string;
  readonly tier: 'agent' | 'owner' | 'sealed';
  /** The value; for the `sealed` tier the client ciphertext `cs1.…` (opened by the client). */
  readonly value: string;
}

/** A resolved `?totp` reference: the current code and its remaining validity in seconds. */
export interface RefTotpValue {
  readonly vault_id: string;
  readonly entry_id: string;
  readonly field: string | null;
  readonly code: string;
  readonly seconds_left: number;
}

/** What a reference resolves to. */
export type RefValue = RefFieldValue | RefTotpValue;

/** Dependencies of the references service. */
export interface RefsServiceDeps {
  readonly files: VaultFiles;
  readonly entries: EntriesService;
  /** Wall clock for audit records. */
  readonly now: () => Date;
}

/** References service; see `createRefsService`. */
export type RefsService = ReturnType<typeof createRefsService>;

/** Builds the references service. Every method throws ClavitorError with a registered code. */
export function createRefsService(deps: RefsServiceDeps) {
  const storeOf = (p: Principal): VaultStore => {
    const s = deps.files.find(p.vaultId);
    if (!s) throw cvError('VAULT_NOT_FOUND');
    return s;
  };
  const audit = (store: VaultStore, rec: AuditInput): void => store.txRelaxed(() => appendAudit(store, rec, deps.now().toISOString()));
  /** Whether `p` may see entry `entryId` in a listing: the owner every entry, an agent those in its scope (scope.ts: entries, folders, tags). */
  const mayList = (store: VaultStore, p: Principal, entryId: string): boolean => p.kind === 'owner' || entryInScope(store, p, entryId);

  /** Live entries `p` may read, without auditing. A locked agent gets AGENT_LOCKED. */
  function readableOf(store: VaultStore, p: Principal): EntrySummary[] {
    if (p.kind === 'agent' && p.locked) throw cvError('AGENT_LOCKED');
    const out: EntrySummary[] = [];
    for (const en of store.listEntries()) {
      if (!mayList(store, p, en.entryId)) continue;
      const rev = store.getRevision(en.headSeq)!;
      const body = entryBody(rev);
      // Only what the token can open: an entry whose newest revision holds no key for this agent is left out (issue 14 item 3).
      const key = entryKeyOf(p, rev, body, p.kind === 'agent' ? store.getGrant(en.entryId, p.agentId) : undefined);
      if (!key) continue;
      out.push({
        id: en.entryId, type: body.type, parent: body.parent, title: openTitle(p, rev, body, key), tags: body.tags ?? [], version: rev.seq, updated_at: rev.createdAt,
        fields: body.fields.map((f) => ({ label: f.label, kind: f.kind, tier: f.tier })),
      });
    }
    return out;
  }

  /** Entry id of `target` (an id as is, else the one readable entry titled so). Audits an ambiguity. */
  function resolveEntry(store: VaultStore, p: Principal, target: string, ip: string | null): string {
    if (isEntryId(target)) return target;
    const hits = readableOf(store, p).filter((e) => e.title === target);
    if (hits.length === 0) throw cvError('NOT_FOUND', p.kind === 'owner' ? 'no live entry has that title' : 'no entry in this agent\'s scope has that title');
    if (hits.length > 1) {
      audit(store, { actor: actorOf(p), action: 'entry.resolve', entryId: null, outcome: 'denied', code: Errors.REF_AMBIGUOUS.code, ip });
      throw cvError('REF_AMBIGUOUS', `${hits.length} entries that this token may read have that title; use the entry id in the reference`, { entry_ids: hits.map((h) => h.id) });
    }
    return hits[0]!.id;
  }

  return {
    /**
     * The live entries `p` may read, oldest first, without field values: every entry for the
     * owner, the entries its scope names for an agent. Audited as `entry.list`. A locked agent
     * gets AGENT_LOCKED (audited denied).
     */
    readable(p: Principal, ip: string | null): EntrySummary[] {
      const store = storeOf(p);
      if (p.kind === 'agent' && p.locked) {
        audit(store, { actor: actorOf(p), action: 'entry.list', outcome: 'denied', code: Errors.AGENT_LOCKED.code, ip });
        throw cvError('AGENT_LOCKED');
      }
      const out = readableOf(store, p);
      audit(store, { actor: actorOf(p), action: 'entry.list', outcome: 'ok', ip });
      return out;
    },

    /** The entry id that `target` (an entry id, or an exact title among the entries `p` may read) names. */
    resolveEntry(p: Principal, target: string, ip: string | null): string {
      return resolveEntry(storeOf(p), p, target, ip);
    },

    /**
     * Resolves reference `ref` for `p`: the field's value, or with `?totp` its current code. The
     * read passes the agent gate and is audited (`entry.read` / `entry.totp`) like the routes.
     */
    read(p: Principal, ref: string, ctx: ReadContext): RefValue {
      const r = parseRef(ref);
      if (r.vault !== p.vaultId) throw cvError('REF_VAULT_MISMATCH');
      const store = storeOf(p);
      const entryId = resolveEntry(store, p, r.entry, ctx.ip);
      if (r.totp) {
        const code = deps.entries.totp(p, entryId, ctx, r.field);
        return { vault_id: p.vaultId, entry_id: entryId, field: r.field ?? null, code: code.code, seconds_left: code.seconds_left };
      }
      const view = deps.entries.get(p, entryId, ctx);
      const f = view.fields.find((x) => x.label === r.field);
      if (!f) throw cvError('FIELD_NOT_FOUND');
      if (!('value' in f)) {
        audit(store, { actor: actorOf(p), action: 'entry.read', entryId, outcome: 'denied', code: Errors.FORBIDDEN.code, ip: ctx.ip });
        throw cvError('FORBIDDEN', 'the field is not in the agent tier');
      }
      return { vault_id: p.vaultId, entry_id: entryId, field: f.label, kind: f.kind, tier: f.tier, value: f.value };
    },
  };
}
