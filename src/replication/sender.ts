/**
 * The replication sender of a primary POP (DESIGN.md §4.4 items 1–5, issue 12 item 4). This file
 * is the replication state machine; read it top to bottom.
 *
 * ```
 *  state      event                              next        action
 *  ---------  ---------------------------------  ----------  ------------------------------------------
 *  idle       notify (write committed, hello,    sending     read backlog, push batches until empty
 *             SIGHUP, operator resume)
 *  sending    notify                             sending     (loop re-reads the backlog; nothing to do)
 *  sending    window not full, backlog beyond    sending     send the next batch on the same connection
 *             what is in flight                              (up to PUSH_WINDOW pushes, PUSH_WINDOW_BYTES)
 *  sending    backlog only past what is on disk  sending     wait for the group commit's fsync (never send
 *             (committed, fsync pending)                     what this POP could lose with the machine)
 *  sending    backlog empty, nothing in flight   idle        no timer left behind (event-driven)
 *  sending    oldest push acknowledged           sending     acknowledged position := its last LSN (in order)
 *  sending    a push fails                       (below)     go-back-N: wait for every later push in
 *                                                            flight to settle, ignore their answers, and
 *                                                            restart from the oldest unacknowledged record
 *  sending    gap answer (backup lacks revs)     sending     acknowledged position := the backup's last LSN
 *  sending    push failed, attempt ≤ max_retries retrying    one timer: backoff 1 s, 5 s, 25 s … ≤ 5 min,
 *                                                            at least the backup's Retry-After (≤ 5 min)
 *  retrying   timer fires                        sending     retry the same backlog head
 *  retrying   notify (a write), ≥ PROBE_INTERVAL sending     probe at once (the head push); a probe that
 *             since the last probe, no                       fails keeps the attempt count and re-arms
 *             Retry-After pending, last failure              the timer for the same deadline
 *             of the link (transport error, 5xx)
 *  retrying   notify, last failure a refusal     retrying    no probe: a wrong token or a refused push
 *             (401/403, 4xx, gap, epoch)                     is not cured by trying sooner
 *  retrying   notify, probe too soon             retrying    one timer for the earliest allowed probe
 *  sending    push failed, attempt > max_retries degraded    operator alert: error log CV-5007, metric,
 *                                                            status "degraded"; backlog kept, no timer
 *  degraded   notify                             sending     attempts reset; resume
 *  any        peer reports higher epoch          stopped     onHigherEpoch(epoch): the POP fences itself
 *  any        close                              stopped     timer cleared, waiters released
 * ```
 *
 * The backlog is the revision log past the backup's acknowledged position (issue 12 item 3;
 * DESIGN.md §4.4.2): pushes carry revisions in log order with their LSNs, each push names the LSN it
 * continues (`prev_lsn`) and the sender's epoch history. Order is safe with the backup's rules
 * (receiver.ts: the push must continue its log, (epoch, push_seq) strictly increasing): pushes
 * travel in order on one pipelined connection (peer-client.ts), so they arrive in push_seq order;
 * after a failure, a later push refused as a gap or replay is expected and harmless, and one
 * applied anyway is skipped as identical when resent.
 *
 * Nothing is ever dropped: the acknowledged position moves past a revision only when the backup
 * acknowledged it and every one before it. A revision and its place in the stream are one row,
 * committed together (vault/writer.ts). Batches hold at most `batch_size` revisions and are split
 * further when their JSON would exceed PUSH_SPLIT_BYTES (case F4).
 */
import type { Logger } from 'pino';
import type { NodeStore } from '../store/node-store.js';
import type { VaultFiles } from '../store/vault-files.js';
import { toWire } from '../vault/revision.js';
import type { PeerClient, PushProgress, PushResult } from './peer-client.js';
import { PUSH_SPLIT_BYTES, type LoggedRevisionWire } from './wire.js';
import { retryDelayMs } from './backoff.js';
import { PUSH_WINDOW } from './peer-client.js';
import { Errors } from '../lib/errors.js';

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
  /** Consecutive failed attempts (a failed probe is not one). */
  attempts: number;
  /** Probes: attempts made at once because a write arrived while backing off. */
  probes: number;
}

