/**
 * Operator commands of `clavitor-commercial` (DESIGN.md §4.4.7–9, §4.5):
 *
 *   quarantine list   [--data DIR] [--json] [--all]  what a demoted primary set aside (--all: also what its successor held)
 *   quarantine export [--data DIR] [--all]           the same as JSON lines, revisions included
 *   verify --primary URL --backup URL --token-file F compare per-vault digests; exit 0 same, 1 differ
 *   drain  --url URL [--admin-token-file F] [--timeout-seconds N]   stop writes, empty the backlog
 *   resume --url URL [--admin-token-file F]          end a drain, wake a degraded sender, re-check a hold
 *   promote --force --url URL [--admin-token-file F] logged override: promote a POP held by CV-5017
 *   status --url URL [--admin-token-file F] [--json] [--watch]      role, epoch, lag, resync progress
 *
 * Exit codes: 0 success, 1 a difference or an unfinished drain, 2 a request or file failure.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { request } from 'undici';
import { openNodeStore } from '../store/node-store.js';
import { differingVaults, type VaultDigest } from '../replication/digest.js';
import { DIGESTS_PATH } from '../replication/wire.js';
import { DEFAULT_DATA_DIR } from './common.js';

function fail(msg: string, code = 2): never {
  process.stderr.write(`${msg}\n`);
  process.exit(code);
}

/** Opens node.db of an existing data directory, or exits 2 with a clear line (never creates one). */
function openExistingNode(dataDir: string) {
  if (!existsSync(join(dataDir, 'node.db'))) fail(`${dataDir}: no node.db here; pass the POP's data directory with --data`);
  try {
    return openNodeStore(dataDir);
  } catch (e) {
    fail(`${dataDir}: cannot open node.db (${(e as Error).message})`);
  }
}

function readSecret(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n')[0]!.trim();
  } catch {
    fail(`cannot read ${file}`);
  }
}

async function getJson(url: string, token: string, method: 'GET' | 'POST' = 'GET', body?: unknown): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  try {
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) };
    const res = await request(url, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}), headersTimeout: 120_000, bodyTimeout: 120_000 });
    const json = await res.body.json() as { error?: { code: string; message: string } };
    if (res.statusCode >= 400) fail(`${url}: ${json.error ? `${json.error.code}: ${json.error.message}` : `HTTP ${res.statusCode}`}`);
    return json;
  } catch (e) {
    fail(`${url}: ${(e as Error).message}`);
  }
}

function bar(fraction: number, width = 30): string {
  const n = Math.round(Math.max(0, Math.min(1, fraction)) * width);
  return `[${'#'.repeat(n)}${'.'.repeat(width - n)}] ${(fraction * 100).toFixed(1)}%`;
}

/** One-screen rendering of `GET /api/status` for an operator. */
export function renderStatus(s: any): string { // eslint-disable-line @typescript-eslint/no-explicit-any
  const r = s.replication ?? {};
  const lines = [
    `${s.pop_id ?? '-'} (${s.region ?? '-'})  role ${s.role}  epoch ${s.epoch}${s.draining ? '  DRAINING' : ''}`,
    `  peer ${r.peer ?? '-'}  state ${r.state ?? '-'}  backlog ${r.backlog ?? 0}  lag ${r.lag_seconds ?? 0} s`,
    `  pushes sent ${r.pushes_sent ?? 0}  received ${r.pushes_received ?? 0}  last ack ${r.last_ack_at ?? '-'}`,
  ];
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

  program.command('verify').description('compare per-vault digests of a primary and its backup')
    .requiredOption('--primary <url>').requiredOption('--backup <url>')
    .requiredOption('--token-file <file>', 'replication token file (the one both POPs accept)')
    .option('--json', 'JSON output')
    .action(async (o: { primary: string; backup: string; tokenFile: string; json?: boolean }) => {
      const token = readSecret(o.tokenFile);
      const [a, b] = await Promise.all([getJson(`${o.primary}${DIGESTS_PATH}`, token), getJson(`${o.backup}${DIGESTS_PATH}`, token)]);
      const diff = differingVaults(a.vaults as Record<string, VaultDigest>, b.vaults as Record<string, VaultDigest>);
      if (o.json) process.stdout.write(`${JSON.stringify({ identical: diff.length === 0, vaults: Object.keys(a.vaults).length, differing: diff })}\n`);
      else if (diff.length === 0) process.stdout.write(`identical: ${Object.keys(a.vaults).length} vaults on ${a.pop_id} and ${b.pop_id}\n`);
      else {
        process.stdout.write(`${diff.length} vault(s) differ between ${a.pop_id} and ${b.pop_id}:\n`);
        for (const id of diff) process.stdout.write(`${id}\t${a.pop_id} seq ${a.vaults[id]?.seq ?? 'absent'}\t${b.pop_id} seq ${b.vaults[id]?.seq ?? 'absent'}\n`);
      }
      process.exit(diff.length === 0 ? 0 : 1);
    });

  const adminOpts = (c: Command) => c.requiredOption('--url <url>', 'POP base URL').option('--admin-token-file <file>', 'admin token file', join(DEFAULT_DATA_DIR, 'admin.token'));
  adminOpts(program.command('drain').description('planned switchover, step 1: refuse client writes and push the backlog to zero'))
    .option('--timeout-seconds <n>', 'how long to wait for an empty backlog', '30')
    .action(async (o: { url: string; adminTokenFile: string; timeoutSeconds: string }) => {
      const r = await getJson(`${o.url}/admin/v1/drain?timeout_seconds=${encodeURIComponent(o.timeoutSeconds)}`, readSecret(o.adminTokenFile), 'POST');
      process.stdout.write(r.drained ? 'drained: backlog 0, client writes refused; now demote this POP and promote its backup\n' : `not drained: backlog ${r.backlog} (role ${r.role})\n`);
      process.exit(r.drained ? 0 : 1);
    });
  adminOpts(program.command('resume').description('end a drain and wake a degraded sender'))
    .action(async (o: { url: string; adminTokenFile: string }) => {
      const r = await getJson(`${o.url}/admin/v1/resume`, readSecret(o.adminTokenFile), 'POST');
      process.stdout.write(`resumed: sender ${r.state}\n`);
    });
  adminOpts(program.command('promote').description('override: promote a POP held back because its peer answers as a live primary (CV-5017); needs --force'))
    .option('--force', 'promote although the peer answers as a live primary: that POP is fenced and its later writes are quarantined when it is demoted')
    .action(async (o: { url: string; adminTokenFile: string; force?: boolean }) => {
      if (!o.force) fail('promote overrides DESIGN.md §4.5 "no self-promotion over a live primary"; demote the other POP first, or pass --force to promote anyway');
      const r = await getJson(`${o.url}/admin/v1/promote`, readSecret(o.adminTokenFile), 'POST', { force: true });
      process.stdout.write(`promoted: role ${r.role}, epoch ${r.epoch}; the other POP is fenced by this one's first push — demote it (role: backup, SIGHUP)\n`);
    });
  adminOpts(program.command('status').description('role, epoch, replication state and resync progress'))
    .option('--json', 'JSON output').option('--watch', 'refresh every second until interrupted')
    .action(async (o: { url: string; adminTokenFile: string; json?: boolean; watch?: boolean }) => {
      const token = readSecret(o.adminTokenFile);
      for (;;) {
        const s = await getJson(`${o.url}/api/status`, token);
        process.stdout.write(o.json ? `${JSON.stringify(s)}\n` : `${renderStatus(s)}\n`);
        if (!o.watch) return;
        await new Promise((r) => setTimeout(r, 1000));
      }
    });
}
