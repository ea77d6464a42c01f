/**
 * Operator commands of `clavitor-commercial` (DESIGN.md §4.4.7–9, §4.5):
 *
 *   quarantine list   [--data DIR] [--json] [--all]  what a demoted primary set aside (--all: also what its successor held)
 *   quarantine export [--data DIR] [--all]           the same as JSON lines, revisions included
 *   verify --primary URL --backup URL [--token-file F] compare per-vault digests; exit 0 same, 1 differ
 *   drain  --url URL [--admin-token-file F] [--timeout-seconds N]   stop writes, empty the backlog
 *   resume --url URL [--admin-token-file F]          end a drain, wake a degraded sender, re-check a hold
 *   promote --force --url URL [--admin-token-file F] logged override: promote a POP held by CV-5017
 *   status --url URL [--admin-token-file F] [--json] [--watch]      role, epoch, lag, resync progress
 *
 * verify, drain, resume and status also take `--ca-file F` (PEM bundle trusted instead of the
 * system roots), `--cert F --key F` (client certificate presented when the POP asks: mutual TLS)
 * and `--replication-config F` (the POP's replication.yaml; default /etc/clavitor/replication.yaml when it
 * exists). Without the flags, `auth.mtls_ca` (plus the system roots), `auth.mtls_cert` /
 * `auth.mtls_key` and, for verify, `auth.token_file` come from that file (issue 11 item 4).
 *
 * Exit codes: 0 success, 1 a difference or an unfinished drain, 2 a request or file failure.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { z } from 'zod';
import { isConfigError } from '../config/config-error.js';
import { DEFAULT_REPLICATION_CONFIG_PATH, loadReplicationConfig } from '../config/load.js';
import type { ReplicationConfig } from '../config/types.js';
import { ClavitorError, Errors } from '../lib/errors.js';
import { describeTransportError, loadClientTls, type ClientTls, type ClientTlsFiles } from '../lib/client-tls.js';
import { createHttpClient, HttpError, TransportError } from '../lib/http-client.js';
import { openNodeStore } from '../store/node-store.js';
import { describeConversion, takeConversionReport } from '../store/legacy-convert.js';
import { differingVaults } from '../replication/digest.js';
import { DigestsAnswer, DrainAnswer, PopStatusAnswer, PromoteAnswer, ResumeAnswer } from '../replication/operator-answers.js';
import { DIGESTS_PATH } from '../replication/wire.js';
import { DEFAULT_DATA_DIR } from './common.js';

function fail(msg: string, code = 2): never {
  process.stderr.write(`${msg}\n`);
  process.exit(code);
}

/**
 * Opens the POP database of an existing data directory (`clavitor.db`, or an old-layout `node.db`,
 * which is converted first: legacy-convert.ts), or exits 2 with a clear line (never creates one).
 */
function openExistingNode(dataDir: string) {
  if (!existsSync(join(dataDir, 'clavitor.db')) && !existsSync(join(dataDir, 'node.db'))) fail(`${dataDir}: no clavitor.db here; pass the POP's data directory with --data`);
  try {
    const node = openNodeStore(dataDir);
    const converted = takeConversionReport(dataDir);
    if (converted) process.stderr.write(`storage.converted: ${describeConversion(converted)}\n`);
    return node;
  } catch (e) {
    fail(`${dataDir}: cannot open clavitor.db (${(e as Error).message})`);
  }
}

function readSecret(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n')[0]!.trim();
  } catch {
    fail(`cannot read ${file}`);
  }
}

/** TLS and config flags shared by the commands that talk to a POP. */
interface ConnOptions {
  caFile?: string;
  cert?: string;
  key?: string;
  replicationConfig?: string;
}

/**
 * The POP's replication.yaml for defaults: `--replication-config`, else the default path when it exists.
 * An explicit file that does not load exits 2 with its config line; the implicit default is then
 * skipped with a note (status must work while the file is being fixed).
 */
function configFor(o: ConnOptions): ReplicationConfig | undefined {
  const path = o.replicationConfig ?? (existsSync(DEFAULT_REPLICATION_CONFIG_PATH) ? DEFAULT_REPLICATION_CONFIG_PATH : undefined);
  if (path === undefined) return undefined;
  try {
    return loadReplicationConfig(path);
  } catch (e) {
    const line = isConfigError(e) ? e.line : `${path}: ${(e as Error).message}`;
    if (o.replicationConfig !== undefined) fail(line);
    process.stderr.write(`note: not using ${path} for TLS defaults: ${line}\n`);
    return undefined;
  }
}

