/**
 * A commercial POP at run time (DESIGN.md §4.3–4.4): its configured role, its epoch, the derived
 * `fenced` state, the sender (primary only; a backup never replicates further) and the receiver.
 * The commercial edition (edition/commercial.ts) is a thin adapter over this.
 *
 * Role rules:
 * - `primary`: accepts client writes, records a backlog intent for each, pushes to `backup_pop`.
 * - `backup`: refuses client writes with 503 + Retry-After + X-Primary-Location; applies pushes.
 * - `fenced`: configured primary, but an epoch higher than its own is known (persisted
 *   `seen_epoch`); refuses writes like a backup and raises an alert until an operator reloads it.
 */
import { readFileSync } from 'node:fs';
import type { FastifyRequest } from 'fastify';
import { Counter, Gauge } from 'prom-client';
import type { ReplicationConfig } from '../config/types.js';
import type { EditionContext } from '../http/server.js';
import type { Edition, StatusBody, WriteRefusal } from '../edition/edition.js';
import { createEpochStore } from './epoch.js';
import { createPeerClient, type PeerClient, type PeerTls } from './peer-client.js';
import { createSender, type Sender } from './sender.js';
import { applyPush } from './receiver.js';
import { replicationRoutes } from './routes.js';
import type { PeerInfo } from './wire.js';
import { Errors } from '../lib/errors.js';

/** Seconds a refused client is told to wait (Retry-After) before retrying a write. */
export const RETRY_AFTER_SECONDS = 5;

