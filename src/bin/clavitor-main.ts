/**
 * `clavitor` — the community edition (DESIGN.md §1): a single-node vault. It never reads
 * replication.yaml and serves no replication route. This file must not import `replication/` or
 * `controlplane/` (checked by test/unit/import-graph.test.ts); SIGHUP is caught from the first
 * import by the entry point clavitor.ts (early-signals.ts).
 */
import { Command } from 'commander';
import { versionLine } from './version.js';
import { addServeOptions, checkTlsForReload, closeOnSignals, prepareProcess, describeError, EXIT_CONFIG, EXIT_SOFTWARE, fatal, listenerLimitsOption, tlsOption, trustedProxiesOption, type ServeOptions } from './common.js';
import { parseListen, startServer } from '../http/server.js';
import { createCommunityEdition } from '../edition/community.js';
import { createLogger } from '../lib/logger.js';
import { Errors } from '../lib/errors.js';

async function serve(o: ServeOptions & { trustedProxies?: string }): Promise<void> {
  const proc = prepareProcess();
  let listen;
  try {
    listen = parseListen(o.listen);
  } catch (e) {
    fatal(`${Errors.DATA_DIR_INVALID.code}: ${(e as Error).message}`, EXIT_CONFIG);
  }
  const logger = createLogger({ level: o.logLevel, format: o.logFormat, base: { edition: 'community' } });
  const tls = tlsOption(o);
  const limits = listenerLimitsOption(o);
  const trustedProxies = trustedProxiesOption(o.trustedProxies);
  try {
    const server = await startServer({ dataDir: o.data, ...listen, ...(tls ? { tls } : {}), logger, limits, trustedProxies, edition: () => createCommunityEdition() });
    process.stdout.write(`Community edition: single-node vault on ${tls ? 'https' : 'http'}://${server.address}\n`);
    closeOnSignals(server);
    proc.onReload(() => {
      // SIGHUP (systemctl reload): re-read the client TLS certificate; nothing else to reload.
      try {
        checkTlsForReload(tls);
        server.reloadTls();
        if (tls) logger.info({ event: 'tls.reloaded' }, 'TLS certificate reloaded for new connections');
        else logger.info({ event: 'reload.noop' }, 'SIGHUP: nothing to reload (no TLS certificate configured)');
      } catch (e) {
        logger.error({ event: 'tls.reload_refused', code: Errors.CONFIG_INVALID.code, error: (e as Error).message }, 'TLS certificate reload refused; the previous certificate keeps serving');
      }
    });
  } catch (e) {
    fatal(describeError(e), EXIT_SOFTWARE);
  }
}

const program = new Command('clavitor').description('Clavitor community edition: a single-node credential vault')
  .version(versionLine('clavitor'), '--version', 'print the version and edition');
addServeOptions(program.command('serve', { isDefault: true }).description('run the vault server'))
  .option('--trusted-proxies <cidrs>', 'comma-separated address ranges whose X-Forwarded-For names the client (default: CLAVITOR_TRUSTED_PROXIES, else none)')
  .action((o: ServeOptions & { trustedProxies?: string }) => serve(o));
await program.parseAsync(process.argv);
