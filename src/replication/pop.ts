/**
 * A commercial POP at run time (DESIGN.md §4.3–4.5): its configured role, its epoch, the derived
 * `fenced` state, the sender (primary only; a backup never replicates further), the receiver,
 * SIGHUP reload with role changes, drain for a planned switchover, and synchronous writes.
 *
 * Roles and transitions:
 *
 * | from     | event                                   | to       | what happens                                     |
 * | -------- | --------------------------------------- | -------- | ------------------------------------------------ |
 * | (start)  | file says primary                       | primary  | epoch check with the peer before taking writes   |
 * | (start)  | file says primary, last role was backup | primary  | peer check, then promotion: epoch = seen + 1     |
 * | (start)  | the same, peer answers as live primary  | held     | no promotion; writes 503 CV-5017, alert; waits   |
 * | backup   | reload with role primary (SIGHUP)       | primary  | peer check, then promotion, resync (as at start) |
 * | backup   | reload, peer answers as live primary    | held     | as at start                                      |
 * | held     | peer demoted (its hello), SIGHUP, resume| primary  | peer check again, then promotion                 |
 * | held     | operator `promote --force`              | primary  | logged override: promoted over the live peer     |
 * | backup   | control-plane promote directive         | primary  | promotion to the assigned epoch (no peer check)  |
 * | primary  | backup holds revisions this POP lacks   | held     | writes 503 CV-5018, alert, sender stopped; kept  |
 * |          | (its positions, or a diverged push)     |          | across restarts until demotion or a re-check     |
 * | primary  | peer reports a higher epoch             | fenced   | writes 503 CV-5002, alert, sender stopped        |
 * | primary  | reload with role backup                 | backup   | demotion: unacked revisions → quarantine, hello  |
 * | fenced   | reload with role backup                 | backup   | demotion, as above                               |
 * | held     | reload with role backup                 | backup   | hold cleared; demotion unless never promoted     |
 * | primary  | operator drain                          | primary  | writes 503 CV-5008 until backlog is 0 / resume   |
 * | any      | reload whose file role disagrees with a | same     | running role kept (no role change nobody asked   |
 * |          | control-plane directive                 |          | for); role_source control_plane, CV-5020 warning |
 *
 * "held" (issue 11 items 2–3, DESIGN.md §4.5 "No self-promotion over a live primary") is reported
 * as role `fenced` with the reason in status `hold`; unlike a fence it raises no epoch.
 *
 * Rule when the peer cannot be reached at start (issue 3): a POP configured primary refuses writes
 * (503 CV-5012) while it asks its backup for its epoch, for at most EPOCH_CHECK_TIMEOUT_MS; if the
 * backup does not answer in that time it accepts writes in its own epoch. Any write taken that way
 * by a POP that had in fact been superseded is in an older epoch, is never acknowledged by the
 * successor, and is quarantined when that POP is demoted — set aside, never silently lost.
 */
import { readFileSync } from 'node:fs';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ReplicationConfig } from '../config/types.js';
import type { EditionContext } from '../http/server.js';
import type { Edition, StatusBody, WriteRefusal } from '../edition/edition.js';
import { createEpochStore } from './epoch.js';
import { createPeerClient, type PeerClient, type PeerTls } from './peer-client.js';
import { createSender, type Sender } from './sender.js';
import { applyPush } from './receiver.js';
import { replicationRoutes } from './routes.js';
import { presentsPeerToken } from './peer-auth.js';
import { operatorPopRoutes } from './operator-routes.js';
import { quarantineBacklog, releaseHeldQuarantine } from './demote.js';
import { reconcile } from './reconcile.js';
import { vaultDigest, type VaultDigest } from './digest.js';
import { createAckWaiters, MAX_SYNC_WAIT_MS } from './ack-waiters.js';
import type { PeerInfo } from './wire.js';
import { ClavitorError, Errors, isCvError } from '../lib/errors.js';
import { peerCertificateProblem } from './peer-cert.js';
import { registerPopMetrics } from './pop-metrics.js';
import { createHeartbeat, type Heartbeat } from '../controlplane/heartbeat.js';
import { controlPlaneTls } from '../controlplane/heartbeat-tls.js';
import { swapRole } from '../controlplane/role-swap.js';
import { monotonicMs, steadyWallMs } from '../lib/clock.js';
import type { Directive, HeartbeatRequest, HeartbeatResponse } from '../controlplane/protocol.js';

/** Seconds a refused client is told to wait (Retry-After) before retrying a write. */
export const RETRY_AFTER_SECONDS = 5;
/** How long a starting primary waits for its peer's epoch before deciding alone, in milliseconds. */
export const EPOCH_CHECK_TIMEOUT_MS = 3000;
/** Request header asking a write to wait for the backup's acknowledgement, in milliseconds (1..30000). */
export const SYNC_HEADER = 'x-clavitor-sync-timeout-ms';
/** Response header saying whether a synchronous write was acknowledged by the backup in time. */
export const REPLICATED_HEADER = 'x-clavitor-replicated';