/**
 * The TLS material for a command: flags first, then the config's `auth.mtls_*`. Exits 2 with a
 * CV-6007 line for a file that cannot be used.
 */
function tlsFor(o: ConnOptions, cfg: ReplicationConfig | undefined): ClientTls | undefined {
  const fromFlags = o.cert !== undefined || o.key !== undefined;
  const files: ClientTlsFiles = {
    caFile: o.caFile ?? cfg?.auth.mtlsCa,
    certFile: fromFlags ? o.cert : cfg?.auth.mtlsCert,
    keyFile: fromFlags ? o.key : cfg?.auth.mtlsKey,
    labels: {
      ca: o.caFile !== undefined ? '--ca-file' : 'auth.mtls_ca',
      cert: fromFlags ? '--cert' : 'auth.mtls_cert',
      key: fromFlags ? '--key' : 'auth.mtls_key',
    },
    alsoSystemRoots: o.caFile === undefined,
  };
  try {
    return loadClientTls(files);
  } catch (e) {
    if (e instanceof ClavitorError) fail(`${e.code}: ${e.message}`);
    throw e;
  }
}

/** Time limit of each phase of an operator request (connect, headers, body), in milliseconds: a drain waits up to 600 s server-side. */
const OPERATOR_TIMEOUT_MS = 120_000;

/**
 * Sends `method base+path` with the product's client kit (src/lib/http-client.ts) and checks the
 * answer with `schema`. Exits 2 with `<url>: CV-NNNN: message` for an error answer (`HTTP <status>`
 * without an error body), `<url>: <reason>` when no answer came, `CV-6050: …` for an answer of
 * another shape.
 */
async function callPop<S extends z.ZodType>(base: string, path: string, token: string, tls: ClientTls | undefined, schema: S, method: 'GET' | 'POST' = 'GET', body?: unknown): Promise<z.infer<S>> {
  const http = createHttpClient({ baseUrl: base, token, tls, timeoutMs: OPERATOR_TIMEOUT_MS });
  const url = `${http.baseUrl}${path}`;
  try {
    return await http.call(method, path, schema, body !== undefined ? { json: body } : {});
  } catch (e) {
    if (e instanceof HttpError) fail(`${url}: ${e.coded ? `${e.code}: ${e.message}` : `HTTP ${e.status}`}`);
    if (e instanceof TransportError) fail(`${url}: ${describeTransportError(e.cause)}`);
    if (e instanceof ClavitorError) fail(`${e.code}: ${e.message}`);
    throw e;
  } finally {
    await http.close();
  }
}

function bar(fraction: number, width = 30): string {
  const n = Math.round(Math.max(0, Math.min(1, fraction)) * width);
  return `[${'#'.repeat(n)}${'.'.repeat(width - n)}] ${(fraction * 100).toFixed(1)}%`;
}

/** One-screen rendering of `GET /api/status` for an operator. */
export function renderStatus(s: PopStatusAnswer): string {
  const r = s.replication ?? {};
  const lines = [
    `${s.pop_id ?? '-'} (${s.region ?? '-'})  role ${s.role}  epoch ${s.epoch}${s.draining ? '  DRAINING' : ''}`,
    `  peer ${r.peer ?? '-'}  state ${r.state ?? '-'}  backlog ${r.backlog ?? 0}  lag ${r.lag_seconds ?? 0} s`,
    `  pushes sent ${r.pushes_sent ?? 0}  received ${r.pushes_received ?? 0}  last ack ${r.last_ack_at ?? '-'}`,
    `  revisions acknowledged ${r.revisions_acknowledged ?? 0}  retries ${r.retries ?? 0}  probes ${r.probes ?? 0}  alerts ${r.alerts ?? 0}`,
  ];
  const f = r.in_flight;
  if (f) lines.push(`  in flight ${f.pushes} pushes, ${f.revisions} revisions, ${f.bytes_sent}/${f.bytes} bytes sent, last progress ${f.idle_ms} ms ago`);
  if (s.role_source === 'control_plane') lines.push(`  role from the control plane; replication.yaml says ${s.file_role}`);
  if (s.hold) lines.push(`  HOLD ${s.hold.reason}: ${s.hold.message}`);
  if (r.last_error) lines.push(`  last error: ${r.last_error}`);
  if (r.resync) lines.push(`  resync ${bar(r.resync.progress)}  ${r.resync.queued_revisions - r.resync.remaining}/${r.resync.queued_revisions} revisions`);
  return lines.join('\n');
}

