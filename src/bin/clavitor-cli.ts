#!/usr/bin/env node
/**
 * `clavitor-cli` — the vault's command-line client (issue 6 item 6; every command in docs/cli.md).
 * Data goes to stdout, messages to stderr, `--json` makes stdout JSON, errors print their CV code,
 * and exit statuses are in cli/exit-codes.ts. Works against either POP of a pair: reads are served
 * by both; a write sent to a backup fails with exit status 5 and the primary's location.
 */
import { Command, CommanderError } from 'commander';
import { registerSetupCommands } from './cli/setup-cmd.js';
import { registerReadCommands } from './cli/entries-read.js';
import { registerWriteCommands } from './cli/entries-write.js';
import { registerAgentCommands } from './cli/agents-cmd.js';
import { registerAuditCommands } from './cli/audit-cmd.js';
import { registerQuarantineCommands } from './cli/quarantine-cmd.js';
import { registerRefCommands } from './cli/refs-cmd.js';
import { registerMcpCommand } from './cli/mcp-cmd.js';
import { registerHistoryCommands } from './cli/history-cmd.js';
import { registerTransferCommands } from './cli/transfer-cmd.js';
import { registerOwnerCommands } from './cli/owner-cmd.js';
import { describe, errorJson, EXIT, exitCodeOf } from './cli/exit-codes.js';
import { versionLine } from './version.js';
import { exitQuietlyOnEpipe } from './epipe.js';
import { Errors } from '../lib/errors.js';

exitQuietlyOnEpipe();

const program = new Command('clavitor-cli')
  .description('Clavitor command-line client: entries, agents, audit, TOTP, secret references (read, run, inject), MCP')
  .option('--server <url>', 'POP base URL (default: CLAVITOR_URL, then the saved config)')
  .option('--token-file <file>', 'read the token from this file (mode 0600) instead of CLAVITOR_TOKEN or the config')
  .option('--ca-file <file>', 'PEM CA bundle to trust for HTTPS instead of the system roots (default: CLAVITOR_CA_FILE, then the ca_file saved by init --ca-file)')
  .option('--seal-key-file <file>', 'seal key file for sealed fields (default: CLAVITOR_SEAL_KEY_FILE)')
  .option('--json', 'print data as JSON (an error too: {"error":{…}} on stdout)')
  .exitOverride()
  .configureOutput({ outputError: (text, write) => write(`clavitor-cli: ${Errors.CLI_BAD_INPUT.code}: ${text.replace(/^error: /, '')}`) })
  .showHelpAfterError('(run clavitor-cli --help for usage)');

registerSetupCommands(program);
registerReadCommands(program);
registerWriteCommands(program);
registerAgentCommands(program);
registerAuditCommands(program);
registerQuarantineCommands(program);
registerRefCommands(program);
registerMcpCommand(program);
registerHistoryCommands(program);
registerTransferCommands(program);
registerOwnerCommands(program);

// `--version` prints the version when it comes before any command; after one (`restore ID
// --version N`) it is that command's option, a revision number (issue 15 item 4).
const argv = process.argv.slice(2);
const versionAt = argv.indexOf('--version');
const commandAt = argv.findIndex((a) => program.commands.some((c) => c.name() === a));
if (versionAt === -1 || commandAt === -1 || versionAt < commandAt) program.version(versionLine('clavitor-cli'), '--version', 'print the version and edition');

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    // docs/cli.md: "with --json, an error is JSON too", a usage error included (commander has
    // printed its line on stderr; it may stop before it parsed --json itself).
    if (err.exitCode !== 0 && process.argv.slice(2).includes('--json')) {
      process.stdout.write(`${JSON.stringify({ error: { code: Errors.CLI_BAD_INPUT.code, message: err.message.replace(/^error: /, '') } }, null, 2)}\n`);
    }
  } else {
    for (const line of describe(err)) process.stderr.write(`${line}\n`);
    if (program.opts<{ json?: boolean }>().json) process.stdout.write(`${JSON.stringify(errorJson(err), null, 2)}\n`);
    process.exitCode = exitCodeOf(err);
  }
}
