#!/usr/bin/env node
/**
 * `clavitor-control` — the reference control plane (issue 5; docs/control-plane.md):
 *
 *   clavitor-control serve --data DIR --listen HOST:PORT --token-file FILE [--config FILE]
 *                          [--etcd http://HOST:2379[,…]] [--tls-cert F --tls-key F]
 *   clavitor-control status --url URL --token-file FILE [--json] [--ca-file F] [--cert F --key F]
 *   clavitor-control check-config --config FILE
 *
 * A bad config or token file prints one line (`<file>:<line>:<col>: <key>: <what is wrong>` or
 * `CV-NNNN: …`) and exits 78; other start-up failures exit 70; `status` exits 69 when the control
 * plane cannot be reached.
 */
import { Command, Option } from 'commander';
import { versionLine } from './version.js';
import { describeError, EXIT_CONFIG, EXIT_SOFTWARE, fatal, tlsOption, type ServeOptions } from './common.js';
import { parseListen } from '../http/server.js';
import { isConfigError } from '../config/config-error.js';
import { readTokenFile, TokenFileError } from '../config/token-file.js';
import { createLogger } from '../lib/logger.js';
import { loadClientTls } from '../lib/client-tls.js';
import { Errors } from '../lib/errors.js';
import { loadControlConfig, type ControlConfig } from '../controlplane/server/config.js';
import { parseEtcdEndpoints, type EtcdTls } from '../controlplane/server/kv-etcd.js';
import { readFileSync } from 'node:fs';
import { startControl } from '../controlplane/server/serve.js';
import { fetchControlStatus } from '../controlplane/server/status-client.js';
import { renderStatusTable } from '../controlplane/server/status-table.js';

/** Exit status when the control plane cannot be reached (sysexits.h EX_UNAVAILABLE). */
const EXIT_UNAVAILABLE = 69;
/** Default data directory of the control plane. */
const DEFAULT_CONTROL_DATA = '/var/lib/clavitor-control';
/** Default listen address of the control plane. */
const DEFAULT_CONTROL_LISTEN = '127.0.0.1:7443';

interface ControlServeOptions extends ServeOptions {
  tokenFile: string;
  config?: string;
  etcd?: string;
  etcdCaFile?: string;
  etcdCert?: string;
  etcdKey?: string;
}

/**
 * `--etcd-ca-file`, `--etcd-cert`, `--etcd-key` read into PEM bytes. Exits 78 (CV-1001) when one is
 * unreadable, when only one of cert and key is given, or when they are given for `http://`
 * endpoints (they would be silently unused: the state would cross the network in the clear).
 */
