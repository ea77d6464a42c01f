/**
 * The replication sender of a primary POP (DESIGN.md §4.4 items 1–5). This file is the
 * replication state machine; read it top to bottom.
 *
 * ```
 *  state      event                              next        action
 *  ---------  ---------------------------------  ----------  ------------------------------------------
 *  idle       notify (write committed, hello,    sending     read backlog, push batches until empty
 *             SIGHUP, operator resume)
 *  sending    notify                             sending     (loop re-reads the backlog; nothing to do)
 *  sending    backlog empty                      idle        no timer left behind (event-driven)
 *  sending    push acknowledged                  sending     delete acknowledged backlog records
 *  sending    gap answer (backup lacks revs)     sending     re-queue that vault from the expected seq
 *  sending    push failed, attempt ≤ max_retries retrying    one timer: backoff 1 s, 5 s, 25 s … ≤ 5 min
 *  retrying   timer fires                        sending     retry the same backlog head
 *  retrying   notify                             retrying    (the pending timer will retry)
 *  sending    push failed, attempt > max_retries degraded    operator alert: error log CV-5007, metric,
 *                                                            status "degraded"; backlog kept, no timer
 *  degraded   notify                             sending     attempts reset; resume
 *  any        peer reports higher epoch          stopped     onHigherEpoch(epoch): the POP fences itself
 *  any        close                              stopped     timer cleared, waiters released
 * ```
 *
 * Nothing is ever dropped: a backlog record leaves the POP database only when the backup
 * acknowledged its revision. A record and its revision commit in the same transaction
 * (vault/writer.ts), so a record without its revision cannot arise from a crash; one found anyway
 * (a database edited by hand) is logged and dropped, as its write cannot have been acknowledged. Batches hold at most `batch_size` revisions and are split further when their
 * JSON would exceed PUSH_SPLIT_BYTES (case F4).
 */
import type { Logger } from 'pino';
import type { NodeStore } from '../store/node-store.js';
import type { VaultFiles } from '../store/vault-files.js';
import { toWire, type RevisionWire } from '../vault/revision.js';
import type { PeerClient, PushResult } from './peer-client.js';
import { PUSH_SPLIT_BYTES } from './wire.js';
import { backoffMs } from './backoff.js';
import { Errors } from '../lib/errors.js';
import type { VaultId } from '../lib/ids.js';

/** Sender states (see the table above). `stopped` is final for this instance. */
export type SenderState = 'idle' | 'sending' | 'retrying' | 'degraded' | 'stopped';

/** Counters and facts for status and metrics; counts since the sender was created. */
export interface SenderStats {
  state: SenderState;
  pushesSent: number;
  pushesFailed: number;
  revisionsSent: number;
  retries: number;
  alerts: number;
  /** ISO time of the last acknowledged push, or null. */
  lastAckAt: string | null;
  lastError: string | null;
  /** Consecutive failed attempts. */
  attempts: number;
}

/** Dependencies and settings of a sender. */
export interface SenderDeps {
  readonly node: NodeStore;
  readonly files: VaultFiles;
  readonly logger: Logger;
  readonly selfPopId: string;
  /** Current peer client (replaced on SIGHUP). */
  peer(): PeerClient;
  /** Settings read at each batch so that a reload applies at once. */
  settings(): { batchSize: number; maxRetries: number; epoch: number };
  /** Called when the backup reports an epoch higher than ours: the POP must fence itself. */
  onHigherEpoch(epoch: number): void;
  /** Called on each acknowledged push with the highest acknowledged seq per vault. */
  onAck?(acked: ReadonlyMap<string, number>): void;
  /** Called when the state changes. */
  onState?(state: SenderState): void;
  /** Called after every push with `ok` or the failure kind, the number of revisions acknowledged, and the full result. */
  onPushResult?(result: string, revisions: number, detail: PushResult): void;
  /** Called when a retry is scheduled. */
  onRetry?(): void;
  /**
   * Wall-clock milliseconds for records only (`last_ack_at`, backlog `queued_at_ms`); the POP passes
   * `steadyWallMs` (src/lib/clock.ts). Retry delays are timers and run on the monotonic clock.
   */
  now(): number;
}

