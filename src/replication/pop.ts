/**
 * A commercial POP at run time (DESIGN.md §4.3–4.5): its configured role, its epoch, the derived
 * `fenced` state, the sender (primary only; a backup never replicates further), the receiver,
 * SIGHUP reload with role changes, drain for a planned switchover, and synchronous writes.
 *
 * Every role decision (start-up, SIGHUP, drain, directives, lease, every source of a higher epoch,
 * holds, promote --force) is `step` in role-machine.ts, whose header holds the one table of
 * transitions. This file is the shell: it turns requests, peer answers and timers into events,
 * performs the effects `step` returns (persisting epochs, starting and stopping the sender,
 * quarantine, alerts, logs, peer requests), and serves status and metrics.
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
import type { Edition, EditionContext, StatusBody, WriteRefusal } from '../edition/edition.js';
import { createEpochStore } from './epoch.js';
import { createPeerClient, type PeerClient, type PeerTls } from './peer-client.js';
import { createSender, type Sender } from './sender.js';
import { applyPush } from './receiver.js';
import { replicationRoutes } from './routes.js';
import { presentsPeerToken } from './peer-auth.js';
import { operatorPopRoutes } from './operator-routes.js';
import { quarantineBacklog, releaseHeldQuarantine } from './demote.js';
import { epochAt } from './log-match.js';
import { reconcile } from './reconcile.js';
import {
  EPOCH_CHECK_TIMEOUT_MS, initialState, reportedRole, step, writeRefusal,
  type ReportedRole, type Role, type RoleEffect, type RoleEvent, type RoleState, type WriteHold,
} from './role-machine.js';
import { allDigests } from './digest.js';
import { createAnchorSender } from './anchors.js';
import { anchorDigest } from '../vault/audit-anchor.js';
import { createAckWaiters, MAX_SYNC_WAIT_MS } from './ack-waiters.js';
import { AHEAD_VAULTS_LIMIT, type PeerInfo, type PositionsAnswer } from './wire.js';
import { ClavitorError, Errors, isCvError } from '../lib/errors.js';
import { peerCertificateProblem } from './peer-cert.js';
import { epochClaimProblem } from '../lib/epoch-bounds.js';
import { registerPopMetrics } from './pop-metrics.js';
import { createHeartbeat, type Heartbeat } from '../controlplane/heartbeat.js';
import { controlPlaneTls } from '../controlplane/heartbeat-tls.js';
import { swapRole } from '../controlplane/role-swap.js';
import { monotonicMs, steadyWallMs } from '../lib/clock.js';
import type { Directive, HeartbeatRequest, HeartbeatResponse } from '../controlplane/protocol.js';

/** Granularity of the commit times kept for the lag figure, in milliseconds. */
const COMMIT_SAMPLE_MS = 100;

/** Seconds a refused client is told to wait (Retry-After) before retrying a write. */
export const RETRY_AFTER_SECONDS = 5;
export { EPOCH_CHECK_TIMEOUT_MS, type WriteHold } from './role-machine.js';
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
  reload(next: ReplicationConfig): void;
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

/** Resolves with `p`, or with `{ error: 'timeout' }` after `ms` milliseconds. */
async function within<T>(p: Promise<T>, ms: number): Promise<T | { error: string }> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<{ error: string }>((r) => { timer = setTimeout(() => r({ error: 'timeout' }), ms); })]);
  } finally {
    clearTimeout(timer);
  }
}

const peerIdOf = (c: ReplicationConfig): string | null => (c.role === 'primary' ? c.backupPop?.id : c.primaryPop?.id) ?? null;
const asRole = (v: string | undefined): Role | null => (v === 'primary' || v === 'backup' ? v : null);

