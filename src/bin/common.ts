/**
 * Pieces shared by the server entry points: the `serve` options of DESIGN.md §4.1, signal
 * handling, and the rule that operator-facing failures print one line with a CV code and exit
 * with a documented status — never a stack trace.
 */
import { Option, type Command } from 'commander';
import { ClavitorError, Errors } from '../lib/errors.js';
import { serverCertificateProblem } from '../lib/tls-files.js';
import { onReload } from './early-signals.js';
import { exitQuietlyOnEpipe } from './epipe.js';
import type { RunningServer } from '../http/server.js';
import { LISTENER_DEFAULTS, type ListenerLimits } from '../http/listener-limits.js';
import { parseCidrList, type Cidr } from '../lib/cidr.js';

/** Exit status for configuration errors (sysexits.h EX_CONFIG; DESIGN.md §4.1). */
export const EXIT_CONFIG = 78;
/** Exit status for other startup failures (sysexits.h EX_SOFTWARE). */
export const EXIT_SOFTWARE = 70;

/** Default data directory. */
export const DEFAULT_DATA_DIR = '/var/lib/clavitor';
/** Default listen address. */
export const DEFAULT_LISTEN = '127.0.0.1:8443';

/** Options every `serve` command takes. */
export interface ServeOptions {
  data: string;
  listen: string;
  tlsCert?: string;
  tlsKey?: string;
  logLevel: string;
  logFormat: 'json' | 'pretty';
  maxConnections: string;
  maxConnectionsPerSource: string;
}

/** Adds the shared serve options to a commander command. */
export function addServeOptions(cmd: Command): Command {
  return cmd
    .option('--data <dir>', 'data directory', DEFAULT_DATA_DIR)
    .option('--listen <host:port>', 'address to listen on', DEFAULT_LISTEN)
    .option('--tls-cert <file>', 'PEM certificate for HTTPS to clients')
    .option('--tls-key <file>', 'PEM private key for HTTPS to clients')
    .option('--log-level <level>', 'pino log level (fatal, error, warn, info, debug, trace)', 'info')
    .addOption(new Option('--log-format <format>', 'log format on stderr').choices(['json', 'pretty']).default('json'))
    .option('--max-connections <n>', 'open connections in total; keep LimitNOFILE above it (docs/security.md "Connection limits")', String(LISTENER_DEFAULTS.maxConnections))
    .option('--max-connections-per-source <n>', 'open connections from one source address (the replication peer and trusted proxies are exempt)', String(LISTENER_DEFAULTS.maxConnectionsPerSource));
}

/**
 * The listener limits from `--max-connections` and `--max-connections-per-source` (positive
 * integers, at most 1,000,000); timeouts keep their defaults. Exits 78 with one line otherwise.
 */
export function listenerLimitsOption(o: ServeOptions): ListenerLimits {
  const count = (flag: string, v: string): number => {
    const n = Number(v);
    if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < 1 || n > 1_000_000) fatal(`${Errors.CONFIG_INVALID.code}: ${flag} must be a whole number from 1 to 1000000, got "${v}"`, EXIT_CONFIG);
    return n;
  };
  return { ...LISTENER_DEFAULTS, maxConnections: count('--max-connections', o.maxConnections), maxConnectionsPerSource: count('--max-connections-per-source', o.maxConnectionsPerSource) };
}

/**
 * Community `--trusted-proxies` (else `CLAVITOR_TRUSTED_PROXIES`): comma-separated CIDR ranges
 * whose X-Forwarded-For names the client. Empty by default. Exits 78 with one line on a bad item.
 */
export function trustedProxiesOption(flag: string | undefined): Cidr[] {
  const text = flag ?? process.env.CLAVITOR_TRUSTED_PROXIES ?? '';
  try {
    return parseCidrList(text);
  } catch (e) {
    fatal(`${Errors.CONFIG_INVALID.code}: ${flag !== undefined ? '--trusted-proxies' : 'CLAVITOR_TRUSTED_PROXIES'}: ${(e as Error).message}`, EXIT_CONFIG);
  }
}

/**
 * Validates that --tls-cert and --tls-key come together and that the certificate chain in
 * --tls-cert can serve (dates of every certificate, intermediates that are CAs, serverAuth; issue
 * 11 item 5); returns the pair or undefined. Exits 78 with one line otherwise.
 */
export function tlsOption(o: ServeOptions): { certFile: string; keyFile: string } | undefined {
  if (!o.tlsCert && !o.tlsKey) return undefined;
  if (!o.tlsCert || !o.tlsKey) fatal('--tls-cert and --tls-key must be given together', EXIT_CONFIG);
  const problem = serverCertificateProblem(o.tlsCert!);
  if (problem) fatal(`${Errors.CONFIG_INVALID.code}: --tls-cert ${o.tlsCert}: ${problem}`, EXIT_CONFIG);
  return { certFile: o.tlsCert!, keyFile: o.tlsKey! };
}

/**
 * Throws when the --tls-cert file can no longer serve (SIGHUP): the caller keeps the previous
 * certificate and logs `tls.reload_refused`.
 */
export function checkTlsForReload(tls: { certFile: string } | undefined): void {
  const problem = tls && serverCertificateProblem(tls.certFile);
  if (problem) throw new Error(`--tls-cert ${tls!.certFile}: ${problem}`);
}

/** Prints one line on stderr and exits with `status`. */
export function fatal(line: string, status: number): never {
  process.stderr.write(`${line}\n`);
  process.exit(status);
}

/** Renders an error for an operator: `CV-NNNN: message`, or a generic line (details go to the log). */
export function describeError(err: unknown): string {
  if (err instanceof ClavitorError) return `${err.code}: ${err.message}`;
  const e = err as NodeJS.ErrnoException;
  if (e && e.code === 'EADDRINUSE') return `${Errors.DATA_DIR_INVALID.code}: listen address already in use`;
  if (e && (e.code === 'EACCES' || e.code === 'EPERM')) return `${Errors.DATA_DIR_INVALID.code}: permission denied (data directory or listen port)`;
  return `${Errors.INTERNAL.code}: ${e?.message ?? 'startup failed'}`;
}

/**
 * Process set-up shared by both servers: files are created owner-only (umask 077: clavitor.db and
 * vault files 0600, docs/install.md), and a reader that closes our stdout (e.g. `| head`) ends the
 * process quietly. SIGHUP is caught from the first import (early-signals.ts); `onReload` installs
 * the handler.
 */
export function prepareProcess(): { onReload(handler: () => void): void } {
  process.umask(0o077);
  exitQuietlyOnEpipe();
  return { onReload };
}


/** Closes the server on SIGTERM/SIGINT and exits 0; a second signal exits at once. */
export function closeOnSignals(server: RunningServer): void {
  let closing = false;
  const stop = () => {
    if (closing) process.exit(1);
    closing = true;
    server.close().then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
