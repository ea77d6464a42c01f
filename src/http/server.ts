/**
 * Assembles a running Clavitor server from its parts: data directory, the POP database
 * (`clavitor.db`: node store and vault facades),
 * the edition, the vault services and the HTTP app. Shared by both editions' entry points.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { openNodeStore, type NodeStore } from '../store/node-store.js';
import { createVaultFiles, type VaultFiles } from '../store/vault-files.js';
import { createRevisionWriter } from '../vault/writer.js';
import { createVaultService } from '../vault/vault-service.js';
import { createEntriesService } from '../vault/entries-service.js';
import { createRefsService } from '../vault/refs-service.js';
import { createQuarantineService } from '../vault/quarantine-service.js';
import { createAgentsService } from '../vault/agents-service.js';
import { buildApp } from './app.js';
import { createMetrics, type Metrics } from '../lib/metrics.js';
import { Gauge } from 'prom-client';
import { loadOrCreateAdminToken } from './admin-token.js';
import type { Edition, EditionContext } from '../edition/edition.js';
import { cvError, Errors } from '../lib/errors.js';
import { describeConversion, takeConversionReport } from '../store/legacy-convert.js';
import { lockDataDir } from '../store/data-lock.js';
import { systemClock, type Clock } from '../lib/clock.js';
import { addressMatcher, type Cidr } from '../lib/cidr.js';
import type { ListenerLimits } from './listener-limits.js';

/** Options of `startServer`. */
export interface ServerOptions {
  /** Data directory (created 0700 when absent). */
  readonly dataDir: string;
  /** Listen host. */
  readonly host: string;
  /** Listen port (0 picks a free one). */
  readonly port: number;
  /** Paths of the client TLS certificate and key (PEM); plain HTTP when absent. */
  readonly tls?: { certFile: string; keyFile: string };
  readonly logger: Logger;
  /** Builds the edition once storage is open. */
  readonly edition: (ctx: EditionContext) => Edition;
  /** Clock (default `systemClock`): monotonic for rate-limit windows and throttle blocks, wall for records. Tests inject one. */
  readonly clock?: Clock;
  /** Listener timeouts and connection caps (default `LISTENER_DEFAULTS`; docs/security.md "Connection limits"). */
  readonly limits?: ListenerLimits;
  /** `trusted_proxies`: addresses whose X-Forwarded-For names the client (default none). */
  readonly trustedProxies?: readonly Cidr[];
}

/** A started server. */
export interface RunningServer {
  readonly app: FastifyInstance;
  readonly edition: Edition;
  readonly node: NodeStore;
  readonly files: VaultFiles;
  /** Actual `host:port` bound. */
  readonly address: string;
  /**
   * Re-reads the client TLS certificate and key (and the edition's peer CA) and installs them
   * for new connections (SIGHUP; cases F6). No-op for plain HTTP. Throws when a file is unusable,
   * leaving the previous context in place.
   */
  reloadTls(): void;
  /** Replaces the `trusted_proxies` ranges for the requests that follow (SIGHUP). */
  setTrustedProxies(ranges: readonly Cidr[]): void;
  /** Stops accepting, finishes in-flight requests, closes storage. */
  close(): Promise<void>;
}

/**
 * Group-commit counters on `/metrics` (issue 12 item 2), read on scrape: batches committed, jobs
 * (writes and audit records) they held, and the largest batch. jobs ÷ batches is the number of
 * writes one fsync committed on average.
 */
function registerCommitMetrics(metrics: Metrics, files: VaultFiles): void {
  const gauge = (name: string, help: string, read: (s: ReturnType<VaultFiles['commitStats']>) => number) => new Gauge({
    name, help, registers: [metrics.registry],
    collect() { this.set(read(files.commitStats())); },
  });
  gauge('clavitor_group_commit_batches', 'transactions committed by the group committer since start', (s) => s.batches);
  gauge('clavitor_group_commit_syncs', 'WAL fsyncs of the group committer since start, off the event loop (each covers every batch committed before it started)', (s) => s.syncs);
  gauge('clavitor_group_commit_jobs', 'writes and audit records committed by the group committer since start', (s) => s.jobs);
  gauge('clavitor_group_commit_max_jobs', 'most jobs committed in one batch since start', (s) => s.maxBatch);
}

/** Parses `HOST:PORT` (IPv6 as `[::1]:PORT`). Throws RangeError when malformed. */
export function parseListen(s: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(s);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new RangeError(`--listen must be HOST:PORT, got "${s}"`);
  return { host: (m[1] ?? m[2])!, port };
}