/**
 * Builds the POP from storage and its validated configuration. Does no I/O to the peer until
 * `start()`. Every role decision is `step` of role-machine.ts; this function is the shell that
 * feeds it events and performs its effects.
 */
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
  let heartbeat: Heartbeat | undefined;
  /** When the control plane last answered (ms, monotonic clock); 0 before any answer. */
  let lastAnswerAtMs = 0;
  let lastCommitted: { vaultId: string; seq: number } | undefined;
  /** A sender wake-up is queued for the turn after the current group commit (beforeCommit hook). */
  let notifyQueued = false;
  /**
   * Commit times of this process's writes, for lag: (lsn, steady wall ms) of a write whenever the
   * previous sample is ≥ COMMIT_SAMPLE_MS old, so every revision committed here was committed within
   * COMMIT_SAMPLE_MS after the last sample at or below its LSN. Pruned as the backup acknowledges.
   */
  let commitTimes: { lsn: number; ms: number }[] = [];
  /** A full resync in progress: `upToLsn` is the last log position it queued. */
  let resync: { queued: number; startedAt: string; upToLsn: number } | undefined;
  /**
   * Ends a full resync once every record it queued is acknowledged: under constant writes the
   * sender may never be idle (its window keeps taking new writes), so "idle" alone is not the end.
   */
  const resyncAcknowledged = (): void => {
    if (!resync) return;
    if (node.ackedLsn() < resync.upToLsn) return;
    logger.info({ event: 'replication.resync_done', revisions: resync.queued }, 'full resync complete');
    resync = undefined;
  };
  /** Failure kind of the sender's last push (NOT_A_BACKUP says the peer is a primary: row 29). */
  let lastPushFailure: string | undefined;
  let startDecision: Promise<void> = Promise.resolve();
  const rawHold = node.getMeta(HOLD_KEY);
  let rs: RoleState = initialState({
    role: cfg.role, popId: cfg.popId, peerId: peerIdOf(cfg), epoch: epochs.epoch(), seen: epochs.seen(),
    lastRole: asRole(node.getMeta('last_role')), hold: rawHold ? (JSON.parse(rawHold) as WriteHold) : null,
  });

  const role = (): ReportedRole => reportedRole(rs);
  const self = (): PeerInfo => ({ pop_id: cfg.popId, role: role(), epoch: rs.epoch });

  /** Runs one transition and performs its effects; resolves when the checks it started have ended. */
  function dispatch(ev: RoleEvent): Promise<void> {
    const checked = boundEpochClaims(ev);
    if (!checked) return Promise.resolve();
    const r = step(rs, checked);
    rs = r.state;
    const tasks: Promise<void>[] = [];
    for (const e of r.effects) {
      const t = perform(e);
      if (t) tasks.push(t);
    }
    return tasks.length === 0 ? Promise.resolve() : Promise.all(tasks).then(() => undefined);
  }

  /**
   * Epoch bounds on every event carrying an epoch from outside (issue 13 §1; lib/epoch-bounds.ts):
   * a claim above MAX_EPOCH or more than MAX_EPOCH_JUMP above the highest seen is refused with an
   * alert (CV-5041, metric reason `epoch_out_of_range`) and never reaches `step`, so it is never
   * persisted. A refused peer epoch answer counts as no answer; other events are dropped.
   */
  function boundEpochClaims(ev: RoleEvent): RoleEvent | undefined {
    const claims: { source: string; epoch: number }[] = [];
    switch (ev.kind) {
      case 'peerEpoch': if (ev.info) claims.push({ source: 'peer epoch answer', epoch: ev.info.epoch }); break;
      case 'positionsAnswered': claims.push({ source: 'peer positions answer', epoch: ev.epoch }); break;
      case 'hello': claims.push({ source: 'hello', epoch: ev.peer.epoch }); break;
      case 'helloAnswered': claims.push({ source: 'hello answer', epoch: ev.epoch }); break;
      case 'higherEpoch': claims.push({ source: ev.source === 'push' ? 'push' : 'push answer', epoch: ev.epoch }); break;
      case 'pushAdopted': claims.push({ source: 'push', epoch: ev.epoch }); break;
      case 'controlPlaneAnswer':
        claims.push({ source: 'control plane', epoch: ev.epoch });
        if (ev.directive) claims.push({ source: 'control-plane directive', epoch: ev.directive.epoch });
        break;
      default: return ev;
    }
    for (const c of claims) {
      const problem = epochClaimProblem(c.epoch, rs.seen);
      if (!problem) continue;
      epochRefused(c.source, c.epoch, problem);
      if (ev.kind === 'peerEpoch') return { kind: 'peerEpoch', info: null, error: `${Errors.EPOCH_REFUSED.code}: ${problem}`, atIso: ev.atIso };
      if (ev.kind === 'positionsAnswered') return { kind: 'positionsFailed', phase: ev.phase, error: `${Errors.EPOCH_REFUSED.code}: ${problem}` };
      return undefined;
    }
    return ev;
  }

  /** Alert for a refused epoch claim: error log CV-5041 and metric (never persisted). */
  function epochRefused(source: string, claim: unknown, problem: string): void {
    counters.alerts.inc({ reason: 'epoch_out_of_range' });
    logger.error({ event: 'replication.epoch_refused', code: Errors.EPOCH_REFUSED.code, source, claimed_epoch: String(claim), seen_epoch: rs.seen },
      `${Errors.EPOCH_REFUSED.code}: epoch claim refused (${source}): ${problem}; not adopted. A corrupt or forged claim: check the peer and the control plane`);
  }

  /** Performs one effect of `step` (role-machine.ts); the peer requests come back as events. */
  function perform(e: RoleEffect): Promise<void> | undefined {
    switch (e.kind) {
      case 'persistEpoch':
        // Taking an epoch as primary records where its log begins (issue 12 item 3); a backup
        // adopting its primary's epoch learns the history from the pushes instead.
        node.tx(() => {
          epochs.setEpoch(e.epoch);
          if (rs.role === 'primary') node.recordEpochStart(e.epoch, cfg.popId);
        });
        return;
      case 'persistSeen': epochs.observe(e.seen); return;
      case 'persistLastRole': node.setMeta('last_role', e.role); return;
      case 'persistHold': node.setMeta(HOLD_KEY, e.hold ? JSON.stringify(e.hold) : ''); return;
      case 'quarantineBacklog': {
        commitTimes = [];
        const res = quarantineBacklog(node, files, `unacknowledged by the backup when ${e.popId} was demoted in epoch ${e.epoch}`, new Date());
        logger.warn({ event: 'pop.demoted', quarantined: res.quarantined, vaults: res.vaults }, `POP ${e.popId} demoted to backup; ${res.quarantined} unacknowledged revisions quarantined`);
        return;
      }
      case 'stopSender':
        sender?.stop();
        if (e.discard) sender = undefined;
        return;
      case 'releaseWaiters': waiters.releaseAll(); return;
      case 'createSender':
        if (!sender) sender = makeSender();
        return;
      case 'startSender':
        if (!sender) sender = makeSender();
        sender.resume();
        return;
      case 'resumeSender': sender?.resume(); return;
      case 'clearResync': resync = undefined; return;
      case 'noteResync':
        resync = { queued: (resync?.queued ?? 0) + e.revisions, startedAt: resync?.startedAt ?? new Date().toISOString(), upToLsn: node.lastLsn() };
        logger.warn({ event: 'replication.resync', vaults: e.vaults, revisions: e.revisions }, `full resync: queued ${e.revisions} revisions of ${e.vaults} vaults the backup lacks`);
        return;
      case 'alert': counters.alerts.inc({ reason: e.reason }); return;
      case 'log': logger[e.level](e.fields, e.msg); return;
      case 'sendHello': helloToPrimary(); return;
      case 'checkPeer': {
        const p = peer;
        const t = (async () => {
          const info = p ? await within(p.epoch(), EPOCH_CHECK_TIMEOUT_MS) : { error: 'no peer' };
          if (closed) return;
          const atIso = new Date().toISOString();
          await dispatch('error' in info ? { kind: 'peerEpoch', info: null, error: info.error, atIso } : { kind: 'peerEpoch', info, atIso });
        })();
        startDecision = t;
        return t;
      }
      case 'fetchPositions': {
        const p = peer;
        const phase = e.phase;
        if (!p) return dispatch({ kind: 'positionsSkipped', phase });
        const ms = e.timeoutMs;
        return (async () => {
          const r = ms === undefined ? await p.positions(node.lastLsn()) : await within(p.positions(node.lastLsn()), ms);
          if (closed) return;
          if ('error' in r) return dispatch({ kind: 'positionsFailed', phase, error: r.error });
          return dispatch({ kind: 'positionsAnswered', phase, epoch: r.epoch, ...(r.role ? { role: r.role as ReportedRole } : {}), positions: r });
        })();
      }
      case 'reconcile': {
        const res = reconcile(node, e.positions as PositionsAnswer);
        return dispatch({ kind: 'reconciled', phase: e.phase, ahead: res.ahead, revisions: res.revisions, vaults: res.vaults, ...(e.peerRole ? { peerRole: e.peerRole } : {}), peerEpoch: e.peerEpoch, atIso: new Date().toISOString() });
      }
      case 'applyDirective': return applyDirective(e.directive);
      case 'beatNow': heartbeat?.beatNow(); return;
      case 'reject': throw new ClavitorError(Errors[e.error]);
    }
  }

  /** Drops from the owner's quarantine what the successor sent back byte-identically (issue 11 item 8). */
  function releaseHeld(vaultIds?: Iterable<string>): void {
    const held = releaseHeldQuarantine(node, files, new Date(), vaultIds);
    if (held > 0) logger.info({ event: 'quarantine.held_by_successor', revisions: held }, `${held} quarantined revisions are held by the primary after all; no longer listed as quarantined`);
  }

  function makePeer(): PeerClient | undefined {
    const target = cfg.role === 'primary' ? cfg.backupPop : cfg.primaryPop;
    if (!target) return undefined;
    const token = cfg.backupPop?.sendToken ?? cfg.auth.acceptTokens[0]!;
    const tls = tlsOf(cfg);
    return createPeerClient({
      url: target.url, token, selfPopId: cfg.popId, ...(tls ? { tls } : {}),
      ...(cfg.auth.signingKey ? { signingKey: cfg.auth.signingKey } : {}),
      ...(cfg.auth.peerPublicKey ? { peerKey: cfg.auth.peerPublicKey } : {}),
      peerId: target.id,
      onUnsignedAnswer: (path, status) => {
        counters.alerts.inc({ reason: 'peer_answer_unsigned' });
        logger.error({ event: 'replication.answer_unsigned', code: Errors.PEER_ANSWER_UNSIGNED.code, path, status, peer: target.id },
          `${Errors.PEER_ANSWER_UNSIGNED.code}: answer of ${target.id} to ${path} (HTTP ${status}) is not signed by its pinned key (auth.peer_public_key); nothing in it was adopted`);
      },
    });
  }

  function makeSender(): Sender {
    return createSender({
      node, files, logger,
      selfPopId: cfg.popId,
      peer: () => peer!,
      settings: () => ({ batchSize: cfg.replication.batchSize, maxRetries: cfg.replication.maxRetries, epoch: rs.epoch }),
      onHigherEpoch: (e) => void dispatch({ kind: 'higherEpoch', source: 'sender', epoch: e, peerIsPrimary: lastPushFailure === 'not_backup' }),
      onAck: (acked) => {
        waiters.ack(acked);
        resyncAcknowledged();
      },
      onPushResult: (result, revisions, detail) => {
        counters.pushes.inc({ direction: 'sent', result });
        if (revisions > 0) counters.revisions.inc({ direction: 'sent' }, revisions);
        lastPushFailure = detail.ok ? undefined : detail.kind;
        if (detail.ok || cfg.role !== 'primary') return;
        if (detail.kind === 'diverged') {
          void dispatch({ kind: 'pushDiverged', vaults: detail.diverged.map((d) => d.vault_id), atIso: new Date().toISOString() });
        } else if (detail.kind === 'replayed') {
          pushCounterBehind(detail.lastPushSeq);
        }
      },
      onRetry: () => counters.retries.inc(),
      onState: (s) => {
        if (s === 'degraded') counters.alerts.inc({ reason: 'retries_exhausted' });
        if (s === 'idle') resyncAcknowledged();
      },
      now: steadyWallMs,
    });
  }

  /**
   * The backup refused a push as already seen although this POP never sent that counter: node.db
   * was restored from an older snapshot (issue 11 item 3), not a replay attack. Says so (error log
   * CV-5019, alert `push_counter_behind`), moves the counter above the backup's, and re-checks the
   * backup's positions (row 31), which holds writes back when the backup is ahead.
   */
  function pushCounterBehind(backupLast: number): void {
    const ours = node.advancePushSeq(backupLast);
    if (ours >= backupLast) return;
    counters.alerts.inc({ reason: 'push_counter_behind' });
    logger.error({ event: 'replication.push_counter_behind', code: Errors.PUSH_COUNTER_BEHIND.code, push_seq: ours, backup_last_push_seq: backupLast },
      `${Errors.PUSH_COUNTER_BEHIND.code}: push counter behind the backup's (${ours} < ${backupLast}): restored from snapshot? Counter moved above it; checking whether the backup holds revisions this POP lacks`);
    void dispatch({ kind: 'pushCounterBehind' });
  }

  function helloToPrimary(): void {
    const p = peer;
    if (!p) return;
    void p.hello(self()).then((info) => {
      if ('error' in info) logger.warn({ event: 'replication.hello_failed', error: info.error }, 'could not announce this backup to its primary');
      else void dispatch({ kind: 'helloAnswered', epoch: info.epoch });
    });
  }

  peer = makePeer();

  // Audit anchors (issue 13 §3; anchors.ts): every audit record marks its vault; changed chain
  // heads go to the peer, and a digest of all heads goes with each heartbeat.
  const anchors = createAnchorSender({
    store: () => files.anchors(), logger, selfPopId: () => cfg.popId, send: (b) => peer?.anchors(b),
    // Down until a push is acknowledged again: also while the retry after a failure is in flight
    // ('sending' with attempts > 0), so that an anchor never goes out inside a backup's
    // Retry-After pause or races the retry (a CI run saw a third 503 where two were due).
    linkDown: () => {
      const s = sender?.stats();
      return s !== undefined && (s.state === 'retrying' || s.state === 'degraded' || s.attempts > 0);
    },
  });
  files.onAuditAppended((vaultId) => anchors.mark(vaultId));

  /**
   * State reported to the control plane (src/controlplane/protocol.ts). The position is the pair
   * (epoch, LSN) of the POP's last log entry (issue 12 item 3): two indexed reads, whatever the
   * number of vaults.
   */
  function heartbeatReport(): HeartbeatRequest {
    const position = node.lastLsn();
    const st = sender?.stats();
    return {
      pop_id: cfg.popId,
      region: cfg.region,
      role: role(),
      epoch: rs.epoch,
      peer_id: peerIdOf(cfg),
      position,
      position_epoch: epochAt(node.epochHistory(), position),
      backlog: node.backlogStats().count,
      lag_seconds: lagSeconds(),
      healthy: role() !== 'fenced' && st?.state !== 'degraded',
      heartbeat_interval_seconds: cfg.controlPlane?.heartbeatIntervalSeconds ?? 60,
      // Read from the database at each beat (one query), not cached: a trail changed behind the
      // process's back must show in the very next heartbeat.
      audit: anchorDigest(files.anchors().heads()),
    };
  }

  /** Applies a control-plane answer (rows 32–35): lease renewal, higher epochs, directives (issue 5 item 1). */
  function onControlPlaneAnswer(a: HeartbeatResponse, sentAtMs: number): void {
    lastAnswerAtMs = monotonicMs();
    void dispatch({ kind: 'controlPlaneAnswer', epoch: a.epoch, leaseTtlMs: a.lease_ttl_ms, directive: a.directive, sentAtMs });
  }

  /**
   * Applies a promote or demote directive like a reload, persisting it (issue 5 item 1; row 33).
   * `step` already refused a promotion to an epoch this POP has seen; here the roles are swapped,
   * or the directive is refused and logged when the file names no peer to swap with.
   */
  function applyDirective(d: Directive): Promise<void> | undefined {
    const next = swapRole(cfg);
    if (!next) {
      logger.error({ event: 'controlplane.directive_refused', action: d.action }, `cannot ${d.action}: replication.yaml names no ${cfg.role === 'backup' ? 'primary_pop' : 'backup_pop'} to swap with`);
      return undefined;
    }
    logger.warn({ event: 'controlplane.directive', action: d.action, epoch: d.epoch }, `control plane directs this POP to ${d.action} (epoch ${d.epoch})`);
    node.setMeta(CP_DIRECTIVE_KEY, JSON.stringify({ file_role: fileRole, role: next.role }));
    return reloadWith(next, d);
  }

  /** The shell of a reload (rows 37–44): new configuration, peer client and heartbeat, then `step`. */
  function reloadWith(next: ReplicationConfig, directive?: Directive): Promise<void> {
    const prev = cfg;
    if (!directive) {
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
    anchors.start();
    if (next.controlPlane) heartbeat?.start();
    logger.info({ event: 'pop.reloaded', role: next.role, previous_role: prev.role, role_source: roleSource, file_role: fileRole }, `configuration reloaded; running as ${next.role} (role from ${roleSource === 'file' ? 'replication.yaml' : 'the control plane'})`);
    return dispatch({ kind: 'reload', role: next.role, popId: next.popId, peerId: peerIdOf(next), source: roleSource, fileRole, ...(directive ? { directive } : {}) });
  }

  /**
   * Replication lag: age of the oldest revision the backup has not acknowledged. Its commit time
   * comes from `commitTimes` when this process committed it (steady clock: a wall-clock step does
   * not move it, case F12), else from its stored write time.
   */
  function lagSeconds(): number {
    const { oldestLsn, oldestMs } = node.backlogStats();
    if (oldestLsn === null || oldestMs === null) return 0;
    while (commitTimes.length > 1 && commitTimes[1]!.lsn <= oldestLsn) commitTimes.shift();
    const sample = commitTimes[0] && commitTimes[0].lsn <= oldestLsn ? commitTimes[0] : undefined;
    return Math.max(0, (steadyWallMs() - (sample?.ms ?? oldestMs)) / 1000);
  }

  const counters = registerPopMetrics(metrics.registry, {
    role,
    epoch: () => rs.epoch,
    backlog: () => node.backlogStats().count,
    lagSeconds,
    resyncRemaining: () => (resync ? node.backlogStats().count : 0),
    heartbeatAgeSeconds: () => (cfg.controlPlane ? (lastAnswerAtMs ? (monotonicMs() - lastAnswerAtMs) / 1000 : -1) : undefined),
    leaseRemainingSeconds: () => (cfg.controlPlane && role() === 'primary' ? Math.max(0, rs.leaseUntilMs - monotonicMs()) / 1000 : undefined),
    acceptingWrites: () => pop.refuseClientWrite() === undefined,
  });

  const pop: Pop = {
    name: 'commercial',
    hooks: {
      beforeCommit() {
        // The write gate again, at commit time: a request admitted (onRequest) while this POP was an
        // undrained primary may reach its commit after a drain, demotion or fencing (cases F1, F2).
        const refusal = pop.refuseClientWrite();
        if (refusal) throw new ClavitorError(Errors[refusal.error], undefined, undefined, refusal.headers);
        // The sender leaves `idle` as soon as the write is committed, before its fsync returned
        // (it sends it once it is on disk: sender.ts); never from inside the batch's transaction:
        // a microtask runs once the group commit's synchronous batch (and its COMMIT) returned.
        if (!notifyQueued) {
          notifyQueued = true;
          queueMicrotask(() => {
            notifyQueued = false;
            sender?.notify();
          });
        }
      },
      afterCommit(vaultId, seq) {
        const nowMs = steadyWallMs();
        const lastSample = commitTimes.at(-1);
        if (!lastSample || nowMs - lastSample.ms >= COMMIT_SAMPLE_MS) {
          const lsn = node.lsnOf(vaultId, seq);
          if (lsn !== undefined) {
            if (lastSample && lastSample.lsn >= lsn) commitTimes = []; // positions reused after a demotion
            commitTimes.push({ lsn, ms: nowMs });
          }
        }
        lastCommitted = { vaultId, seq };
        sender?.notify();
      },
    },
    identity: () => ({ popId: cfg.popId, epoch: rs.epoch }),
    auditPeer() {
      const t = cfg.role === 'primary' ? cfg.backupPop : cfg.primaryPop;
      return t ? { pop_id: t.id, url: t.url } : null;
    },
    refuseClientWrite(): WriteRefusal | undefined {
      return writeRefusal(rs, {
        nowMs: monotonicMs(), controlPlane: cfg.controlPlane !== undefined, retryAfterSeconds: RETRY_AFTER_SECONDS,
        ...(cfg.backupPop ? { backupUrl: cfg.backupPop.url } : {}), ...(cfg.primaryPop ? { primaryUrl: cfg.primaryPop.url } : {}),
      });
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
        async applyPush(push, peerCert) {
          let ack;
          try {
            // Enqueued in this call, before any await: the push order (routes.ts) is the commit order.
            ack = await node.commit(() => applyPush({ node, files, getEpoch: () => rs.epoch, adoptEpoch: (e) => void dispatch({ kind: 'pushAdopted', epoch: e }) }, push));
          } catch (e) {
            if (isCvError(e, 'REPLAYED_PUSH')) {
              // What the backup sees of a primary restored from an older snapshot (issue 11 item 3).
              counters.alerts.inc({ reason: 'push_counter_behind' });
              logger.error({ event: 'replication.push_counter_behind', code: Errors.PUSH_COUNTER_BEHIND.code, sender: push.sender, push_seq: push.push_seq, last_push_seq: e.details?.last_push_seq },
                `${Errors.PUSH_COUNTER_BEHIND.code}: push from ${push.sender} refused: its push counter is not above the last one accepted from it. Restored from snapshot? (a primary whose data directory went back); the primary moves its counter up when told. If it repeats, look for a second sender with that pop_id`);
            }
            throw e;
          }
          pushesReceived++;
          if (ack.rejoin) {
            const r = ack.rejoin;
            logger[r.quarantined > 0 || r.parked > 0 ? 'warn' : 'info']({ event: 'replication.log_matched', sender: push.sender, divergence_lsn: r.point, quarantined: r.quarantined, parked: r.parked },
              r.parked > 0 ? `log without epoch history: ${r.parked} revisions take ${push.sender}'s log positions as they are streamed again`
                : `epoch history of ${push.sender} adopted; divergence point ${r.point ?? 'none'}; ${r.quarantined} revisions past it quarantined`);
          }
          counters.pushes.inc({ direction: 'received', result: 'ok' });
          if (ack.applied > 0) {
            counters.revisions.inc({ direction: 'received' }, ack.applied);
            releaseHeld(push.items.map((i) => i.vault_id));
          }
          logger.debug({ event: 'replication.push_applied', sender: push.sender, items: push.items.length, applied: ack.applied, skipped: ack.skipped, epoch: ack.epoch, ...(peerCert ? { peer_cert: peerCert } : {}) }, 'push applied');
          return ack;
        },
        onPushWhileNotBackup(push) {
          void dispatch({ kind: 'higherEpoch', source: 'push', epoch: push.epoch, peerIsPrimary: push.sender === peerIdOf(cfg) });
        },
        onHello(p) {
          void dispatch({ kind: 'hello', peer: p });
        },
        onAuthFailure(req: FastifyRequest, reason: string) {
          logger.warn({ event: 'replication.auth_failed', remote: req.ip, path: req.url, reason, code: Errors.REPLICATION_AUTH.code }, `replication request refused: ${reason}`);
        },
        signingKey: () => cfg.auth.signingKey,
        peerPublicKey: () => cfg.auth.peerPublicKey,
        onSignatureRefused(req: FastifyRequest, reason: string) {
          counters.alerts.inc({ reason: 'peer_signature_invalid' });
          logger.error({ event: 'replication.signature_refused', remote: req.ip, path: req.url, reason, code: Errors.PEER_SIGNATURE_INVALID.code },
            `${Errors.PEER_SIGNATURE_INVALID.code}: replication request refused: ${reason}; nothing in it was adopted (a stolen replication token? see docs/security.md)`);
        },
        seenEpoch: () => rs.seen,
        onEpochRefused: (_req: FastifyRequest, claim: unknown, problem: string) => epochRefused('request', claim, problem),
        anchors: { store: () => files.anchors(), selfPopId: () => cfg.popId, peerPopId: () => peerIdOf(cfg), logger },
        positions: (afterLsn) => {
          // A log without epoch history has positions assigned locally: it reports none, and gets
          // the whole log again, each revision taking its primary's position (receiver.ts).
          const history = node.epochHistory();
          const lsn = history.length === 0 ? 0 : node.lastLsn();
          const after = node.vaultsAfter(afterLsn, AHEAD_VAULTS_LIMIT);
          return { lsn, history: history.map((h) => ({ epoch: h.epoch, start_lsn: h.startLsn, pop_id: h.popId })), vaults_after: after.vaults, vaults_after_count: after.count };
        },
        digests: () => allDigests(files.iterateAll()),
      });
      await operatorPopRoutes(app, {
        adminToken: ctx.adminToken,
        async drain(timeoutMs) {
          if (role() !== 'primary') return { drained: false, backlog: node.backlogStats().count, role: role() };
          void dispatch({ kind: 'drain' });
          const deadline = monotonicMs() + timeoutMs;
          while (node.backlogStats().count > 0 && monotonicMs() < deadline && role() === 'primary') await new Promise((r) => setTimeout(r, 20));
          const backlog = node.backlogStats().count;
          return { drained: backlog === 0, backlog, role: role() };
        },
        resume() {
          pop.resume();
          return { state: sender?.stats().state ?? 'idle', draining: rs.draining };
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
        epoch: rs.epoch,
        seen_epoch: rs.seen,
        role_source: roleSource,
        file_role: fileRole,
        hold: rs.hold,
        draining: rs.draining,
        accepting_writes: pop.refuseClientWrite() === undefined,
        control_plane: cfg.controlPlane ? { url: cfg.controlPlane.url, lease_remaining_ms: Math.round(Math.max(0, rs.leaseUntilMs - monotonicMs())), heartbeat_failures: heartbeat?.failures() ?? 0 } : null,
        replication: {
          peer: peerIdOf(cfg),
          state,
          backlog,
          pushes_sent: st?.pushesSent ?? 0,
          pushes_received: pushesReceived,
          last_ack_at: st?.lastAckAt ?? null,
          lag_seconds: Math.round(lagSeconds() * 1000) / 1000,
          retries: st?.retries ?? 0,
          probes: st?.probes ?? 0,
          revisions_acknowledged: st?.revisionsSent ?? 0,
          in_flight: sender?.inFlight() ?? null,
          alerts: st?.alerts ?? 0,
          last_error: st?.lastError ?? null,
          audit_anchors: { ...anchors.stats(), scheduled: anchors.hasTimer() },
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
      anchors.start();
      const started = dispatch({ kind: 'start' });
      if (cfg.role === 'primary') startDecision = started;
    },
    ready: () => startDecision,
    startupNotes() {
      const out: string[] = [];
      if (roleSource === 'control_plane') out.push(`Role from the control plane: running as ${cfg.role}; replication.yaml says ${fileRole} (${Errors.ROLE_FILE_DISAGREES.code}; edit the file to role: "${cfg.role}" to make them agree)`);
      const refusal = pop.refuseClientWrite();
      if (rs.hold) out.push(`Refusing client writes: ${rs.hold.message}`);
      else if (refusal && refusal.error === 'FENCED') out.push(`Refusing client writes: ${Errors.FENCED.code}: ${Errors.FENCED.message}`);
      return out;
    },
    forcePromote() {
      void dispatch({ kind: 'forcePromote' });
      return { role: role(), epoch: rs.epoch };
    },
    reload(next: ReplicationConfig) {
      void reloadWith(next);
    },
    async close() {
      if (closed) return;
      closed = true;
      await heartbeat?.stop();
      sender?.stop();
      anchors.stop();
      files.onAuditAppended(undefined);
      waiters.releaseAll();
      await peer?.close();
    },
    config: () => cfg,
    role,
    resume() {
      void dispatch({ kind: 'resume' });
    },
  };

  // Start-up (rows 1–6): last role, epoch of a fresh primary, demotion of a former primary.
  void dispatch({ kind: 'boot', source: roleSource, fileRole });
  // A primary whose database predates epoch histories (issue 12 item 3): its whole log is its own.
  if (cfg.role === 'primary' && rs.epoch >= 1 && node.epochHistory().length === 0) node.recordEpochStart(rs.epoch, cfg.popId, 1);
  releaseHeld();
  return pop;
}