/** A running POP: an Edition plus operator actions. */
export interface Pop extends Edition {
  /** Current configuration. */
  config(): ReplicationConfig;
  /** Reported role. */
  role(): 'primary' | 'backup' | 'fenced';
  /** Applies a new validated configuration in place (SIGHUP; DESIGN.md §4.4.10). */
  reload(next: ReplicationConfig, opts?: { epoch?: number }): void;
  /** Wakes a degraded sender (operator resume), ends a drain, and re-checks a hold. */
  resume(): void;
  /** Resolves once the start-up decision (peer check, positions) is made; bounded by the caller. */
  ready(): Promise<void>;
  /** Lines to print after the DESIGN.md §4.1 start-up line: the role's source and any write refusal. */
  startupNotes(): string[];
  /**
   * Operator override (`clavitor-commercial promote --force`): promotes a POP held back because its
   * peer answers as a live primary; logged. Throws NOTHING_TO_FORCE when no such hold exists.
   */
  forcePromote(): { role: string; epoch: number };
}

function tlsOf(cfg: ReplicationConfig): PeerTls | undefined {
  const a = cfg.auth;
  if (!a.mtlsCert && !a.mtlsCa) return undefined;
  return {
    ...(a.mtlsCert ? { cert: readFileSync(a.mtlsCert) } : {}),
    ...(a.mtlsKey ? { key: readFileSync(a.mtlsKey) } : {}),
    ...(a.mtlsCa ? { ca: readFileSync(a.mtlsCa) } : {}),
  };
}

/** Node-meta key of a persisted control-plane directive: `{"file_role","role"}`. */
const CP_DIRECTIVE_KEY = 'cp_directive';

/** Where the running role comes from: the file, or a persisted control-plane directive. */
export type RoleSource = 'file' | 'control_plane';

/**
 * The configuration to run with: the file, or — when a control-plane directive changed this POP's
 * role and the file still says the other role — the file with roles swapped (issue 5: a directive
 * is "persisted so a restart does not undo it"). Only a file that says the running role clears the
 * directive (the operator took back control); removing the `control_plane` block does not, because
 * applying the stale file role would be a role change nobody asked for (issue 11 item 7). Throws
 * CONFIG_INVALID when the file names no peer to run the directed role with.
 */
function effectiveConfig(ctx: EditionContext, file: ReplicationConfig): { cfg: ReplicationConfig; source: RoleSource } {
  const raw = ctx.node.getMeta(CP_DIRECTIVE_KEY);
  if (!raw) return { cfg: file, source: 'file' };
  const d = JSON.parse(raw) as { file_role: string; role: string };
  if (d.role === file.role) {
    ctx.node.setMeta(CP_DIRECTIVE_KEY, '');
    return { cfg: file, source: 'file' };
  }
  const swapped = swapRole(file);
  if (!swapped) {
    throw new ClavitorError(Errors.CONFIG_INVALID, `${file.path}:1:1: role: a control-plane directive made this POP ${d.role}; this file says ${file.role} and names no ${file.role === 'backup' ? 'primary_pop' : 'backup_pop'} to run as ${d.role} with. Say role: "${d.role}" to take the role back into the file`);
  }
  return { cfg: swapped, source: 'control_plane' };
}

/** Node-meta key of a persisted backup-ahead hold (issue 11 item 3): kept across restarts. */
const HOLD_KEY = 'write_hold';

/**
 * Why a POP configured primary takes no client writes although no higher epoch fenced it
 * (issue 11 items 2–3; DESIGN.md §4.5): its peer answers as a live primary (`peer_is_primary`,
 * CV-5017), or its backup holds revisions it lacks (`backup_ahead`, CV-5018). Shown in status
 * `hold`; `since` is an ISO time for display.
 */
export interface WriteHold {
  readonly reason: 'peer_is_primary' | 'backup_ahead';
  readonly code: string;
  readonly message: string;
  readonly since: string;
  /** The peer as it answered (pop_id, role, epoch), when known. */
  readonly peer: PeerInfo | null;
  /** Vaults where the backup is ahead or diverged (backup_ahead only). */
  readonly vaults: readonly string[];
  /** How it was learnt: the peer's epoch answer, the backup's positions, a diverged push, or the push counter. */
  readonly cause: 'peer_epoch' | 'positions' | 'diverged' | 'push_counter';
}

/** Resolves with `p`, or with `{ error: 'timeout' }` after `ms` milliseconds. */
async function within<T>(p: Promise<T>, ms: number): Promise<T | { error: string }> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<{ error: string }>((r) => { timer = setTimeout(() => r({ error: 'timeout' }), ms); })]);
  } finally {
    clearTimeout(timer);
  }
}

