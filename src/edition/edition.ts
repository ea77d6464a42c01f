/**
 * The Edition interface (DESIGN.md §5 `edition/`): what differs between the community single-node
 * vault and the commercial POP. The HTTP app and the vault services depend only on this interface,
 * so the community entry point never imports `replication/` or `controlplane/`.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { WriteHooks, WriterIdentity } from '../vault/writer.js';
import type { NodeStore } from '../store/node-store.js';
import type { VaultFiles } from '../store/vault-files.js';
import type { Metrics } from '../lib/metrics.js';

/** The role a POP reports (DESIGN.md §3): `standalone` for community. */
export type ReportedRole = 'standalone' | 'primary' | 'backup' | 'fenced';

/** Replication block of `GET /api/status` (DESIGN.md §3). */
export interface ReplicationStatus {
  peer: string | null;
  state: 'idle' | 'sending' | 'retrying' | 'degraded' | 'resyncing';
  backlog: number;
  pushes_sent: number;
  pushes_received: number;
  last_ack_at: string | null;
  /** Age in seconds of the oldest unacknowledged revision; 0 when the backlog is empty. */
  lag_seconds: number;
  [extra: string]: unknown;
}

/** `GET /api/status` body (DESIGN.md §3). */
export interface StatusBody {
  edition: 'community' | 'commercial';
  role: ReportedRole;
  pop_id: string | null;
  region: string | null;
  epoch: number;
  replication: ReplicationStatus | null;
  [extra: string]: unknown;
}

/** Refusal of a client write: the registered error plus headers to send with it. */
export interface WriteRefusal {
  readonly error: 'READ_ONLY_BACKUP' | 'FENCED' | 'DRAINING' | 'STARTING' | 'LEASE_EXPIRED' | 'PEER_IS_PRIMARY' | 'BACKUP_AHEAD';
  readonly headers: Record<string, string>;
}

/**
 * What an edition factory receives to build itself: the opened storage, the process's logger and
 * metrics registry, and the operator's admin token. Built by `startServer` (http/server.ts).
 */
export interface EditionContext {
  readonly node: NodeStore;
  readonly files: VaultFiles;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** The operator's admin token (for edition-only operator routes). */
  readonly adminToken: string;
}

/** What an edition provides to the shared server. */
export interface Edition {
  readonly name: 'community' | 'commercial';
  /** Hooks around every committed revision (backlog intent, sender wake-up). */
  readonly hooks: WriteHooks;
  /** POP id and epoch stamped on new revisions. */
  identity(): WriterIdentity;
  /** Returns a refusal when client writes are not accepted right now (DESIGN.md §4.3), else undefined. */
  refuseClientWrite(): WriteRefusal | undefined;
  /**
   * Called after a client write committed, before the response is sent: the commercial primary
   * uses it for the optional synchronous write (DESIGN.md §4.4.11). May set response headers.
   */
  afterClientWrite(req: FastifyRequest, reply: FastifyReply): Promise<void>;
  /**
   * Extra TLS server options when the process serves HTTPS: the CA that peer (client)
   * certificates must chain to, for mutual TLS between POPs (DESIGN.md §4.2 `auth.mtls_ca`).
   * Client-API callers present no certificate, so requested certificates are verified per route.
   */
  serverTls(): { ca?: Buffer } ;
  /**
   * True when `req` comes from the replication peer: a replication route with an accepted token
   * (commercial only; absent means never). Such a request is exempt from the per-address
   * authentication throttle and its connection from the connection caps (issue 13 §2).
   */
  isPeerRequest?(req: FastifyRequest): boolean;
  /**
   * The POP that keeps this POP's audit anchors (issue 13 §3: its replication peer), for
   * `GET /api/audit/anchors`; absent or null when there is none (community, a backup without
   * primary_pop).
   */
  auditPeer?(): { pop_id: string; url: string } | null;
  /** Registers edition-only routes (replication) on the app. */
  registerRoutes(app: FastifyInstance): Promise<void>;
  /** Status body for `GET /api/status`. */
  status(): StatusBody;
  /** Called once the HTTP server listens. */
  start(): Promise<void>;
  /** Stops timers and in-flight work. */
  close(): Promise<void>;
}