/**
 * Logs a warning when `trusted_proxies` holds a range of every address (`0.0.0.0/0`, `::/0`): then
 * any client can name its own address in `X-Forwarded-For`, escaping the per-address throttle and
 * writing what it likes into the audit trail's `ip` (issue 13 §2; docs/security.md). Accepted, as
 * a deliberate setting behind a proxy that strips the header, but never silently.
 */
export function warnIfEveryoneTrusted(logger: Logger, ranges: readonly Cidr[]): void {
  const all = ranges.filter((r) => r.prefix === 0).map((r) => `${r.address}/0`);
  if (all.length === 0) return;
  logger.warn({ event: 'config.trusted_proxies_everyone', ranges: all },
    `trusted_proxies ${all.join(', ')} trusts every address: any client can name its own address in X-Forwarded-For (throttling and audit use it); list only your proxies' addresses`);
}

/** Opens storage, builds the edition and the app, and listens. */
export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  try {
    // Not `recursive`: Node 20 loops forever on some paths (e.g. under /proc). The parent must exist.
    if (!existsSync(opts.dataDir)) mkdirSync(opts.dataDir, { mode: 0o700 });
    chmodSync(opts.dataDir, 0o700);
  } catch {
    throw cvError('DATA_DIR_INVALID', `${opts.dataDir}: cannot create or use the data directory`);
  }
  // One server per data directory: taken before anything reads or converts it (DESIGN.md §2).
  const lock = lockDataDir(opts.dataDir);
  let adminToken: string;
  let node: NodeStore;
  try {
    adminToken = loadOrCreateAdminToken(opts.dataDir);
    node = openNodeStore(opts.dataDir);
  } catch (e) {
    lock.release();
    throw e;
  }
  const files = createVaultFiles(opts.dataDir);
  files.onError((e) => opts.logger.error({ event: 'storage.audit_write_failed', code: Errors.INTERNAL.code, error: (e as Error).message }, 'an audit record of a read or refusal could not be committed'));
  const converted = takeConversionReport(opts.dataDir);
  if (converted) {
    opts.logger.warn({ event: 'storage.converted', ...converted },
      describeConversion(converted));
  }
  const metrics = createMetrics();
  registerCommitMetrics(metrics, files);
  const edition = opts.edition({ node, files, logger: opts.logger, metrics, adminToken });
  const clock = opts.clock ?? systemClock;
  const now = (): Date => clock.wallNow();
  const writer = createRevisionWriter({ hooks: edition.hooks, identity: () => edition.identity(), now });
  const entries = createEntriesService({ node, files, writer, now, clock });
  const services = {
    vaults: createVaultService({ node, files, writer, now, clock }),
    entries,
    refs: createRefsService({ files, entries, now }),
    agents: createAgentsService({ files, writer, now }),
    quarantine: createQuarantineService({ node, files, now }),
    files,
    edition,
    metrics,
    adminToken,
  };
  const tlsFiles = opts.tls;
  const readTls = () => (tlsFiles ? { key: readFileSync(tlsFiles.keyFile), cert: readFileSync(tlsFiles.certFile), ...edition.serverTls() } : undefined);
  const https = readTls();
  warnIfEveryoneTrusted(opts.logger, opts.trustedProxies ?? []);
  let trusted = addressMatcher(opts.trustedProxies ?? []);
  const app = await buildApp({ logger: opts.logger, services, clock, trustedProxies: () => trusted, ...(opts.limits ? { limits: opts.limits } : {}), ...(https ? { https } : {}) });
  await app.listen({ host: opts.host, port: opts.port });
  const addr = app.server.address();
  const address = typeof addr === 'object' && addr ? `${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}` : String(addr);
  opts.logger.info({ event: 'server.listening', address, edition: edition.name }, 'listening');
  await edition.start();
  return {
    app, edition, node, files, address,
    reloadTls() {
      const next = readTls();
      if (next) (app.server as unknown as { setSecureContext(o: object): void }).setSecureContext({ ...next, minVersion: 'TLSv1.2' });
    },
    setTrustedProxies(ranges) {
      warnIfEveryoneTrusted(opts.logger, ranges);
      trusted = addressMatcher(ranges);
    },
    async close() {
      await edition.close();
      await app.close();
      files.closeAll();
      node.close();
      lock.release();
    },
  };
}