/** Adds the operator commands to the commercial program. */
export function registerOperatorCommands(program: Command): void {
  const q = program.command('quarantine').description('revisions a demoted primary set aside (never silently discarded)');
  q.command('list').option('--data <dir>', 'data directory', DEFAULT_DATA_DIR).option('--json', 'JSON output')
    .option('--all', 'also revisions the primary turned out to hold (held_at set)')
    .action((o: { data: string; json?: boolean; all?: boolean }) => {
      const node = openExistingNode(o.data);
      const rows = node.listQuarantine({ all: o.all === true });
      node.close();
      if (o.json) {
        process.stdout.write(`${JSON.stringify(rows.map(({ revision: _r, ...rest }) => rest))}\n`);
        return;
      }
      if (rows.length === 0) {
        process.stderr.write('quarantine is empty\n');
        return;
      }
      process.stdout.write('id\tvault\tseq\tkind\tsubject\tepoch\tquarantined_at\treason\n');
      for (const r of rows) process.stdout.write(`${r.id}\t${r.vaultId}\t${r.seq}\t${r.kind}\t${r.subject ?? '-'}\t${r.epoch}\t${r.quarantinedAt}\t${r.heldAt ? `held by the primary since ${r.heldAt}; ` : ''}${r.reason}\n`);
    });
  q.command('export').option('--data <dir>', 'data directory', DEFAULT_DATA_DIR)
    .option('--all', 'also revisions the primary turned out to hold (held_at set)')
    .description('every quarantined revision as one JSON object per line (ciphertext as stored)')
    .action((o: { data: string; all?: boolean }) => {
      const node = openExistingNode(o.data);
      for (const r of node.listQuarantine({ all: o.all === true })) process.stdout.write(`${JSON.stringify({ ...r, revision: JSON.parse(r.revision) })}\n`);
      node.close();
    });

  const tlsOpts = (c: Command) => c
    .option('--ca-file <file>', 'PEM CA bundle to trust instead of the system roots (default: auth.mtls_ca of --replication-config, plus the system roots)')
    .option('--cert <file>', 'PEM client certificate presented when the POP asks (default: auth.mtls_cert of --replication-config)')
    .option('--key <file>', 'PEM private key of --cert (default: auth.mtls_key of --replication-config)')
    .option('--replication-config <file>', `the POP's replication.yaml, for TLS defaults (default: ${DEFAULT_REPLICATION_CONFIG_PATH} when it exists)`);
  tlsOpts(program.command('verify').description('compare per-vault digests of a primary and its backup'))
    .requiredOption('--primary <url>').requiredOption('--backup <url>')
    .option('--token-file <file>', 'replication token file (the one both POPs accept; default: auth.token_file of --replication-config)')
    .option('--json', 'JSON output')
    .action(async (o: ConnOptions & { primary: string; backup: string; tokenFile?: string; json?: boolean }) => {
      const cfg = configFor(o);
      const tokenFile = o.tokenFile ?? cfg?.auth.tokenFile;
      if (tokenFile === undefined) fail('verify needs --token-file (the replication token both POPs accept) or --replication-config with auth.token_file');
      const token = readSecret(tokenFile);
      const tls = tlsFor(o, cfg);
      const [a, b] = await Promise.all([callPop(o.primary, DIGESTS_PATH, token, tls, DigestsAnswer), callPop(o.backup, DIGESTS_PATH, token, tls, DigestsAnswer)]);
      // Both URLs may reach one POP (the same address twice, or two names of one host): a
      // comparison with itself would say "identical" and check nothing (a newcomer's try-out).
      if (a.pop_id === b.pop_id) fail(`${Errors.VERIFY_SAME_POP.code}: ${Errors.VERIFY_SAME_POP.message} (both answered as ${a.pop_id})`);
      const diff = differingVaults(a.vaults, b.vaults);
      if (o.json) process.stdout.write(`${JSON.stringify({ identical: diff.length === 0, vaults: Object.keys(a.vaults).length, differing: diff })}\n`);
      else if (diff.length === 0) process.stdout.write(`identical: ${Object.keys(a.vaults).length} vaults on ${a.pop_id} and ${b.pop_id}\n`);
      else {
        process.stdout.write(`${diff.length} vault(s) differ between ${a.pop_id} and ${b.pop_id}:\n`);
        for (const id of diff) process.stdout.write(`${id}\t${a.pop_id} seq ${a.vaults[id]?.seq ?? 'absent'}\t${b.pop_id} seq ${b.vaults[id]?.seq ?? 'absent'}\n`);
      }
      process.exit(diff.length === 0 ? 0 : 1);
    });

  const adminOpts = (c: Command) => tlsOpts(c).requiredOption('--url <url>', 'POP base URL').option('--admin-token-file <file>', 'admin token file', join(DEFAULT_DATA_DIR, 'admin.token'));
  adminOpts(program.command('drain').description('planned switchover, step 1: refuse client writes and push the backlog to zero'))
    .option('--timeout-seconds <n>', 'how long to wait for an empty backlog', '30')
    .action(async (o: ConnOptions & { url: string; adminTokenFile: string; timeoutSeconds: string }) => {
      const tls = tlsFor(o, configFor(o));
      const r = await callPop(o.url, `/admin/v1/drain?timeout_seconds=${encodeURIComponent(o.timeoutSeconds)}`, readSecret(o.adminTokenFile), tls, DrainAnswer, 'POST');
      const stillDraining = !r.drained && r.role === 'primary'
        ? `still draining: client writes are refused (${Errors.DRAINING.code}) until you run clavitor-commercial resume --url ${o.url} (or drain again to keep waiting)\n`
        : '';
      process.stdout.write(r.drained ? 'drained: backlog 0, client writes refused; now demote this POP and promote its backup\n' : `not drained: backlog ${r.backlog} (role ${r.role})\n${stillDraining}`);
      process.exit(r.drained ? 0 : 1);
    });
  adminOpts(program.command('resume').description('end a drain and wake a degraded sender'))
    .action(async (o: ConnOptions & { url: string; adminTokenFile: string }) => {
      const tls = tlsFor(o, configFor(o));
      const r = await callPop(o.url, '/admin/v1/resume', readSecret(o.adminTokenFile), tls, ResumeAnswer, 'POST');
      process.stdout.write(`resumed: sender ${r.state}\n`);
    });
  adminOpts(program.command('promote').description(`override: promote a POP held back because its peer answers as a live primary (${Errors.PEER_IS_PRIMARY.code}); needs --force`))
    .option('--force', 'promote although the peer answers as a live primary: that POP is fenced and its later writes are quarantined when it is demoted')
    .action(async (o: ConnOptions & { url: string; adminTokenFile: string; force?: boolean }) => {
      if (!o.force) fail('promote overrides DESIGN.md §4.5 "no self-promotion over a live primary"; demote the other POP first, or pass --force to promote anyway');
      const tls = tlsFor(o, configFor(o));
      const r = await callPop(o.url, '/admin/v1/promote', readSecret(o.adminTokenFile), tls, PromoteAnswer, 'POST', { force: true });
      process.stdout.write(`promoted: role ${r.role}, epoch ${r.epoch}; the other POP is fenced by this one's first push — demote it (role: backup, SIGHUP)\n`);
    });
  adminOpts(program.command('status').description('role, epoch, replication state and resync progress'))
    .option('--json', 'JSON output').option('--watch', 'refresh every second until interrupted')
    .action(async (o: ConnOptions & { url: string; adminTokenFile: string; json?: boolean; watch?: boolean }) => {
      const token = readSecret(o.adminTokenFile);
      const tls = tlsFor(o, configFor(o));
      for (;;) {
        const s = await callPop(o.url, '/api/status', token, tls, PopStatusAnswer);
        process.stdout.write(o.json ? `${JSON.stringify(s)}\n` : `${renderStatus(s)}\n`);
        if (!o.watch) return;
        await new Promise((r) => setTimeout(r, 1000));
      }
    });
}
