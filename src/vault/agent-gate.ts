/**
 * The gate every agent read passes (issue 6 items 1, 3, 4 and 7), in this order:
 *
 * | check                      | refusal                         | audit record (same transaction)         |
 * | -------------------------- | ------------------------------- | --------------------------------------- |
 * | agent locked (replicated)  | 403 AGENT_LOCKED (CV-2010)      | `<action>` denied CV-2010               |
 * | first rate-limit breach    | 429 AGENT_RATE_LIMITED (CV-2009)| `agent.rate_limit` denied CV-2009       |
 * | second breach within 2 h   | 403 AGENT_LOCKED, `agent.lock`  | `agent.rate_limit` + `agent.lockdown`   |
 * |                            | revision written (primary only) | in the lock revision's transaction      |
 * | entry outside the scope    | 403 AGENT_SCOPE (CV-2007)       | `<action>` denied CV-2007               |
 *
 * The scope names entries, folders and tags (scope.ts, issue 14 item 2).
 *
 * Out-of-scope attempts count toward the distinct-entry limit: probing for entries is exactly the
 * behaviour the limit exists to stop.
 *
 * Where locks come from: only a POP that accepts writes (a primary, not draining or fenced)
 * writes an `agent.lock` revision; it replicates, so the backup enforces it like the primary. A
 * backup cannot write revisions: there a second breach is answered like the first (429, audited
 * locally) and the agent is not locked. Each POP counts the reads it serves in its own memory
 * (rate-limit.ts), so an agent spreading reads over both POPs of a pair gets at most twice its limit.
 */
import type { VaultStore } from '../store/vault-store.js';
import type { RevisionWriter } from './writer.js';
import type { AgentPrincipal } from './principal.js';
import { actorOf } from './principal.js';
import { appendAudit, type AuditInput } from './audit.js';
import { ClavitorError, cvError, Errors } from '../lib/errors.js';
import { createRateLimiter, type RateLimiter } from './rate-limit.js';
import { systemClock, type Clock } from '../lib/clock.js';
import { entryInScope } from './scope.js';

/** What the HTTP layer knows about a read request. */
export interface ReadContext {
  /** Source IP address, for the audit record. */
  readonly ip: string | null;
  /** True when this POP accepts writes now (primary, not draining or fenced): a lock can be written. */
  readonly writable: boolean;
}

/** The gate; see `createAgentGate`. */
export type AgentGate = ReturnType<typeof createAgentGate>;

/**
 * Builds the gate. `now` is the wall clock for audit records; `clock.nowMs()` (monotonic, default
 * `systemClock`) times the rate-limit windows and the 2-hour lockdown window, so a wall-clock step
 * neither expires them early nor stretches them (DESIGN.md §2 "Time", issue 11 item 1). Tests
 * inject either. `limiter` defaults to a fresh in-memory one.
 */
export function createAgentGate(deps: { writer: RevisionWriter; now: () => Date; clock?: Pick<Clock, 'nowMs'>; limiter?: RateLimiter }) {
  const limiter = deps.limiter ?? createRateLimiter();
  const clock = deps.clock ?? systemClock;
  /** Agents this process has seen locked: once seen unlocked again, their windows start afresh. */
  const seenLocked = new Set<string>();

  /** A refusal's audit record: joins the next group commit, no fsync of its own (store/group-commit.ts). */
  const audit = (store: VaultStore, rec: AuditInput): void => {
    store.txRelaxed(() => appendAudit(store, rec, deps.now().toISOString()));
  };

  return {
    /**
     * Admits agent `p` to `action` (e.g. `entry.read`, `entry.totp`) on `entryId`, or audits the
     * refusal and throws AGENT_LOCKED, AGENT_RATE_LIMITED (details.retry_after_seconds and a
     * `Retry-After` response header, in seconds) or AGENT_SCOPE. The caller audits the successful read itself.
     */
    admit(store: VaultStore, p: AgentPrincipal, entryId: string, action: string, ctx: ReadContext): void {
      const actor = actorOf(p);
      if (p.locked) {
        seenLocked.add(p.agentId);
        audit(store, { actor, action, entryId, outcome: 'denied', code: Errors.AGENT_LOCKED.code, ip: ctx.ip });
        throw cvError('AGENT_LOCKED');
      }
      if (seenLocked.delete(p.agentId)) limiter.reset(p.agentId);

      const verdict = limiter.check(p.agentId, entryId, p.limits, clock.nowMs());
      const hit: AuditInput = { actor, action: 'agent.rate_limit', entryId, outcome: 'denied', code: Errors.AGENT_RATE_LIMITED.code, ip: ctx.ip };
      if (verdict.kind === 'lockdown' && ctx.writable) {
        // Committed before the response is sent (the app waits for queued commits); if the lock is
        // refused at commit (this POP stopped accepting writes meanwhile) the agent is refused all
        // the same and its next breach tries again.
        deps.writer.append(store, 'agent.lock', p.agentId, () => JSON.stringify({ reason: 'rate_limit' }),
          [hit, { actor, action: 'agent.lockdown', entryId, outcome: 'denied', code: Errors.AGENT_LOCKED.code, ip: ctx.ip }]).catch(() => undefined);
        seenLocked.add(p.agentId);
        throw cvError('AGENT_LOCKED', 'agent locked: second rate-limit breach within 2 hours; the vault owner must unlock it (clavitor-cli agent unlock <id>)');
      }
      if (verdict.kind !== 'ok') {
        audit(store, hit);
        const retry = verdict.kind === 'breach' ? verdict.retryAfterSeconds : 60;
        throw new ClavitorError(Errors.AGENT_RATE_LIMITED, undefined, { retry_after_seconds: retry }, { 'retry-after': String(retry) });
      }
      if (!entryInScope(store, p, entryId)) {
        audit(store, { actor, action, entryId, outcome: 'denied', code: Errors.AGENT_SCOPE.code, ip: ctx.ip });
        throw cvError('AGENT_SCOPE');
      }
    },

    /**
     * Admits agent `p` to list the entries in its scope (issue 14 item 2): a locked agent is
     * refused (AGENT_LOCKED, audited) as for a read; the listing reveals no value, so it does not
     * count toward the distinct-entry rate limit.
     */
    admitList(store: VaultStore, p: AgentPrincipal, ctx: ReadContext): void {
      if (!p.locked) return;
      seenLocked.add(p.agentId);
      audit(store, { actor: actorOf(p), action: 'entry.list', entryId: null, outcome: 'denied', code: Errors.AGENT_LOCKED.code, ip: ctx.ip });
      throw cvError('AGENT_LOCKED');
    },

    /** Audits an agent's attempt at an owner-only action and returns the error to throw. */
    deny(store: VaultStore, p: AgentPrincipal, action: string, entryId: string | null, name: 'FORBIDDEN' | 'AGENT_LIST_FORBIDDEN', ip: string | null) {
      audit(store, { actor: actorOf(p), action, entryId, outcome: 'denied', code: Errors[name].code, ip });
      return cvError(name);
    },
  };
}