function etcdTlsOrExit(o: ControlServeOptions, hosts: readonly string[]): EtcdTls | undefined {
  const named = [o.etcdCaFile, o.etcdCert, o.etcdKey].some((f) => f !== undefined);
  if (!named) return undefined;
  const bad = (m: string): never => fatal(`${Errors.CONFIG_INVALID.code}: ${m}`, EXIT_CONFIG);
  if ((o.etcdCert === undefined) !== (o.etcdKey === undefined)) bad('--etcd-cert and --etcd-key go together');
  const plain = hosts.filter((h) => !h.startsWith('https://'));
  if (plain.length > 0) bad(`--etcd-ca-file/--etcd-cert/--etcd-key need https:// endpoints; ${plain.join(', ')} would talk to etcd in the clear`);
  const read = (flag: string, f: string | undefined): Buffer | undefined => {
    if (f === undefined) return undefined;
    try {
      return readFileSync(f);
    } catch (e) {
      return bad(`${flag} ${f}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  };
  const ca = read('--etcd-ca-file', o.etcdCaFile);
  const cert = read('--etcd-cert', o.etcdCert);
  const key = read('--etcd-key', o.etcdKey);
  return { ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}) };
}

function configOrExit(path: string | undefined): ControlConfig {
  try {
    return loadControlConfig(path);
  } catch (e) {
    if (isConfigError(e)) fatal(e.line, EXIT_CONFIG);
    fatal(`${path ?? '(config)'}:1:1: (file): ${describeError(e)}`, EXIT_CONFIG);
  }
}

function tokensOrExit(file: string): string[] {
  try {
    return readTokenFile(file);
  } catch (e) {
    if (e instanceof TokenFileError) fatal(`${Errors.TOKEN_FILE_INVALID.code}: --token-file ${file}: ${e.reason}`, EXIT_CONFIG);
    fatal(`${Errors.TOKEN_FILE_INVALID.code}: --token-file ${file}: ${(e as Error).message}`, EXIT_CONFIG);
  }
}

async function serve(o: ControlServeOptions): Promise<void> {
  const config = configOrExit(o.config);
  tokensOrExit(o.tokenFile);
  let listen;
  let etcdHosts: string[] | undefined;
  try {
    listen = parseListen(o.listen);
    etcdHosts = o.etcd === undefined ? undefined : parseEtcdEndpoints(o.etcd);
  } catch (e) {
    fatal(`${Errors.DATA_DIR_INVALID.code}: ${(e as Error).message}`, EXIT_CONFIG);
  }
  const etcdTls = etcdHosts ? etcdTlsOrExit(o, etcdHosts) : undefined;
  if (!etcdHosts && (o.etcdCaFile ?? o.etcdCert ?? o.etcdKey) !== undefined) fatal(`${Errors.CONFIG_INVALID.code}: --etcd-ca-file/--etcd-cert/--etcd-key need --etcd`, EXIT_CONFIG);
  const tls = tlsOption(o);
  const logger = createLogger({ level: o.logLevel, format: o.logFormat, base: { service: 'clavitor-control' } });
  let running;
  try {
    running = await startControl({ dataDir: o.data, ...listen, tokenFile: o.tokenFile, config, ...(etcdHosts ? { etcdHosts } : {}), ...(etcdTls ? { etcdTls } : {}), ...(tls ? { tls } : {}), logger });
  } catch (e) {
    if (e instanceof TokenFileError) fatal(`${Errors.TOKEN_FILE_INVALID.code}: --token-file ${o.tokenFile}: ${e.reason}`, EXIT_CONFIG);
    fatal(describeError(e), EXIT_SOFTWARE);
  }
  const store = etcdHosts ? `etcd ${etcdHosts.join(',')}` : `sqlite ${o.data}/control.db`;
  process.stdout.write(`clavitor-control listening on ${tls ? 'https' : 'http'}://${running.address} (instance ${running.instanceId}; store ${store}; ` +
    `lease ${config.leaseTtlSeconds} s, failover after ${config.failoverAfterMissedHeartbeats} missed heartbeats, max_lag_on_failover ${config.maxLagOnFailover}, safety margin ${config.safetyMarginMs} ms)\n`);
  let closing = false;
  const stop = () => {
    if (closing) process.exit(1);
    closing = true;
    running.close().then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.on('SIGHUP', () => {
    try {
      running.reloadTokens();
      logger.info({ event: 'control.tokens_reloaded' }, 'token file reloaded');
    } catch (e) {
      logger.error({ event: 'control.tokens_reload_refused', code: Errors.TOKEN_FILE_INVALID.code, error: e instanceof TokenFileError ? e.reason : (e as Error).message },
        'token file reload refused; the previous tokens stay in force');
    }
  });
}

/** Options of `status`. */
interface StatusOptions {
  url: string;
  tokenFile: string;
  json?: boolean;
  caFile?: string;
  cert?: string;
  key?: string;
}

async function status(o: StatusOptions): Promise<void> {
  const token = tokensOrExit(o.tokenFile)[0]!;
  let tls;
  try {
    tls = loadClientTls({ caFile: o.caFile ?? process.env.CLAVITOR_CA_FILE, certFile: o.cert, keyFile: o.key });
  } catch (e) {
    fatal(describeError(e), EXIT_CONFIG);
  }
  const r = await fetchControlStatus(o.url, token, tls);
  if (!r.ok) fatal(`${r.code}: ${r.message}`, r.code === Errors.CP_UNREACHABLE.code ? EXIT_UNAVAILABLE : EXIT_SOFTWARE);
  process.stdout.write(o.json ? `${JSON.stringify(r.status, null, 2)}\n` : renderStatusTable(r.status));
}

const program = new Command('clavitor-control').description('Clavitor reference control plane: heartbeats, leases and automatic failover')
  .version(versionLine('clavitor-control'), '--version', 'print the version and edition');
program.command('serve').description('run a control-plane instance')
  .option('--data <dir>', 'data directory (control.db lives here unless --etcd is given)', DEFAULT_CONTROL_DATA)
  .option('--listen <host:port>', 'address to listen on', DEFAULT_CONTROL_LISTEN)
  .requiredOption('--token-file <file>', 'token file (mode 0600, one or two tokens) POPs and operators must present')
  .option('--config <file>', 'control-plane settings (YAML); defaults apply without it')
  .option('--etcd <endpoints>', 'share state and elect the deciding instance in etcd, e.g. http://127.0.0.1:2379,http://10.0.0.2:2379')
  .option('--etcd-ca-file <file>', 'PEM CA that signed the etcd servers\' certificates (https:// endpoints; default: the system roots)')
  .option('--etcd-cert <file>', 'PEM client certificate for etcd\'s --client-cert-auth (with --etcd-key)')
  .option('--etcd-key <file>', 'PEM private key of --etcd-cert')
  .option('--tls-cert <file>', 'PEM certificate for HTTPS')
  .option('--tls-key <file>', 'PEM private key for HTTPS')
  .option('--log-level <level>', 'pino log level (fatal, error, warn, info, debug, trace)', 'info')
  .addOption(new Option('--log-format <format>', 'log format on stderr').choices(['json', 'pretty']).default('json'))
  .action((o: ControlServeOptions) => serve(o));
program.command('status').description('print every POP and pair as the control plane sees them')
  .requiredOption('--url <url>', 'control plane URL, e.g. https://control.example:7443')
  .requiredOption('--token-file <file>', 'token file (mode 0600) holding the control-plane token')
  .option('--json', 'print the raw JSON of GET /v1/status')
  .option('--ca-file <file>', 'PEM CA bundle to trust instead of the system roots (default: CLAVITOR_CA_FILE)')
  .option('--cert <file>', 'PEM client certificate, presented if the control plane asks for one')
  .option('--key <file>', 'PEM private key of --cert')
  .action((o: StatusOptions) => status(o));
program.command('check-config').description('validate a control-plane settings file, then exit')
  .requiredOption('--config <file>', 'control-plane settings (YAML)')
  .action((o: { config: string }) => {
    const c = configOrExit(o.config);
    process.stdout.write(`${c.path}: ok (lease_ttl_seconds ${c.leaseTtlSeconds}, failover_after_missed_heartbeats ${c.failoverAfterMissedHeartbeats}, ` +
      `max_lag_on_failover ${c.maxLagOnFailover}, safety_margin_ms ${c.safetyMarginMs})\n`);
  });

program.parseAsync(process.argv).catch((e: unknown) => fatal(describeError(e), EXIT_SOFTWARE));
