/**
 * `clavitor-commercial` — the commercial POP (DESIGN.md §4.1):
 *
 *   clavitor-commercial [serve] [--data DIR] [--listen HOST:PORT] [--tls-cert F --tls-key F]
 *                       [--replication-config FILE]
 *   clavitor-commercial check-config [--replication-config FILE]
 *   clavitor-commercial keygen --out FILE [--signing-key] | keygen --public-key-of FILE
 *
 * Refuses to start without a valid replication.yaml: exit 78 and one line
 * `<file>:<line>:<col>: <key>: <what is wrong>` on stderr.
 */
import { Command } from 'commander';
import { versionLine } from './version.js';
import { addServeOptions, checkTlsForReload, closeOnSignals, prepareProcess, describeError, EXIT_CONFIG, EXIT_SOFTWARE, fatal, listenerLimitsOption, tlsOption, type ServeOptions } from './common.js';
import { exitQuietlyOnEpipe } from './epipe.js';
import { parseListen, startServer } from '../http/server.js';
import { createCommercialEdition, startupLines } from '../replication/commercial-edition.js';
import { DEFAULT_REPLICATION_CONFIG_PATH, loadReplicationConfig } from '../config/load.js';
import { isConfigError } from '../config/config-error.js';
import { writeKeyFile } from '../config/keygen.js';
import { publicKeyOfFile, writeSigningKeyFile } from '../config/signing-key.js';
import { createLogger } from '../lib/logger.js';
import type { ReplicationConfig } from '../config/types.js';
import { ClavitorError, Errors } from '../lib/errors.js';
import { EPOCH_CHECK_TIMEOUT_MS, type Pop } from '../replication/pop.js';
import { registerOperatorCommands } from './commercial-operator.js';

function loadOrExit(path: string): ReplicationConfig {
  try {
    return loadReplicationConfig(path, { requireSigningKeys: true });
  } catch (e) {
    if (isConfigError(e)) fatal(e.line, EXIT_CONFIG);
    fatal(`${path}:1:1: (file): ${describeError(e)}`, EXIT_CONFIG);
  }
}

async function serve(o: ServeOptions & { replicationConfig: string }): Promise<void> {
  const proc = prepareProcess();
  const cfg = loadOrExit(o.replicationConfig);
  let listen;
  try {
    listen = parseListen(o.listen);
  } catch (e) {
    fatal(`${Errors.DATA_DIR_INVALID.code}: ${(e as Error).message}`, EXIT_CONFIG);
  }
  const tls = tlsOption(o);
  const limits = listenerLimitsOption(o);
  if (cfg.auth.mtlsCa && !tls) fatal(`${cfg.path}:1:1: auth.mtls_ca: mutual TLS needs this POP to serve HTTPS; start it with --tls-cert and --tls-key`, EXIT_CONFIG);
  let currentEpoch: () => number | undefined = () => undefined;
  const logger = createLogger({ level: o.logLevel, format: o.logFormat, base: { edition: 'commercial', pop_id: cfg.popId }, mixin: () => ({ epoch: currentEpoch() }) });
  try {
    const server = await startServer({ dataDir: o.data, ...listen, ...(tls ? { tls } : {}), logger, limits, trustedProxies: cfg.trustedProxies, edition: (ctx) => createCommercialEdition(ctx, cfg) });
    const pop = server.edition as Pop;
    closeOnSignals(server);
    // The start-up line says the role the POP runs as, once its start-up check decided (bounded).
    let readyTimer: NodeJS.Timeout | undefined;
    await Promise.race([pop.ready(), new Promise<void>((r) => { readyTimer = setTimeout(r, 2 * EPOCH_CHECK_TIMEOUT_MS); })]);
    clearTimeout(readyTimer);
    process.stdout.write(`${startupLines(pop).join('\n')}\n`);
    currentEpoch = () => pop.identity().epoch;
    proc.onReload(() => {
      try {
        const next = loadReplicationConfig(o.replicationConfig, { requireSigningKeys: true });
        if (next.auth.mtlsCa && !tls) throw new Error('auth.mtls_ca needs --tls-cert and --tls-key');
        if (next.popId !== pop.config().popId) {
          throw new Error(`pop_id cannot change while the POP runs (${pop.config().popId} → ${next.popId}); restart it to take a new identity`);
        }
        pop.reload(next);
        server.setTrustedProxies(next.trustedProxies);
      } catch (e) {
        const line = isConfigError(e) ? e.line : `${o.replicationConfig}:1:1: (file): ${describeError(e)}`;
        process.stderr.write(`${line}\n`);
        logger.error({ event: 'pop.reload_refused', code: isConfigError(e) ? e.code : Errors.CONFIG_INVALID.code }, `reload refused; the previous configuration keeps running: ${line}`);
        return;
      }
      try {
        checkTlsForReload(tls);
        server.reloadTls();
        if (tls) logger.info({ event: 'tls.reloaded' }, 'TLS certificates reloaded for new connections');
      } catch (e) {
        logger.error({ event: 'tls.reload_refused', code: Errors.CONFIG_INVALID.code, error: (e as Error).message }, 'TLS certificate reload refused; the previous certificate keeps serving');
      }
    });
  } catch (e) {
    fatal(describeError(e), EXIT_SOFTWARE);
  }
}