/** Builds the POP from storage and its validated configuration. Does no I/O to the peer until `start()`. */
export function createPop(ctx: EditionContext, initial: ReplicationConfig): Pop {
  const { node, files, logger, metrics } = ctx;
  let fileRole = initial.role;
  const first = effectiveConfig(ctx, initial);
  let cfg = first.cfg;
  let roleSource: RoleSource = first.source;
  const epochs = createEpochStore(node);
  const waiters = createAckWaiters();
  let pushesReceived = 0;
  let sender: Sender | undefined;
  let peer: PeerClient | undefined;
  let closed = false;
  let draining = false;
  /** Control-plane lease of a primary: writes allowed until this time (ms, monotonic clock: src/lib/clock.ts, F12). */
  let leaseUntilMs = 0;
  let heartbeat: Heartbeat | undefined;
  /** When the control plane last answered (ms, monotonic clock); 0 before any answer. */
  let lastAnswerAtMs = 0;
  /**
   * Sum of every vault's head seq, kept up to date by commits and applied pushes instead of opening
   * every vault file on each heartbeat; recomputed after a demotion truncates vaults.
   */
  let positionTotal: number | undefined;
  let epochCheckPending = false;
  let lastCommitted: { vaultId: string; seq: number } | undefined;
  let resync: { queued: number; startedAt: string } | undefined;
  /** Configured primary, last role backup, promotion waiting for the peer check (issue 11 item 2). */
  let pendingPromotion = false;
  let hold: WriteHold | undefined = loadHold();
  let startDecision: Promise<void> = Promise.resolve();

  const fenced = (): boolean => cfg.role === 'primary' && !pendingPromotion && epochs.seen() > epochs.epoch();
  const role = (): 'primary' | 'backup' | 'fenced' => (fenced() || (cfg.role === 'primary' && hold) ? 'fenced' : cfg.role);
  const self = (): PeerInfo => ({ pop_id: cfg.popId, role: role(), epoch: epochs.epoch() });
  const alerts = { inc: (reason: string) => counters.alerts.inc({ reason }) };

  /** Promotion rule (DESIGN.md §4.4.6): one more than the highest epoch seen. */
  function promote(assigned?: number): void {
    const next = assigned ?? epochs.seen() + 1;
    epochs.setEpoch(next);
    logger.warn({ event: 'pop.promoted', epoch: next }, `POP ${cfg.popId} promoted to primary in epoch ${next}`);
  }

  /**
   * Demotion (DESIGN.md §4.4.7), by SIGHUP or by a restart with a file that now says backup: what
   * the successor never acknowledged goes to quarantine, and the successor's epoch is reserved. It
   * is promoted to at least ours + 1, maybe without this POP ever hearing of it (link down, then it
   * crashes), so a later promotion of this POP must go above it (both found by the chaos harness).
   */
  function demote(popId: string): void {
    epochs.observe(epochs.epoch() + 1);
    positionTotal = undefined;
    const res = quarantineBacklog(node, files, `unacknowledged by the backup when ${popId} was demoted in epoch ${epochs.epoch()}`, new Date());
    logger.warn({ event: 'pop.demoted', quarantined: res.quarantined, vaults: res.vaults }, `POP ${popId} demoted to backup; ${res.quarantined} unacknowledged revisions quarantined`);
  }

  function loadHold(): WriteHold | undefined {
    const raw = node.getMeta(HOLD_KEY);
    return raw ? (JSON.parse(raw) as WriteHold) : undefined;
  }
  /** False until this process has logged and counted the current hold (a persisted one too). */
  let holdAnnounced = false;

  /**
   * Holds client writes back (issue 11 items 2–3): stops the sender, releases synchronous waiters,
   * and on a new reason raises the alert (metric clavitor_replication_alerts_total{reason}, error
   * log with the code). A backup-ahead hold is persisted so that a restart keeps it.
   */
  function setHold(h: Omit<WriteHold, 'since' | 'code' | 'message'>): void {
    const def = h.reason === 'peer_is_primary' ? Errors.PEER_IS_PRIMARY : Errors.BACKUP_AHEAD;
    const fresh = hold?.reason !== h.reason;
    const message = h.reason === 'peer_is_primary'
      ? `${def.code}: POP ${cfg.popId} is configured primary but its peer ${h.peer?.pop_id ?? '?'} answers as a live primary in epoch ${h.peer?.epoch ?? '?'}; not promoting, refusing client writes. Demote ${h.peer?.pop_id ?? 'the peer'} first (then SIGHUP or resume this POP), make this POP a backup, or override with clavitor-commercial promote --force`
      : `${def.code}: POP ${cfg.popId} is primary but its backup holds revisions it lacks in ${h.vaults.length} vault(s) (data restored from an older snapshot?); refusing client writes until an operator resolves it (docs/operations.md "A primary behind its backup")`;
    hold = { ...h, code: def.code, message, since: fresh || !hold ? new Date().toISOString() : hold.since };
    if (h.reason === 'backup_ahead') node.setMeta(HOLD_KEY, JSON.stringify(hold));
    sender?.stop();
    sender = undefined;
    waiters.releaseAll();
    if (fresh) holdAnnounced = false;
    announceHold();
  }

  /** The alert of a hold, once per hold and process: metric reason and error log with the code. */
  function announceHold(): void {
    if (!hold || holdAnnounced) return;
    holdAnnounced = true;
    alerts.inc(hold.reason);
    logger.error({ event: `pop.${hold.reason}`, code: hold.code, cause: hold.cause, peer: hold.peer, vaults: hold.vaults.slice(0, 20) }, hold.message);
  }

  function clearHold(why: string): void {
    if (!hold) return;
    logger.warn({ event: 'pop.hold_cleared', reason: hold.reason }, `client writes no longer held back (${hold.reason}): ${why}`);
    hold = undefined;
    holdAnnounced = false;
    node.setMeta(HOLD_KEY, '');
  }

  // Role on start: a POP whose last role was backup and is now configured primary is promoted once
  // its peer check allows it (startPrimary; issue 11 item 2); one whose last role was primary and
  // is now configured backup is demoted.
  const lastRole = node.getMeta('last_role');
  if (cfg.role === 'primary' && (lastRole === 'backup' || epochs.epoch() === 0)) {
    if (lastRole === 'backup') pendingPromotion = true;
    else epochs.setEpoch(Math.max(1, epochs.seen()));
  } else if (cfg.role === 'backup' && lastRole === 'primary') {
    demote(cfg.popId);
  }
  if (cfg.role === 'backup') hold = undefined;
  node.setMeta('last_role', pendingPromotion ? 'backup' : cfg.role);
  if (roleSource === 'control_plane') noteRoleSource();
  releaseHeld();

  /** Warns that the running role comes from a control-plane directive, not the file (issue 11 item 7). */
  function noteRoleSource(): void {
    logger.warn({ event: 'pop.role_from_control_plane', code: Errors.ROLE_FILE_DISAGREES.code, role: cfg.role, file_role: fileRole },
      `${Errors.ROLE_FILE_DISAGREES.code}: running as ${cfg.role} by a control-plane directive; replication.yaml says ${fileRole}. No role change happens until the file says role: "${cfg.role}" (or the control plane directs otherwise)`);
  }

  /** Drops from the owner's quarantine what the successor sent back byte-identically (issue 11 item 8). */
  function releaseHeld(vaultIds?: Iterable<string>): void {
    const held = releaseHeldQuarantine(node, files, new Date(), vaultIds);
    if (held > 0) logger.info({ event: 'quarantine.held_by_successor', revisions: held }, `${held} quarantined revisions are held by the primary after all; no longer listed as quarantined`);
  }

  function fence(higher: number): void {
    const newly = epochs.observe(higher);
    if (!fenced()) return;
    sender?.stop();
    waiters.releaseAll();
    if (!newly) return;
    alerts.inc('fenced');
    logger.error({ event: 'pop.fenced', code: Errors.FENCED.code, epoch: epochs.epoch(), seen_epoch: epochs.seen() },
      `${Errors.FENCED.code}: POP ${cfg.popId} is configured primary but epoch ${epochs.seen()} exists elsewhere; refusing client writes. Make it a backup (edit replication.yaml, SIGHUP) to rejoin.`);
  }

  function makePeer(): PeerClient | undefined {
    const target = cfg.role === 'primary' ? cfg.backupPop : cfg.primaryPop;
    if (!target) return undefined;
    const token = cfg.backupPop?.sendToken ?? cfg.auth.acceptTokens[0]!;
    const tls = tlsOf(cfg);
    return createPeerClient({ url: target.url, token, selfPopId: cfg.popId, ...(tls ? { tls } : {}) });
  }

  function makeSender(): Sender {
    return createSender({
      node, files, logger,
      selfPopId: cfg.popId,
      peer: () => peer!,
      settings: () => ({ batchSize: cfg.replication.batchSize, maxRetries: cfg.replication.maxRetries, epoch: epochs.epoch() }),
      onHigherEpoch: (e) => fence(e),
      onAck: (acked) => waiters.ack(acked),
      onPushResult: (result, revisions, detail) => {
        counters.pushes.inc({ direction: 'sent', result });
        if (revisions > 0) counters.revisions.inc({ direction: 'sent' }, revisions);
        if (detail.ok || cfg.role !== 'primary') return;
        if (detail.kind === 'diverged') {
          setHold({ reason: 'backup_ahead', cause: 'diverged', peer: null, vaults: [...new Set(detail.diverged.map((d) => d.vault_id))] });
        } else if (detail.kind === 'replayed') {
          pushCounterBehind(detail.lastPushSeq);
        }
      },
      onRetry: () => counters.retries.inc(),
      onState: (s) => {
        if (s === 'degraded') alerts.inc('retries_exhausted');
        if (s === 'idle' && resync) {
          logger.info({ event: 'replication.resync_done', revisions: resync.queued }, 'full resync complete');
          resync = undefined;
        }
      },
      now: steadyWallMs,
    });
  }

  /**
   * The backup refused a push as already seen although this POP never sent that counter: node.db
   * was restored from an older snapshot (issue 11 item 3), not a replay attack. Says so (error log
   * CV-5019, alert `push_counter_behind`), moves the counter above the backup's, and re-checks the
   * backup's positions, which holds writes back when the backup is ahead.
   */
  function pushCounterBehind(backupLast: number): void {
    const ours = node.advancePushSeq(backupLast);
    if (ours >= backupLast) return;
    alerts.inc('push_counter_behind');
    logger.error({ event: 'replication.push_counter_behind', code: Errors.PUSH_COUNTER_BEHIND.code, push_seq: ours, backup_last_push_seq: backupLast },
      `${Errors.PUSH_COUNTER_BEHIND.code}: push counter behind the backup's (${ours} < ${backupLast}): restored from snapshot? Counter moved above it; checking whether the backup holds revisions this POP lacks`);
    void reconcileWithBackup();
  }

  /**
   * Full resync check against the backup's positions (DESIGN.md §4.4.8); then wake the sender. A
   * backup ahead of this primary holds client writes back (CV-5018, issue 11 item 3); a re-check
   * that finds it no longer ahead clears a hold learnt from positions. `ms` bounds the request.
   */
  async function reconcileWithBackup(ms?: number): Promise<void> {
    const p = peer;
    if (!p || cfg.role !== 'primary' || fenced() || pendingPromotion) return;
    const r = ms === undefined ? await p.positions() : await within(p.positions(), ms);
    if ('error' in r) {
      logger.warn({ event: 'replication.positions_unavailable', error: r.error }, 'backup positions unavailable; the stream resumes as usual');
    } else if (cfg.role === 'primary' && !fenced() && !pendingPromotion) {
      if (r.epoch > epochs.epoch()) return fence(r.epoch);
      const res = reconcile(node, files, r.positions, steadyWallMs());
      if (res.ahead.length > 0 && (r.role === undefined || r.role === 'backup')) {
        return setHold({ reason: 'backup_ahead', cause: 'positions', peer: { pop_id: cfg.backupPop?.id ?? '', role: 'backup', epoch: r.epoch }, vaults: res.ahead });
      }
      if (hold?.reason === 'backup_ahead' && hold.cause !== 'diverged' && res.ahead.length === 0) clearHold('the backup no longer holds revisions this POP lacks');
      if (res.revisions > 0) {
        resync = { queued: (resync?.queued ?? 0) + res.revisions, startedAt: resync?.startedAt ?? new Date().toISOString() };
        logger.warn({ event: 'replication.resync', vaults: res.vaults, revisions: res.revisions }, `full resync: queued ${res.revisions} revisions of ${res.vaults} vaults the backup lacks`);
      }
    }
    if (hold || cfg.role !== 'primary' || fenced() || pendingPromotion) return;
    if (!sender) sender = makeSender();
    sender.resume();
  }

  /**
   * Primary start-up, and promotion by SIGHUP (issue 11 item 2; DESIGN.md §4.5): client writes are
   * refused (CV-5012) while the peer is asked for its role and epoch and the backup for its
   * positions, each for at most EPOCH_CHECK_TIMEOUT_MS. A POP waiting for promotion is never
   * promoted over a peer that answers as an unfenced primary: it holds (CV-5017) until the peer is
   * demoted or unreachable at a re-check, or an operator forces it. An unreachable peer does not
   * hold it (the rule of issue 3). Not promoting: a higher epoch, or a primary in the same epoch,
   * fences it (F1).
   */
  async function startPrimary(): Promise<void> {
    if (fenced()) return fence(epochs.seen());
    epochCheckPending = true;
    try {
      const p = peer;
      const info = p ? await within(p.epoch(), EPOCH_CHECK_TIMEOUT_MS) : { error: 'no peer' };
      if (cfg.role !== 'primary' || closed) return;
      if ('error' in info) {
        logger.warn({ event: 'pop.peer_epoch_unknown', error: info.error }, 'backup did not answer the epoch check; accepting writes in our own epoch (see docs/operations.md)');
      } else if (pendingPromotion) {
        epochs.observe(info.epoch);
        if (info.role === 'primary') return setHold({ reason: 'peer_is_primary', cause: 'peer_epoch', peer: info, vaults: [] });
      } else if (info.epoch > epochs.epoch() || (info.role === 'primary' && info.epoch === epochs.epoch())) {
        return fence(Math.max(info.epoch, epochs.epoch() + 1));
      }
      if (pendingPromotion) {
        if (hold?.reason === 'peer_is_primary') clearHold('the peer no longer answers as a live primary');
        finishPromotion();
      }
      if (!hold && !sender) sender = makeSender();
      await reconcileWithBackup(EPOCH_CHECK_TIMEOUT_MS);
      announceHold();
    } finally {
      epochCheckPending = false;
    }
  }

  /** Promotion once allowed: epoch = highest seen + 1 (or `assigned`), last role primary. */
  function finishPromotion(assigned?: number): void {
    pendingPromotion = false;
    promote(assigned);
    node.setMeta('last_role', 'primary');
    if (!hold && !sender) sender = makeSender();
  }

  /** Re-check of a hold on an operator action (SIGHUP, resume) or the peer's hello. */
  function recheck(): void {
    if (cfg.role !== 'primary' || fenced()) return;
    if (pendingPromotion) startDecision = startPrimary();
    else void reconcileWithBackup();
  }

  function helloToPrimary(): void {
    const p = peer;
    if (!p) return;
    void p.hello(self()).then((info) => {
      if ('error' in info) logger.warn({ event: 'replication.hello_failed', error: info.error }, 'could not announce this backup to its primary');
      else if (info.epoch > epochs.epoch()) epochs.observe(info.epoch);
    });
  }

  peer = makePeer();

  /** State reported to the control plane (src/controlplane/protocol.ts). */
  function heartbeatReport(): HeartbeatRequest {
    if (positionTotal === undefined) {
      positionTotal = 0;
      for (const v of node.listVaults()) positionTotal += files.find(v)?.maxSeq() ?? 0;
    }
    const position = positionTotal;
    const st = sender?.stats();
    return {
      pop_id: cfg.popId,
      region: cfg.region,
      role: role(),
      epoch: epochs.epoch(),
      peer_id: (cfg.role === 'primary' ? cfg.backupPop?.id : cfg.primaryPop?.id) ?? null,
      position,
      backlog: node.backlogStats().count,
      lag_seconds: lagSeconds(),
      healthy: role() !== 'fenced' && st?.state !== 'degraded',
      heartbeat_interval_seconds: cfg.controlPlane?.heartbeatIntervalSeconds ?? 60,
    };
  }

  /** Applies a control-plane answer: lease renewal, higher epochs, directives (issue 5 item 1). */
  function onControlPlaneAnswer(a: HeartbeatResponse, sentAtMs: number): void {
    lastAnswerAtMs = monotonicMs();
    const d = a.directive;
    const wantRole = d?.action === 'promote' ? 'backup' : 'primary';
    if (d && cfg.role === wantRole) return applyDirective(d);
    if (a.epoch > epochs.seen()) {
      if (cfg.role === 'primary') fence(a.epoch);
      else epochs.observe(a.epoch);
    }
    if (role() === 'primary' && a.lease_ttl_ms > 0) leaseUntilMs = Math.max(leaseUntilMs, sentAtMs + a.lease_ttl_ms);
  }

  /**
   * Applies a promote or demote directive like a reload, persisting it (issue 5 item 1). A
   * promotion takes exactly the epoch the control plane assigned, which must be above every epoch
   * this POP has seen; otherwise the directive is refused and logged (the control plane is behind).
   */
  function applyDirective(d: Directive): void {
    if (d.action === 'promote' && d.epoch <= epochs.seen()) {
      logger.error({ event: 'controlplane.directive_refused', action: d.action, epoch: d.epoch, seen_epoch: epochs.seen() }, `refusing promotion to epoch ${d.epoch}: this POP has already seen epoch ${epochs.seen()}`);
      return;
    }
    const next = swapRole(cfg);
    if (!next) {
      logger.error({ event: 'controlplane.directive_refused', action: d.action }, `cannot ${d.action}: replication.yaml names no ${cfg.role === 'backup' ? 'primary_pop' : 'backup_pop'} to swap with`);
      return;
    }
    logger.warn({ event: 'controlplane.directive', action: d.action, epoch: d.epoch }, `control plane directs this POP to ${d.action} (epoch ${d.epoch})`);
    node.setMeta(CP_DIRECTIVE_KEY, JSON.stringify({ file_role: fileRole, role: next.role }));
    if (d.action === 'demote') epochs.observe(d.epoch);
    leaseUntilMs = 0;
    pop.reload(next, { epoch: d.epoch });
    heartbeat?.beatNow();
  }

  function lagSeconds(): number {
    const { oldestMs } = node.backlogStats();
    return oldestMs === null ? 0 : Math.max(0, (steadyWallMs() - oldestMs) / 1000);
  }

  const counters = registerPopMetrics(metrics.registry, {
    role,
    epoch: () => epochs.epoch(),
    backlog: () => node.backlogStats().count,
    lagSeconds,
    resyncRemaining: () => (resync ? node.backlogStats().count : 0),
    heartbeatAgeSeconds: () => (cfg.controlPlane ? (lastAnswerAtMs ? (monotonicMs() - lastAnswerAtMs) / 1000 : -1) : undefined),
    leaseRemainingSeconds: () => (cfg.controlPlane && role() === 'primary' ? Math.max(0, leaseUntilMs - monotonicMs()) / 1000 : undefined),
    acceptingWrites: () => pop.refuseClientWrite() === undefined,
  });

  const pop: Pop = {
    name: 'commercial',
    hooks: {
      beforeCommit(vaultId, seq) {
        // The write gate again, at commit time: a request admitted (onRequest) while this POP was an
        // undrained primary may reach its commit after a drain, demotion or fencing (cases F1, F2).
        const refusal = pop.refuseClientWrite();
        if (refusal) throw new ClavitorError(Errors[refusal.error], undefined, undefined, refusal.headers);
        node.addBacklog(vaultId, seq, steadyWallMs());
      },
      afterCommit(vaultId, seq) {
        if (positionTotal !== undefined) positionTotal++;
        lastCommitted = { vaultId, seq };
        sender?.notify();
      },
    },
    identity: () => ({ popId: cfg.popId, epoch: epochs.epoch() }),
    refuseClientWrite(): WriteRefusal | undefined {
      const r = role();
      const headers: Record<string, string> = { 'retry-after': String(RETRY_AFTER_SECONDS) };
      if (cfg.role === 'primary' && hold && !fenced()) {
        if (hold.reason === 'backup_ahead') return { error: 'BACKUP_AHEAD', headers };
        return { error: 'PEER_IS_PRIMARY', headers: cfg.backupPop ? { ...headers, 'x-primary-location': cfg.backupPop.url } : headers };
      }
      if (r === 'primary') {
        if (epochCheckPending) return { error: 'STARTING', headers: { 'retry-after': '1' } };
        if (cfg.controlPlane && monotonicMs() >= leaseUntilMs) return { error: 'LEASE_EXPIRED', headers: { 'retry-after': '1' } };
        if (draining) return { error: 'DRAINING', headers };
        return undefined;
      }
      if (cfg.primaryPop) headers['x-primary-location'] = cfg.primaryPop.url;
      return { error: r === 'fenced' ? 'FENCED' : 'READ_ONLY_BACKUP', headers };
    },
    async afterClientWrite(req: FastifyRequest, reply: FastifyReply) {
      const raw = req.headers[SYNC_HEADER];
      const last = lastCommitted;
      if (raw === undefined || !last) return;
      const ms = Number(raw);
      if (!Number.isInteger(ms) || ms < 1 || ms > MAX_SYNC_WAIT_MS) return;
      const ok = sender ? await waiters.wait(last.vaultId, last.seq, ms) : false;
      reply.header(REPLICATED_HEADER, ok ? 'true' : 'false');
    },
    serverTls: () => (cfg.auth.mtlsCa ? { ca: readFileSync(cfg.auth.mtlsCa) } : {}),
    isPeerRequest: (req: FastifyRequest) => presentsPeerToken(req.url, req.headers.authorization, cfg.auth.acceptTokens),
    async registerRoutes(app) {
      await replicationRoutes(app, {
        acceptTokens: () => cfg.auth.acceptTokens,
        peerCertificateProblem: (req, allowSelf) => peerCertificateProblem(req, cfg, allowSelf),
        self,
        applyPush(push, peerCert) {
          let ack;
          try {
            ack = applyPush({ node, files, getEpoch: () => epochs.epoch(), adoptEpoch: (e) => epochs.setEpoch(e) }, push);
          } catch (e) {
            if (isCvError(e, 'REPLAYED_PUSH')) {
              // What the backup sees of a primary restored from an older snapshot (issue 11 item 3).
              alerts.inc('push_counter_behind');
              logger.error({ event: 'replication.push_counter_behind', code: Errors.PUSH_COUNTER_BEHIND.code, sender: push.sender, push_seq: push.push_seq, last_push_seq: e.details?.last_push_seq },
                `${Errors.PUSH_COUNTER_BEHIND.code}: push from ${push.sender} refused: its push counter is not above the last one accepted from it. Restored from snapshot? (a primary whose data directory went back); the primary moves its counter up when told. If it repeats, look for a second sender with that pop_id`);
            }
            throw e;
          }
          pushesReceived++;
          if (positionTotal !== undefined) positionTotal += ack.applied;
          counters.pushes.inc({ direction: 'received', result: 'ok' });
          if (ack.applied > 0) {
            counters.revisions.inc({ direction: 'received' }, ack.applied);
            releaseHeld(push.items.map((i) => i.vault_id));
          }
          logger.debug({ event: 'replication.push_applied', sender: push.sender, items: push.items.length, applied: ack.applied, skipped: ack.skipped, epoch: ack.epoch, ...(peerCert ? { peer_cert: peerCert } : {}) }, 'push applied');
          return ack;
        },
        onPushWhileNotBackup(push) {
          if (push.epoch > epochs.epoch()) fence(push.epoch);
        },
        onHello(p) {
          if (cfg.role === 'primary' && p.pop_id !== cfg.backupPop?.id) {
            logger.warn({ event: 'replication.hello_ignored', peer: p.pop_id, expected: cfg.backupPop?.id ?? null }, `hello from ${p.pop_id}, which is not this POP's configured backup; ignored`);
            return;
          }
          logger.info({ event: 'replication.hello', peer: p.pop_id, peer_epoch: p.epoch }, 'backup announced itself');
          if (pendingPromotion) return recheck();
          if (p.epoch > epochs.epoch()) fence(p.epoch);
          void reconcileWithBackup();
        },
        onAuthFailure(req: FastifyRequest, reason: string) {
          logger.warn({ event: 'replication.auth_failed', remote: req.ip, path: req.url, reason, code: Errors.REPLICATION_AUTH.code }, `replication request refused: ${reason}`);
        },
        positions() {
          const out: Record<string, number> = {};
          for (const v of node.listVaults()) out[v] = files.find(v)?.maxSeq() ?? 0;
          return out;
        },
        digests() {
          const out: Record<string, VaultDigest> = {};
          for (const v of node.listVaults()) {
            const s = files.find(v);
            if (s) out[v] = vaultDigest(s);
          }
          return out;
        },
      });
      await operatorPopRoutes(app, {
        adminToken: ctx.adminToken,
        async drain(timeoutMs) {
          if (role() !== 'primary') return { drained: false, backlog: node.backlogStats().count, role: role() };
          draining = true;
          logger.warn({ event: 'pop.drain' }, 'draining: client writes refused until the backlog is empty');
          sender?.resume();
          const deadline = monotonicMs() + timeoutMs;
          while (node.backlogStats().count > 0 && monotonicMs() < deadline && role() === 'primary') await new Promise((r) => setTimeout(r, 20));
          const backlog = node.backlogStats().count;
          return { drained: backlog === 0, backlog, role: role() };
        },
        resume() {
          pop.resume();
          return { state: sender?.stats().state ?? 'idle', draining };
        },
        forcePromote: () => pop.forcePromote(),
      });
    },
    status(): StatusBody {
      const st = sender?.stats();
      const backlog = node.backlogStats().count;
      const state = resync && backlog > 0 ? 'resyncing' : st ? (st.state === 'stopped' ? 'degraded' : st.state) : 'idle';
      return {
        edition: 'commercial',
        role: role(),
        pop_id: cfg.popId,
        region: cfg.region,
        epoch: epochs.epoch(),
        seen_epoch: epochs.seen(),
        role_source: roleSource,
        file_role: fileRole,
        hold: hold ?? null,
        draining,
        accepting_writes: pop.refuseClientWrite() === undefined,
        control_plane: cfg.controlPlane ? { url: cfg.controlPlane.url, lease_remaining_ms: Math.round(Math.max(0, leaseUntilMs - monotonicMs())), heartbeat_failures: heartbeat?.failures() ?? 0 } : null,
        replication: {
          peer: (cfg.role === 'primary' ? cfg.backupPop?.id : cfg.primaryPop?.id) ?? null,
          state,
          backlog,
          pushes_sent: st?.pushesSent ?? 0,
          pushes_received: pushesReceived,
          last_ack_at: st?.lastAckAt ?? null,
          lag_seconds: Math.round(lagSeconds() * 1000) / 1000,
          retries: st?.retries ?? 0,
          alerts: st?.alerts ?? 0,
          last_error: st?.lastError ?? null,
          resync: resync ? { queued_revisions: resync.queued, remaining: backlog, progress: Math.max(0, Math.min(1, 1 - backlog / Math.max(1, resync.queued))), started_at: resync.startedAt } : null,
        },
      };
    },
    async start() {
      heartbeat = createHeartbeat({
        logger,
        settings: () => (cfg.controlPlane ? { url: cfg.controlPlane.url, token: cfg.controlPlane.token, intervalMs: cfg.controlPlane.heartbeatIntervalSeconds * 1000, tls: controlPlaneTls(cfg) } : undefined),
        report: () => heartbeatReport(),
        onAnswer: (a, sentAt) => onControlPlaneAnswer(a, sentAt),
        now: monotonicMs,
      });
      if (cfg.controlPlane) heartbeat.start();
      if (cfg.role === 'primary') startDecision = startPrimary();
      else helloToPrimary();
    },
    ready: () => startDecision,
    startupNotes() {
      const out: string[] = [];
      if (roleSource === 'control_plane') out.push(`Role from the control plane: running as ${cfg.role}; replication.yaml says ${fileRole} (${Errors.ROLE_FILE_DISAGREES.code}; edit the file to role: "${cfg.role}" to make them agree)`);
      const refusal = pop.refuseClientWrite();
      if (hold) out.push(`Refusing client writes: ${hold.message}`);
      else if (refusal && refusal.error === 'FENCED') out.push(`Refusing client writes: ${Errors.FENCED.code}: ${Errors.FENCED.message}`);
      return out;
    },
    forcePromote() {
      if (cfg.role !== 'primary' || !pendingPromotion || hold?.reason !== 'peer_is_primary') throw new ClavitorError(Errors.NOTHING_TO_FORCE);
      const peerInfo = hold.peer;
      logger.error({ event: 'pop.force_promoted', code: Errors.PEER_IS_PRIMARY.code, peer: peerInfo },
        `operator override: promoting ${cfg.popId} over ${peerInfo?.pop_id ?? 'its peer'}, which answered as a live primary in epoch ${peerInfo?.epoch ?? '?'}; that POP is fenced by this one's first push and its writes since then are quarantined when it is demoted`);
      clearHold('operator forced the promotion (promote --force)');
      finishPromotion();
      void reconcileWithBackup();
      return { role: role(), epoch: epochs.epoch() };
    },
    reload(next: ReplicationConfig, opts?: { epoch?: number }) {
      const prev = cfg;
      if (!opts) {
        const eff = effectiveConfig(ctx, next);
        fileRole = next.role;
        next = eff.cfg;
        roleSource = eff.source;
      } else {
        roleSource = 'control_plane';
      }
      cfg = next;
      const oldPeer = peer;
      peer = makePeer();
      void oldPeer?.close();
      if (next.controlPlane) heartbeat?.start();
      logger.info({ event: 'pop.reloaded', role: next.role, previous_role: prev.role, role_source: roleSource, file_role: fileRole }, `configuration reloaded; running as ${next.role} (role from ${roleSource === 'file' ? 'replication.yaml' : 'the control plane'})`);
      if (roleSource === 'control_plane' && !opts) noteRoleSource();
      if (prev.role === 'primary' && next.role === 'backup') {
        sender?.stop();
        sender = undefined;
        waiters.releaseAll();
        draining = false;
        resync = undefined;
        clearHold('this POP is now a backup');
        // Never promoted (held or still checking): nothing of its own to set aside.
        if (pendingPromotion) pendingPromotion = false;
        else demote(prev.popId);
        node.setMeta('last_role', 'backup');
        helloToPrimary();
      } else if (prev.role === 'backup' && next.role === 'primary') {
        if (opts?.epoch !== undefined) {
          // Control-plane directive: the control plane holds the lease, so its epoch is taken as is.
          finishPromotion(opts.epoch);
          void reconcileWithBackup();
        } else {
          pendingPromotion = true;
          startDecision = startPrimary();
        }
      } else if (next.role === 'primary') {
        if (fenced()) fence(epochs.seen());
        else recheck();
      } else {
        node.setMeta('last_role', 'backup');
        helloToPrimary();
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await heartbeat?.stop();
      sender?.stop();
      waiters.releaseAll();
      await peer?.close();
    },
    config: () => cfg,
    role,
    resume() {
      draining = false;
      if (hold || pendingPromotion) recheck();
      else sender?.resume();
    },
  };
  return pop;
}
