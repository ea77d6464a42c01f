/**
 * Starts a control-plane instance: state store (SQLite in `--data`, or etcd), leadership, the
 * engine, its decision ticker and the HTTP app. `bin/clavitor-control serve` is a thin shell over
 * {@link startControl}.
 */
import { chmodSync, mkdirSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { cvError } from '../../lib/errors.js';
import { readTokenFile } from '../../config/token-file.js';
import type { ControlConfig } from './config.js';
import { createClock } from './clock.js';
import { settingsOf } from './decide.js';
import { createEngine, TICK_MS, type Engine } from './engine.js';
import { connectEtcd, createEtcdKv, type EtcdTls } from './kv-etcd.js';
import { CONTROL_DB_FILE, openSqliteKv } from './kv-sqlite.js';
import { etcdLeadership, soleLeadership, type Leadership } from './leadership.js';
import type { VersionedKv } from './kv.js';
import { createRepo } from './repo.js';
import { buildControlApp } from './app.js';

/** Options of {@link startControl}. */
export interface ControlOptions {
  /** Data directory (created 0700); holds control.db unless etcd is used. */
  readonly dataDir: string;
  readonly host: string;
  /** Listen port (0 picks a free one). */
  readonly port: number;
  /** Token file (0600, one or two tokens) POPs and operators present as bearer. */
  readonly tokenFile: string;
  readonly config: ControlConfig;
  /** etcd endpoints; SQLite in `dataDir` when absent. */
  readonly etcdHosts?: readonly string[];
  /** TLS towards `https://` etcd endpoints (a private CA, a client certificate). */
  readonly etcdTls?: EtcdTls;
  /** PEM certificate and key files for HTTPS. */
  readonly tls?: { certFile: string; keyFile: string };
  readonly logger: Logger;
}

/** A running instance. */
export interface RunningControl {
  /** `host:port` bound. */
  readonly address: string;
  /** Name of this instance (host and address). */
  readonly instanceId: string;
  readonly engine: Engine;
  /** Re-reads the token file (SIGHUP); throws TokenFileError and keeps the old tokens when it is unusable. */
  reloadTokens(): void;
  /** Stops the ticker and the server, then resigns leadership and closes the store. */
  close(): Promise<void>;
}

interface Backend {
  readonly kv: VersionedKv;
  readonly leadership: Leadership;
  close(): Promise<void>;
}

/** SQLite in the data directory (one instance, always leading) or etcd (shared, elected). */
function openBackend(o: ControlOptions, instanceId: string): Backend {
  if (!o.etcdHosts) {
    const kv = openSqliteKv(o.dataDir);
    return { kv, leadership: soleLeadership(), close: () => kv.close() };
  }
  const client = connectEtcd([...o.etcdHosts], o.etcdTls);
  const leadership = etcdLeadership(client, instanceId, o.logger);
  return {
    kv: createEtcdKv(client),
    leadership,
    async close() {
      await leadership.close();
      client.close();
    },
  };
}

/** Starts one instance and resolves once it listens. */
export async function startControl(o: ControlOptions): Promise<RunningControl> {
  let tokens = readTokenFile(o.tokenFile);
  try {
    mkdirSync(o.dataDir, { recursive: true, mode: 0o700 });
    chmodSync(o.dataDir, 0o700);
  } catch {
    throw cvError('DATA_DIR_INVALID', `${o.dataDir}: cannot create or use the data directory`);
  }
  const instanceId = `${hostname()}/${o.host}:${o.port === 0 ? `0/pid${process.pid}` : o.port}`;
  const https = o.tls ? { key: readFileSync(o.tls.keyFile), cert: readFileSync(o.tls.certFile) } : undefined;
  const backend = openBackend(o, instanceId);
  const settings = settingsOf(o.config);
  const engine = createEngine({ repo: createRepo(backend.kv), leadership: backend.leadership, clock: createClock(), settings, logger: o.logger, instanceId });
  let app;
  try {
    app = await buildControlApp({ engine, logger: o.logger, tokens: () => tokens, leaseTtlMs: settings.leaseTtlMs, ...(https ? { https } : {}) });
    await app.listen({ host: o.host, port: o.port });
  } catch (e) {
    await app?.close().catch(() => {});
    await backend.close();
    throw e;
  }
  const addr = app.server.address();
  const address = typeof addr === 'object' && addr ? `${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}` : String(addr);

  let round: Promise<void> | undefined;
  const ticker = setInterval(() => {
    round ??= engine.tick()
      .catch((e: Error) => o.logger.warn({ event: 'control.tick_failed', error: e.message }, 'decision round failed; retrying'))
      .finally(() => (round = undefined));
  }, TICK_MS);
  o.logger.info({ event: 'control.listening', address, instance: instanceId, store: backend.kv.kind, ...(o.etcdHosts ? {} : { db: join(o.dataDir, CONTROL_DB_FILE) }) }, 'control plane listening');

  return {
    address,
    instanceId,
    engine,
    reloadTokens() {
      tokens = readTokenFile(o.tokenFile);
    },
    async close() {
      clearInterval(ticker);
      await round;
      await app.close(); // in-flight heartbeats finish first
      await backend.close();
    },
  };
}