/**
 * Most body bytes of pushes in flight at once (the window's byte bound, with PUSH_WINDOW its count
 * bound): 16 MiB. A single revision larger than that still travels, alone.
 */
export const PUSH_WINDOW_BYTES = 16 * 1024 * 1024;

/**
 * Least time between two probes, in milliseconds (issue 12 item 4): while backing off, a write
 * makes the sender try the link at once rather than wait out the timer, at most once a second.
 */
export const PROBE_INTERVAL_MS = 1000;

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

/** One push in flight. */
interface InFlight {
  readonly items: LoggedRevisionWire[];
  /** LSN the push continues (the backup's position when it is applied). */
  readonly prevLsn: number;
  /** LSN of its last revision; acknowledging it moves the backup's acknowledged position there. */
  readonly lastLsn: number;
  /** Revisions it covers. */
  readonly rows: number;
  readonly bytes: number;
  readonly result: Promise<PushResult>;
  /** The peer client it was sent with (replaced on SIGHUP). */
  readonly peer: PeerClient;
}

/** Creates a sender in state `idle`. It does nothing until `notify()`. */
export function createSender(deps: SenderDeps) {
  const stats: SenderStats = { state: 'idle', pushesSent: 0, pushesFailed: 0, revisionsSent: 0, retries: 0, alerts: 0, lastAckAt: null, lastError: null, attempts: 0, probes: 0 };
  let timer: NodeJS.Timeout | undefined;
  let probeTimer: NodeJS.Timeout | undefined;
  let running = false;
  let gapRounds = 0;
  /** Monotonic ms when the pending backoff timer fires (a failed probe re-arms it for the same time). */
  let retryAtMs = 0;
  /** Monotonic ms before which no attempt is made: the backup's Retry-After. */
  let notBeforeMs = 0;
  let lastProbeMs = Number.NEGATIVE_INFINITY;
  /**
   * Whether the last failure was one of the link (a transport error or a 5xx answer), which a probe
   * may find cured; a refusal (wrong token, 4xx) is not, and probing it would only add refusals to
   * the backup's log and its authentication throttle.
   */
  let lastFailureOfLink = false;
  /** Whether a push was acknowledged since this sender started or last failed (opens the window). */
  let linkAcked = false;
  const inflight: InFlight[] = [];
  /** Set while the run loop waits for an answer: a write wakes it to send more. */
  let wake: (() => void) | undefined;

  const isStopped = (): boolean => stats.state === 'stopped';
  const setState = (s: SenderState): void => {
    if (stats.state === s) return;
    stats.state = s;
    deps.onState?.(s);
  };

  /**
   * Builds the next push: the revisions with LSN > `afterLsn` (the last one in flight, or the
   * backup's acknowledged position), at most `batchSize` and PUSH_SPLIT_BYTES of bodies (one larger
   * revision travels alone).
   */
  function nextBatch(batchSize: number, afterLsn: number): { items: LoggedRevisionWire[]; prevLsn: number; lastLsn: number; rows: number; bytes: number } | undefined {
    // Only what is on disk here (group-commit.ts): a backup must never hold a revision that this
    // primary could lose with the machine. A write committed but not yet fsync'd is sent once its
    // fsync returned (run() waits for it in state `sending`).
    const durable = deps.node.durableLsn();
    const rows = deps.node.logAfter(afterLsn, batchSize, durable);
    if (rows.length === 0) return undefined;
    const items: LoggedRevisionWire[] = [];
    let bytes = 0;
    let lastLsn = afterLsn;
    for (const row of rows) {
      const wire = { ...toWire(row.rev), lsn: row.lsn };
      const size = wire.body.length + 256;
      if (items.length > 0 && bytes + size > PUSH_SPLIT_BYTES) break;
      items.push(wire);
      bytes += size;
      lastLsn = row.lsn;
    }
    return { items, prevLsn: afterLsn, lastLsn, rows: items.length, bytes };
  }

  function acked(items: readonly LoggedRevisionWire[]): Map<string, number> {
    const m = new Map<string, number>();
    for (const i of items) m.set(i.vault_id, Math.max(m.get(i.vault_id) ?? 0, i.seq));
    return m;
  }

  const describe = (result: Exclude<PushResult, { ok: true }>): string =>
    result.kind === 'transport' ? `transport: ${result.error}` : result.kind === 'auth' ? `authentication refused (HTTP ${result.status}${result.code ? ` ${result.code}` : ''})` : result.kind === 'http' ? `HTTP ${result.status} ${result.code ?? ''}`.trim() : result.kind;

  function arm(atMs: number): void {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      void run(false);
    }, Math.max(0, atMs - performance.now()));
  }

  /**
   * A failed attempt. `probe`: it was a probe, which does not count as an attempt while the backoff
   * timer it cut short had not yet come due: the timer is re-armed for the same moment.
   */
  function fail(result: Exclude<PushResult, { ok: true }>, maxRetries: number, probe: boolean): void {
    // Stopped by a callback of this very push (fencing, a hold): no retry timer, state stays stopped.
    if (isStopped()) return;
    const now = performance.now();
    stats.pushesFailed++;
    stats.lastError = describe(result);
    linkAcked = false;
    lastFailureOfLink = result.kind === 'transport' || (result.kind === 'http' && result.status >= 500);
    const retryAfterMs = result.kind === 'http' ? result.retryAfterMs : undefined;
    if (retryAfterMs !== undefined) notBeforeMs = Math.max(notBeforeMs, now + retryDelayMs(1, retryAfterMs));
    if (probe && retryAtMs > now) {
      setState('retrying');
      arm(Math.max(retryAtMs, notBeforeMs));
      deps.logger.info({ event: 'replication.probe_failed', last_error: stats.lastError, retry_in_ms: Math.round(Math.max(retryAtMs, notBeforeMs) - now) }, 'probe of the backup link failed; the backoff timer stands');
      return;
    }
    stats.attempts++;
    if (stats.attempts > maxRetries) {
      stats.alerts++;
      setState('degraded');
      deps.logger.error({ event: 'replication.alert', code: Errors.REPLICATION_ALERT.code, attempts: stats.attempts, last_error: stats.lastError },
        `${Errors.REPLICATION_ALERT.code}: replication to the backup failed ${stats.attempts} times (${stats.lastError}); backlog kept; sending resumes on the next write, a backup hello, SIGHUP or operator resume`);
      return;
    }
    const delay = retryDelayMs(stats.attempts, retryAfterMs);
    retryAtMs = now + delay;
    stats.retries++;
    deps.onRetry?.();
    setState('retrying');
    deps.logger.warn({ event: 'replication.retry', attempt: stats.attempts, delay_ms: delay, ...(retryAfterMs !== undefined ? { retry_after_ms: retryAfterMs } : {}), last_error: stats.lastError }, 'push failed; retrying');
    arm(retryAtMs);
  }

  /** Fills the window: sends further batches behind those in flight, in backlog order. */
  function fill(batchSize: number, epoch: number, probe: boolean): void {
    let bytes = 0;
    for (const f of inflight) bytes += f.bytes;
    // Pushes stay on one connection so that they arrive in order: after SIGHUP replaced the peer
    // client, new pushes wait until those sent with the old one are answered.
    const peer = deps.peer();
    if (inflight.length > 0 && inflight[0]!.peer !== peer) return;
    // A probe is one push, and so is the first push after a start or a failure: the window opens
    // once the link has acknowledged one (a wrong token or a refusing backup costs one request per
    // attempt, not a window of them).
    const history = deps.node.epochHistory().map((e) => ({ epoch: e.epoch, start_lsn: e.startLsn, pop_id: e.popId }));
    while (inflight.length < (probe || !linkAcked ? 1 : PUSH_WINDOW) && (inflight.length === 0 || bytes < PUSH_WINDOW_BYTES)) {
      const batch = nextBatch(batchSize, inflight.at(-1)?.lastLsn ?? deps.node.ackedLsn());
      if (!batch) return;
      const result = peer.push({ epoch, sender: deps.selfPopId, push_seq: deps.node.nextPushSeq(), prev_lsn: batch.prevLsn, history, items: batch.items });
      inflight.push({ ...batch, result, peer });
      bytes += batch.bytes;
    }
  }

  /**
   * Go-back-N after a failed push: waits for every later push in flight (each ends: answered,
   * failed, or timed out on lack of progress) and forgets them; their records stay in the backlog
   * and are sent again from the oldest unacknowledged one. One that the backup applied anyway is
   * skipped as identical when resent.
   */
  async function drainWindow(): Promise<void> {
    const rest = inflight.splice(0);
    for (const peer of new Set(rest.map((f) => f.peer))) peer.abandonPushes();
    const results = await Promise.all(rest.map((f) => f.result));
    const kinds = results.map((r) => (r.ok ? 'ok' : r.kind));
    if (kinds.length > 0) deps.logger.debug({ event: 'replication.window_discarded', pushes: kinds.length, results: kinds }, 'pushes after a failed one discarded; resending from the oldest unacknowledged record');
  }

  async function run(probe: boolean): Promise<void> {
    if (running || stats.state === 'stopped') return;
    const wait = notBeforeMs - performance.now();
    if (wait > 0) {
      // The backup asked for a pause (Retry-After): nothing is sent before it ends.
      setState('retrying');
      arm(notBeforeMs);
      return;
    }
    running = true;
    let probing = probe;
    setState('sending');
    try {
      for (;;) {
        if (isStopped()) return;
        const { batchSize, maxRetries, epoch } = deps.settings();
        fill(batchSize, epoch, probing);
        const head = inflight[0];
        if (!head && deps.node.lastLsn() > deps.node.ackedLsn()) {
          // Revisions committed but not yet on disk (group-commit.ts): still sending, not idle
          // with a backlog; go on once their fsync returned (or a write wakes the loop).
          await new Promise<void>((resolve) => { wake = resolve; deps.node.afterDurable(resolve); });
          wake = undefined;
          continue;
        }
        if (!head) {
          gapRounds = 0;
          setState('idle');
          return;
        }
        // Wait for the oldest push's answer, or for a write that can join the window.
        const result = await Promise.race([head.result, new Promise<undefined>((resolve) => { wake = () => resolve(undefined); })]);
        wake = undefined;
        if (isStopped()) return;
        if (result === undefined) continue;
        inflight.shift();
        deps.onPushResult?.(result.ok ? 'ok' : result.kind, result.ok ? head.items.length : 0, result);
        deps.logger.debug({ event: 'replication.push_sent', items: head.items.length, in_flight: inflight.length, ok: result.ok, ...(result.ok ? {} : { result: result.kind }) }, 'push sent');
        if (result.ok) {
          if (head.lastLsn > deps.node.ackedLsn()) deps.node.setAckedLsn(head.lastLsn);
          stats.pushesSent++;
          stats.revisionsSent += head.items.length;
          stats.attempts = 0;
          stats.lastError = null;
          stats.lastAckAt = new Date(deps.now()).toISOString();
          gapRounds = 0;
          probing = false;
          linkAcked = true;
          deps.onAck?.(acked(head.items));
          if (result.ack.epoch > epoch) {
            deps.onHigherEpoch(result.ack.epoch);
            return;
          }
          continue;
        }
        await drainWindow();
        if (isStopped()) return;
        if (result.kind === 'stale_epoch' || result.kind === 'not_backup' || (result.kind !== 'transport' && result.kind !== 'auth' && result.kind !== 'http' && result.epoch > epoch)) {
          deps.logger.error({ event: 'replication.higher_epoch', peer_epoch: result.epoch, epoch, reason: result.kind }, 'the peer refused our push: it has a higher epoch or is itself a primary');
          if (result.epoch > epoch) deps.onHigherEpoch(result.epoch);
          fail(result, maxRetries, probing);
          return;
        }
        if (result.kind === 'gap' && gapRounds < 3) {
          gapRounds++;
          // The backup's log stops at `result.lsn` (issue 12 item 3): resume right after it.
          if (result.lsn !== undefined) deps.node.setAckedLsn(Math.min(result.lsn, deps.node.lastLsn()));
          deps.logger.info({ event: 'replication.gap', backup_lsn: result.lsn ?? null, vaults: result.expected.length }, 'the backup lacks revisions: resending from its last log position');
          continue;
        }
        fail(result, maxRetries, probing);
        return;
      }
    } catch (e) {
      deps.logger.error({ event: 'replication.sender_error', err: { message: (e as Error).message } }, 'sender failed');
      await drainWindow().catch(() => {});
      fail({ ok: false, kind: 'transport', error: (e as Error).message }, deps.settings().maxRetries, probing);
    } finally {
      running = false;
    }
  }

  /** Cuts the backoff short with a probe, at most once per PROBE_INTERVAL_MS and never within a Retry-After. */
  function probe(): void {
    if (running || probeTimer || stats.state !== 'retrying' || !lastFailureOfLink) return;
    const now = performance.now();
    if (now < notBeforeMs) return; // the timer is set for the end of the backup's pause
    const at = Math.max(now, lastProbeMs + PROBE_INTERVAL_MS);
    if (timer && retryAtMs <= at) return; // the retry comes first anyway
    if (at > now) {
      probeTimer = setTimeout(() => {
        probeTimer = undefined;
        probe();
      }, at - now);
      return;
    }
    lastProbeMs = now;
    stats.probes++;
    if (timer) clearTimeout(timer);
    timer = undefined;
    deps.logger.info({ event: 'replication.probe', attempt: stats.attempts, backlog: deps.node.backlogStats().count }, 'a write arrived while backing off: probing the backup link now');
    void run(true);
  }

  return {
    /**
     * Wakes the sender (a write committed, the backup said hello, SIGHUP, operator resume).
     * From `degraded` it resets the attempt count; from `retrying` it probes the link (bounded).
     */
    notify(): void {
      if (stats.state === 'stopped') return;
      if (stats.state === 'retrying') return probe();
      if (stats.state === 'degraded') stats.attempts = 0;
      if (running) {
        wake?.();
        return;
      }
      // 'sending' at once: status read before the run starts must not say idle with a backlog (F8).
      setState('sending');
      setImmediate(() => void run(false));
    },
    /** Like notify, but also cuts a pending backoff and a Retry-After pause short (hello, SIGHUP, resume). */
    resume(): void {
      if (stats.state === 'stopped') return;
      if (timer) clearTimeout(timer);
      if (probeTimer) clearTimeout(probeTimer);
      timer = probeTimer = undefined;
      notBeforeMs = 0;
      stats.attempts = 0;
      if (running) {
        wake?.(); // records re-queued by a resync join the window
        return;
      }
      // Straight to 'sending', never through 'idle': idle ends a resync that was just queued (F3).
      setState('sending');
      setImmediate(() => void run(false));
    },
    /** A snapshot of counters and state. */
    stats(): SenderStats {
      return { ...stats };
    },
    /** Pushes in flight and their progress (status `replication.in_flight`), or null. */
    inFlight(): PushProgress | null {
      return isStopped() ? null : (inflight[0]?.peer ?? deps.peer()).progress();
    },
    /** True when a timer is pending (for the idle check: none while idle). */
    hasTimer(): boolean {
      return timer !== undefined || probeTimer !== undefined;
    },
    /** Stops for good: clears the timers; the answers of pushes in flight are ignored. */
    stop(): void {
      if (timer) clearTimeout(timer);
      if (probeTimer) clearTimeout(probeTimer);
      timer = probeTimer = undefined;
      setState('stopped');
    },
  };
}