/** A sender; see `createSender`. */
export type Sender = ReturnType<typeof createSender>;

/** Creates a sender in state `idle`. It does nothing until `notify()`. */
export function createSender(deps: SenderDeps) {
  const stats: SenderStats = { state: 'idle', pushesSent: 0, pushesFailed: 0, revisionsSent: 0, retries: 0, alerts: 0, lastAckAt: null, lastError: null, attempts: 0 };
  let timer: NodeJS.Timeout | undefined;
  let running = false;
  let gapRounds = 0;

  const isStopped = (): boolean => stats.state === 'stopped';
  const setState = (s: SenderState): void => {
    if (stats.state === s) return;
    stats.state = s;
    deps.onState?.(s);
  };

  /** Reads the backlog head and builds one push's items; drops records whose revision never committed. */
  function nextBatch(batchSize: number): { items: RevisionWire[]; lastId: number } | undefined {
    for (;;) {
      const rows = deps.node.peekBacklog(batchSize);
      if (rows.length === 0) return undefined;
      const items: RevisionWire[] = [];
      let bytes = 0;
      let lastId = 0;
      let dropped = false;
      for (const row of rows) {
        const store = deps.node.hasVault(row.vaultId) ? deps.files.find(row.vaultId) : undefined;
        const rev = store?.getRevision(row.seq);
        if (!rev) {
          if (!store || store.maxSeq() < row.seq) {
            // A backlog record without its revision: not produced by a crash (both commit together,
            // vault/writer.ts); its write was never acknowledged, so there is nothing to replicate.
            deps.logger.warn({ event: 'replication.backlog_orphan', vault_id: row.vaultId, seq: row.seq }, 'dropping backlog record of a write that never committed');
            deps.node.deleteBacklogRow(row.id);
            dropped = true;
            break;
          }
          throw new Error(`revision ${row.seq} of ${row.vaultId} is missing below the vault head`);
        }
        const wire = toWire(rev);
        const size = wire.body.length + 256;
        if (items.length > 0 && bytes + size > PUSH_SPLIT_BYTES) break;
        items.push(wire);
        bytes += size;
        lastId = row.id;
      }
      if (dropped) continue;
      return { items, lastId };
    }
  }

  function acked(items: readonly RevisionWire[]): Map<string, number> {
    const m = new Map<string, number>();
    for (const i of items) m.set(i.vault_id, Math.max(m.get(i.vault_id) ?? 0, i.seq));
    return m;
  }

  function fail(result: Exclude<PushResult, { ok: true }>, maxRetries: number): void {
    // Stopped by a callback of this very push (fencing, a hold): no retry timer, state stays stopped.
    if (isStopped()) return;
    stats.pushesFailed++;
    stats.attempts++;
    stats.lastError = result.kind === 'transport' ? `transport: ${result.error}` : result.kind === 'auth' ? `authentication refused (HTTP ${result.status})` : result.kind === 'http' ? `HTTP ${result.status} ${result.code ?? ''}`.trim() : result.kind;
    if (stats.attempts > maxRetries) {
      stats.alerts++;
      setState('degraded');
      deps.logger.error({ event: 'replication.alert', code: Errors.REPLICATION_ALERT.code, attempts: stats.attempts, last_error: stats.lastError },
        `${Errors.REPLICATION_ALERT.code}: replication to the backup failed ${stats.attempts} times (${stats.lastError}); backlog kept; sending resumes on the next write, a backup hello, SIGHUP or operator resume`);
      return;
    }
    const delay = backoffMs(stats.attempts);
    stats.retries++;
    deps.onRetry?.();
    setState('retrying');
    deps.logger.warn({ event: 'replication.retry', attempt: stats.attempts, delay_ms: delay, last_error: stats.lastError }, 'push failed; retrying');
    timer = setTimeout(() => {
      timer = undefined;
      void run();
    }, delay);
  }

  async function run(): Promise<void> {
    if (running || stats.state === 'stopped') return;
    running = true;
    setState('sending');
    try {
      for (;;) {
        if (isStopped()) return;
        const { batchSize, maxRetries, epoch } = deps.settings();
        const batch = nextBatch(batchSize);
        if (!batch) {
          gapRounds = 0;
          setState('idle');
          return;
        }
        const result = await deps.peer().push({ epoch, sender: deps.selfPopId, push_seq: deps.node.nextPushSeq(), items: batch.items });
        if (isStopped()) return;
        deps.onPushResult?.(result.ok ? 'ok' : result.kind, result.ok ? batch.items.length : 0, result);
        deps.logger.debug({ event: 'replication.push_sent', items: batch.items.length, ok: result.ok, ...(result.ok ? {} : { result: result.kind }) }, 'push sent');
        if (result.ok) {
          deps.node.deleteBacklogUpTo(batch.lastId);
          stats.pushesSent++;
          stats.revisionsSent += batch.items.length;
          stats.attempts = 0;
          stats.lastError = null;
          stats.lastAckAt = new Date(deps.now()).toISOString();
          gapRounds = 0;
          deps.onAck?.(acked(batch.items));
          if (result.ack.epoch > epoch) {
            deps.onHigherEpoch(result.ack.epoch);
            return;
          }
          continue;
        }
        if (result.kind === 'stale_epoch' || result.kind === 'not_backup' || (result.kind !== 'transport' && result.kind !== 'auth' && result.kind !== 'http' && result.epoch > epoch)) {
          deps.logger.error({ event: 'replication.higher_epoch', peer_epoch: result.epoch, epoch, reason: result.kind }, 'the peer refused our push: it has a higher epoch or is itself a primary');
          if (result.epoch > epoch) deps.onHigherEpoch(result.epoch);
          fail(result, maxRetries);
          return;
        }
        if (result.kind === 'gap' && gapRounds < 3) {
          gapRounds++;
          for (const pos of result.expected) {
            const store = deps.files.find(pos.vault_id as VaultId);
            const head = store?.maxSeq() ?? 0;
            if (head >= pos.seq) deps.node.requeueVault(pos.vault_id as VaultId, pos.seq, head, deps.now());
          }
          deps.logger.info({ event: 'replication.gap', vaults: result.expected.length }, 're-queued revisions the backup lacks');
          continue;
        }
        fail(result, maxRetries);
        return;
      }
    } catch (e) {
      deps.logger.error({ event: 'replication.sender_error', err: { message: (e as Error).message } }, 'sender failed');
      fail({ ok: false, kind: 'transport', error: (e as Error).message }, deps.settings().maxRetries);
    } finally {
      running = false;
    }
  }

  return {
    /**
     * Wakes the sender (a write committed, the backup said hello, SIGHUP, operator resume).
     * From `degraded` it resets the attempt count; from `retrying` the pending timer decides.
     */
    notify(): void {
      if (stats.state === 'stopped' || stats.state === 'retrying') return;
      if (stats.state === 'degraded') stats.attempts = 0;
      if (running) return;
      // 'sending' at once: status read before the run starts must not say idle with a backlog (F8).
      setState('sending');
      setImmediate(() => void run());
    },
    /** Like notify, but also cuts a pending backoff short (hello, SIGHUP, resume). */
    resume(): void {
      if (stats.state === 'stopped') return;
      if (timer) {
        clearTimeout(timer);
        timer = undefined;
      }
      stats.attempts = 0;
      if (running) return;
      // Straight to 'sending', never through 'idle': idle ends a resync that was just queued (F3).
      setState('sending');
      setImmediate(() => void run());
    },
    /** A snapshot of counters and state. */
    stats(): SenderStats {
      return { ...stats };
    },
    /** True when a timer is pending (for the idle check: none while idle). */
    hasTimer(): boolean {
      return timer !== undefined;
    },
    /** Stops for good: clears the timer; an in-flight push's answer is ignored. */
    stop(): void {
      if (timer) clearTimeout(timer);
      timer = undefined;
      setState('stopped');
    },
  };
}
