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
 * | (start)  | file says primary, last role was backup | primary  | promotion: epoch = highest seen + 1              |
 * | primary  | peer reports a higher epoch             | fenced   | writes 503 CV-5002, alert, sender stopped        |
 * | primary  | reload with role backup                 | backup   | demotion: unacked revisions → quarantine, hello  |
 * | fenced   | reload with role backup                 | backup   | demotion, as above                               |
 * | backup   | reload with role primary                | primary  | promotion: epoch = highest seen + 1, resync      |
 * | primary  | operator drain                          | primary  | writes 503 CV-5008 until backlog is 0 / resume   |
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
import { operatorPopRoutes } from './operator-routes.js';
import { quarantineBacklog } from './demote.js';
import { reconcile } from './reconcile.js';
import { vaultDigest, type VaultDigest } from './digest.js';
import { createAckWaiters, MAX_SYNC_WAIT_MS } from './ack-waiters.js';
import type { PeerInfo } from './wire.js';
import { ClavitorError, Errors } from '../lib/errors.js';
import { peerCertificateProblem } from './peer-cert.js';
import { registerPopMetrics } from './pop-metrics.js';
import { createHeartbeat, type Heartbeat } from '../controlplane/heartbeat.js';
import { controlPlaneTls } from '../controlplane/heartbeat-tls.js';
import { swapRole } from '../controlplane/role-swap.js';
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
  /** Wakes a degraded sender (operator resume) and ends a drain. */
  resume(): void;
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

/**
 * The configuration to run with: the file, or — when a control-plane directive changed this POP's
 * role and the file still says what it said then — the file with roles swapped (issue 5: a
 * directive is "persisted so a restart does not undo it"). An operator who edits the role in the
 * file takes back control: the stale directive is cleared.
 */
function effectiveConfig(ctx: EditionContext, file: ReplicationConfig): ReplicationConfig {
  const raw = ctx.node.getMeta(CP_DIRECTIVE_KEY);
  if (!raw) return file;
  const d = JSON.parse(raw) as { file_role: string; role: string };
  if (!file.controlPlane || d.file_role !== file.role) {
    ctx.node.setMeta(CP_DIRECTIVE_KEY, '');
    return file;
  }
  return d.role === file.role ? file : (swapRole(file) ?? file);
}