exitQuietlyOnEpipe();
const program = new Command('clavitor-commercial').description('Clavitor commercial edition: a replicated POP')
  .version(versionLine('clavitor-commercial'), '--version', 'print the version and edition');
addServeOptions(program.command('serve', { isDefault: true }).description('run the POP'))
  .option('--replication-config <file>', 'replication.yaml path', DEFAULT_REPLICATION_CONFIG_PATH)
  .action((o: ServeOptions & { replicationConfig: string }) => serve(o));
program.command('check-config').description('validate replication.yaml and the files it names, then exit')
  .option('--replication-config <file>', 'replication.yaml path', DEFAULT_REPLICATION_CONFIG_PATH)
  .action((o: { replicationConfig: string }) => {
    const cfg = loadOrExit(o.replicationConfig);
    process.stdout.write(`${cfg.path}: OK (pop_id ${cfg.popId}, role ${cfg.role})\n`);
  });
program.command('keygen').description('write a new 256-bit replication token (or, with --signing-key, an Ed25519 POP signing key) to a file (mode 0600); never overwrites')
  .option('--out <file>', 'file to create')
  .option('--signing-key', 'write an Ed25519 private key (PEM) instead of a token, and print its public key for the peer\'s auth.peer_public_key')
  .option('--public-key-of <file>', 'print the public key of an existing signing key file, and write nothing')
  .action((o: { out?: string; signingKey?: boolean; publicKeyOf?: string }) => {
    try {
      if (o.publicKeyOf !== undefined) {
        process.stdout.write(`${publicKeyOfFile(o.publicKeyOf)}\n`);
        return;
      }
      if (o.out === undefined) fatal('keygen: --out FILE is required (or --public-key-of FILE)', EXIT_CONFIG);
      if (o.signingKey) {
        const pub = writeSigningKeyFile(o.out);
        process.stdout.write(`wrote ${o.out} (Ed25519 signing key, mode 0600)\npublic key (set it as auth.peer_public_key on the other POP): ${pub}\n`);
        return;
      }
      writeKeyFile(o.out);
      process.stdout.write(`wrote ${o.out} (mode 0600)\n`);
    } catch (e) {
      // The code first, like every other keygen refusal (`CV-1004: FILE:1:1: (file): already exists …`).
      fatal(e instanceof ClavitorError ? `${e.code}: ${isConfigError(e) ? e.line : e.message}` : describeError(e), EXIT_CONFIG);
    }
  });
registerOperatorCommands(program);
await program.parseAsync(process.argv);