/** A running POP: an Edition plus operator actions. */
export interface Pop extends Edition {
  /** Current configuration. */
  config(): ReplicationConfig;
  /** Reported role. */
  role(): 'primary' | 'backup' | 'fenced';
  /** Wakes a degraded sender (operator resume). */
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

/** Builds the POP from storage and its validated configuration. Does no I/O to the peer until `start()`. */
export function createPop(ctx: EditionContext, initial: ReplicationConfig): Pop {
  const { node, files, logger, metrics } = ctx;
  let cfg = initial;
  const epochs = createEpochStore(node);
  let pushesReceived = 0;
  let sender: Sender | undefined;
  let peer: PeerClient | undefined;
  let closed = false;

  // Role transition on start: a POP whose last role was backup and is now configured primary is
  // being promoted: its epoch becomes one more than the highest it has seen (DESIGN.md §4.4.6).
  const lastRole = node.getMeta('last_role');
  if (cfg.role === 'primary') {
    if (epochs.epoch() === 0) epochs.setEpoch(Math.max(1, epochs.seen() + (lastRole === 'backup' ? 1 : 0)));
    else if (lastRole === 'backup') epochs.setEpoch(epochs.seen() + 1);
  }
  node.setMeta('last_role', cfg.role);

  const fenced = (): boolean => cfg.role === 'primary' && epochs.seen() > epochs.epoch();
  const role = (): 'primary' | 'backup' | 'fenced' => (fenced() ? 'fenced' : cfg.role);
  const self = (): PeerInfo => ({ pop_id: cfg.popId, role: role(), epoch: epochs.epoch() });

  const alerts = new Counter({ name: 'clavitor_replication_alerts_total', help: 'Operator alerts raised (retries exhausted, fenced)', registers: [metrics.registry] });

  function fence(higher: number): void {
    if (!epochs.observe(higher) && !fenced()) return;
    alerts.inc();
    logger.error({ event: 'pop.fenced', code: Errors.FENCED.code, epoch: epochs.epoch(), seen_epoch: epochs.seen() },
      `${Errors.FENCED.code}: POP ${cfg.popId} is configured primary but epoch ${epochs.seen()} exists elsewhere; refusing client writes. Reload it as backup (edit replication.yaml, SIGHUP) to rejoin.`);
    sender?.stop();
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
      onState: (s) => { if (s === 'degraded') alerts.inc(); },
      now: () => Date.now(),
    });
  }

  peer = makePeer();
  if (cfg.role === 'primary' && !fenced()) sender = makeSender();

  const backlogGauge = new Gauge({ name: 'clavitor_replication_backlog_revisions', help: 'Revisions committed but not yet acknowledged by the backup', registers: [metrics.registry], collect() { this.set(node.backlogStats().count); } });
  const lagGauge = new Gauge({ name: 'clavitor_replication_lag_seconds', help: 'Age in seconds of the oldest unacknowledged revision (0 when caught up)', registers: [metrics.registry], collect() { this.set(lagSeconds()); } });
  const epochGauge = new Gauge({ name: 'clavitor_pop_epoch', help: 'Current epoch of this POP', registers: [metrics.registry], collect() { this.set(epochs.epoch()); } });
  const roleGauge = new Gauge({ name: 'clavitor_pop_role', help: '1 for the role this POP currently has', labelNames: ['role'] as const, registers: [metrics.registry], collect() { for (const r of ['primary', 'backup', 'fenced']) this.set({ role: r }, role() === r ? 1 : 0); } });
  const pushGauge = new Gauge({ name: 'clavitor_replication_pushes', help: 'Pushes since start, by direction and result', labelNames: ['direction', 'result'] as const, registers: [metrics.registry], collect() {
    const st = sender?.stats();
    this.set({ direction: 'sent', result: 'ok' }, st?.pushesSent ?? 0);
    this.set({ direction: 'sent', result: 'failed' }, st?.pushesFailed ?? 0);
    this.set({ direction: 'received', result: 'ok' }, pushesReceived);
  } });
  void backlogGauge; void lagGauge; void epochGauge; void roleGauge; void pushGauge;

  function lagSeconds(): number {
    const { oldestMs } = node.backlogStats();
    return oldestMs === null ? 0 : Math.max(0, (Date.now() - oldestMs) / 1000);
  }

  const pop: Pop = {
    name: 'commercial',
    hooks: {
      beforeCommit(vaultId, seq) {
        if (role() === 'primary') node.addBacklog(vaultId, seq, Date.now());
      },
      afterCommit() {
        sender?.notify();
      },
    },
    identity: () => ({ popId: cfg.popId, epoch: epochs.epoch() }),
    refuseClientWrite(): WriteRefusal | undefined {
      const r = role();
      if (r === 'primary') return undefined;
      const headers: Record<string, string> = { 'retry-after': String(RETRY_AFTER_SECONDS) };
      if (cfg.primaryPop) headers['x-primary-location'] = cfg.primaryPop.url;
      return { error: r === 'fenced' ? 'FENCED' : 'READ_ONLY_BACKUP', headers };
    },
    afterClientWrite: async () => {},
    async registerRoutes(app) {
      await replicationRoutes(app, {
        acceptTokens: () => cfg.auth.acceptTokens,
        self,
        applyPush(push) {
          const ack = applyPush({ node, files, getEpoch: () => epochs.epoch(), adoptEpoch: (e) => epochs.setEpoch(e) }, push);
          pushesReceived++;
          logger.debug({ event: 'replication.push_applied', sender: push.sender, items: push.items.length, applied: ack.applied, skipped: ack.skipped, epoch: ack.epoch }, 'push applied');
          return ack;
        },
        onHello(p) {
          logger.info({ event: 'replication.hello', peer: p.pop_id, peer_epoch: p.epoch }, 'backup announced itself');
          if (p.epoch > epochs.epoch()) fence(p.epoch);
          sender?.resume();
        },
        onAuthFailure(req: FastifyRequest) {
          logger.warn({ event: 'replication.auth_failed', remote: req.ip, path: req.url, code: Errors.REPLICATION_AUTH.code }, 'replication request with a bad token refused');
        },
      });
    },
    status(): StatusBody {
      const st = sender?.stats();
      const backlog = node.backlogStats().count;
      return {
        edition: 'commercial',
        role: role(),
        pop_id: cfg.popId,
        region: cfg.region,
        epoch: epochs.epoch(),
        seen_epoch: epochs.seen(),
        replication: {
          peer: (cfg.role === 'primary' ? cfg.backupPop?.id : cfg.primaryPop?.id) ?? null,
          state: st ? (st.state === 'stopped' ? 'degraded' : st.state) : 'idle',
          backlog,
          pushes_sent: st?.pushesSent ?? 0,
          pushes_received: pushesReceived,
          last_ack_at: st?.lastAckAt ?? null,
          lag_seconds: Math.round(lagSeconds() * 1000) / 1000,
          retries: st?.retries ?? 0,
          alerts: st?.alerts ?? 0,
          last_error: st?.lastError ?? null,
        },
      };
    },
    async start() {
      if (cfg.role === 'primary') {
        if (fenced()) fence(epochs.seen());
        sender?.notify();
        void peer?.epoch().then((info) => {
          if ('error' in info) {
            logger.warn({ event: 'pop.peer_epoch_unknown', error: info.error }, 'backup did not answer the epoch check; accepting writes in our own epoch');
            return;
          }
          if (info.epoch > epochs.epoch()) fence(info.epoch);
        });
      } else if (peer) {
        void peer.hello(self()).then((info) => {
          if ('error' in info) logger.warn({ event: 'replication.hello_failed', error: info.error }, 'could not announce this backup to its primary');
          else if (info.epoch > epochs.epoch()) epochs.observe(info.epoch);
        });
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      sender?.stop();
      await peer?.close();
    },
    config: () => cfg,
    role,
    resume: () => sender?.resume(),
  };
  return pop;
}