/** Builds the POP from storage and its validated configuration. Does no I/O to the peer until `start()`. */
export function createPop(ctx: EditionContext, initial: ReplicationConfig): Pop {
  const { node, files, logger, metrics } = ctx;
  let fileRole = initial.role;
  let cfg = effectiveConfig(ctx, initial);
  const epochs = createEpochStore(node);
  const waiters = createAckWaiters();
  let pushesReceived = 0;
  let sender: Sender | undefined;
  let peer: PeerClient | undefined;
  let closed = false;
  let draining = false;
  /** Control-plane lease of a primary: writes allowed until this time (ms, this process's clock). */
  let leaseUntilMs = 0;
  let heartbeat: Heartbeat | undefined;
  let lastAnswerAtMs = 0;
  /**
   * Sum of every vault's head seq, kept up to date by commits and applied pushes instead of opening
   * every vault file on each heartbeat; recomputed after a demotion truncates vaults.
   */
  let positionTotal: number | undefined;
  let epochCheckPending = false;
  let lastCommitted: { vaultId: string; seq: number } | undefined;
  let resync: { queued: number; startedAt: string } | undefined;

  const fenced = (): boolean => cfg.role === 'primary' && epochs.seen() > epochs.epoch();
  const role = (): 'primary' | 'backup' | 'fenced' => (fenced() ? 'fenced' : cfg.role);
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

  // Role on start: a POP whose last role was backup and is now configured primary is promoted; one
  // whose last role was primary and is now configured backup is demoted.
  const lastRole = node.getMeta('last_role');
  if (cfg.role === 'primary' && (lastRole === 'backup' || epochs.epoch() === 0)) {
    if (lastRole === 'backup') promote();
    else epochs.setEpoch(Math.max(1, epochs.seen()));
  } else if (cfg.role === 'backup' && lastRole === 'primary') {
    demote(cfg.popId);
  }
  node.setMeta('last_role', cfg.role);

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
      onPushResult: (result, revisions) => {
        counters.pushes.inc({ direction: 'sent', result });
        if (revisions > 0) counters.revisions.inc({ direction: 'sent' }, revisions);
      },
      onRetry: () => counters.retries.inc(),
      onState: (s) => {
        if (s === 'degraded') alerts.inc('retries_exhausted');
        if (s === 'idle' && resync) {
          logger.info({ event: 'replication.resync_done', revisions: resync.queued }, 'full resync complete');
          resync = undefined;
        }
      },
      now: () => Date.now(),
    });
  }

  /** Full resync check against the backup's positions (DESIGN.md §4.4.8); then wake the sender. */
  async function reconcileWithBackup(): Promise<void> {
    const p = peer;
    if (!p || role() !== 'primary') return;
    const r = await p.positions();
    if ('error' in r) {
      logger.warn({ event: 'replication.positions_unavailable', error: r.error }, 'backup positions unavailable; the stream resumes as usual');
    } else if (role() === 'primary') {
      if (r.epoch > epochs.epoch()) return fence(r.epoch);
      const res = reconcile(node, files, r.positions, Date.now());
      if (res.ahead.length > 0) {
        alerts.inc('backup_ahead');
        logger.error({ event: 'replication.backup_ahead', vaults: res.ahead.length }, 'the backup holds revisions this primary does not; run verify and inspect');
      }
      if (res.revisions > 0) {
        resync = { queued: (resync?.queued ?? 0) + res.revisions, startedAt: resync?.startedAt ?? new Date().toISOString() };
        logger.warn({ event: 'replication.resync', vaults: res.vaults, revisions: res.revisions }, `full resync: queued ${res.revisions} revisions of ${res.vaults} vaults the backup lacks`);
      }
    }
    sender?.resume();
  }

  /** Primary start-up: confirm the epoch with the peer (bounded), then resync and drain. */
  async function startPrimary(): Promise<void> {
    if (fenced()) return fence(epochs.seen());
    if (!sender) sender = makeSender();
    epochCheckPending = true;
    const p = peer;
    let checkTimer: NodeJS.Timeout | undefined;
    const info = p ? await Promise.race([p.epoch(), new Promise<{ error: string }>((r) => { checkTimer = setTimeout(() => r({ error: 'timeout' }), EPOCH_CHECK_TIMEOUT_MS); })]) : { error: 'no peer' };
    clearTimeout(checkTimer);
    epochCheckPending = false;
    if ('error' in info) {
      logger.warn({ event: 'pop.peer_epoch_unknown', error: info.error }, 'backup did not answer the epoch check; accepting writes in our own epoch (see docs/operations.md)');
    } else if (info.epoch > epochs.epoch() || (info.role === 'primary' && info.epoch === epochs.epoch())) {
      return fence(Math.max(info.epoch, epochs.epoch() + 1));
    }
    await reconcileWithBackup();
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
    lastAnswerAtMs = Date.now();
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
    return oldestMs === null ? 0 : Math.max(0, (Date.now() - oldestMs) / 1000);
  }

  const counters = registerPopMetrics(metrics.registry, {
    role,
    epoch: () => epochs.epoch(),
    backlog: () => node.backlogStats().count,
    lagSeconds,
    resyncRemaining: () => (resync ? node.backlogStats().count : 0),
    heartbeatAgeSeconds: () => (cfg.controlPlane ? (lastAnswerAtMs ? (Date.now() - lastAnswerAtMs) / 1000 : -1) : undefined),
    leaseRemainingSeconds: () => (cfg.controlPlane && role() === 'primary' ? Math.max(0, leaseUntilMs - Date.now()) / 1000 : undefined),
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
        node.addBacklog(vaultId, seq, Date.now());
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
      if (r === 'primary') {
        if (epochCheckPending) return { error: 'STARTING', headers: { 'retry-after': '1' } };
        if (cfg.controlPlane && Date.now() >= leaseUntilMs) return { error: 'LEASE_EXPIRED', headers: { 'retry-after': '1' } };
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
    async registerRoutes(app) {
      await replicationRoutes(app, {
        acceptTokens: () => cfg.auth.acceptTokens,
        peerCertificateProblem: (req, allowSelf) => peerCertificateProblem(req, cfg, allowSelf),
        self,
        applyPush(push, peerCert) {
          const ack = applyPush({ node, files, getEpoch: () => epochs.epoch(), adoptEpoch: (e) => epochs.setEpoch(e) }, push);
          pushesReceived++;
          if (positionTotal !== undefined) positionTotal += ack.applied;
          counters.pushes.inc({ direction: 'received', result: 'ok' });
          if (ack.applied > 0) counters.revisions.inc({ direction: 'received' }, ack.applied);
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
          const deadline = Date.now() + timeoutMs;
          while (node.backlogStats().count > 0 && Date.now() < deadline && role() === 'primary') await new Promise((r) => setTimeout(r, 20));
          const backlog = node.backlogStats().count;
          return { drained: backlog === 0, backlog, role: role() };
        },
        resume() {
          pop.resume();
          return { state: sender?.stats().state ?? 'idle', draining };
        },
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
        draining,
        accepting_writes: pop.refuseClientWrite() === undefined,
        control_plane: cfg.controlPlane ? { url: cfg.controlPlane.url, lease_remaining_ms: Math.max(0, leaseUntilMs - Date.now()), heartbeat_failures: heartbeat?.failures() ?? 0 } : null,
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
        now: () => Date.now(),
      });
      if (cfg.controlPlane) heartbeat.start();
      if (cfg.role === 'primary') void startPrimary();
      else helloToPrimary();
    },
    reload(next: ReplicationConfig, opts?: { epoch?: number }) {
      const prev = cfg;
      if (!opts) {
        fileRole = next.role;
        next = effectiveConfig(ctx, next);
      }
      cfg = next;
      const oldPeer = peer;
      peer = makePeer();
      void oldPeer?.close();
      node.setMeta('last_role', next.role);
      if (next.controlPlane) heartbeat?.start();
      logger.info({ event: 'pop.reloaded', role: next.role, previous_role: prev.role }, 'configuration reloaded');
      if (prev.role === 'primary' && next.role === 'backup') {
        sender?.stop();
        sender = undefined;
        waiters.releaseAll();
        draining = false;
        resync = undefined;
        demote(prev.popId);
        helloToPrimary();
      } else if (prev.role === 'backup' && next.role === 'primary') {
        promote(opts?.epoch);
        sender = makeSender();
        void reconcileWithBackup();
      } else if (next.role === 'primary') {
        if (fenced()) fence(epochs.seen());
        else void reconcileWithBackup();
      } else {
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
      sender?.resume();
    },
  };
  return pop;
}
