/**
 * In-process servers for integration tests (issue 6 "Done when"): the real `startServer` over a real
 * data directory (SQLite vault files, node.db), listening on a loopback port, with an edition
 * that either accepts writes (a standalone vault) or refuses them like a backup POP. No mocks of
 * storage or HTTP.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Edition } from '../../src/edition/edition.js';
import { createCommunityEdition } from '../../src/edition/community.js';
import { startServer, type RunningServer } from '../../src/http/server.js';
import { createLogger } from '../../src/lib/logger.js';
import { api, tempDir, type ApiResponse } from './pop.js';
import type { Clock } from '../../src/lib/clock.js';

/** A started in-process server and its temp data directory. */
export interface TestServer {
  readonly server: RunningServer;
  readonly dataDir: string;
  readonly url: string;
  /** Admin token from `<data>/admin.token`. */
  readonly admin: string;
  /** Calls the API of this server. */
  call(method: string, path: string, opts?: { token?: string; body?: unknown; headers?: Record<string, string> }): Promise<ApiResponse>;
  stop(): Promise<void>;
}

/** An edition that refuses client writes like a backup POP (DESIGN.md §4.3), without replication code. */
export function backupLikeEdition(): Edition {
  const base = createCommunityEdition();
  return { ...base, refuseClientWrite: () => ({ error: 'READ_ONLY_BACKUP', headers: { 'retry-after': '5' } }) };
}

/** Starts a server on 127.0.0.1 with a fresh data directory (or `dataDir`). */
export async function startTestServer(opts: { edition?: () => Edition; dataDir?: string; clock?: Clock } = {}): Promise<TestServer> {
  const tmp = opts.dataDir ? undefined : tempDir('clavitor-int-');
  const dataDir = opts.dataDir ?? join(tmp!.dir, 'data');
  const server = await startServer({
    dataDir, host: '127.0.0.1', port: 0, logger: createLogger({ level: 'silent' }),
    edition: opts.edition ?? (() => createCommunityEdition()),
    ...(opts.clock ? { clock: opts.clock } : {}),
  });
  const url = `http://${server.address}`;
  const admin = readFileSync(join(dataDir, 'admin.token'), 'utf8').trim();
  return {
    server, dataDir, url, admin,
    call: (method, path, o = {}) => api(url, method, path, o),
    async stop() {
      await server.close();
      tmp?.cleanup();
    },
  };
}

/** Creates a vault on `s`; returns its id and owner token. */
export async function newVault(s: TestServer): Promise<{ vaultId: string; owner: string }> {
  const r = await s.call('POST', '/api/vaults', { token: s.admin });
  if (r.status !== 201) throw new Error(`vault creation failed: ${r.status} ${JSON.stringify(r.json)}`);
  return { vaultId: r.json.vault_id, owner: r.json.owner_token };
}

/** Creates an entry with the owner token; returns its id. */
export async function newEntry(s: TestServer, owner: string, body: unknown): Promise<string> {
  const r = await s.call('POST', '/api/entries', { token: owner, body });
  if (r.status !== 201) throw new Error(`entry creation failed: ${r.status} ${JSON.stringify(r.json)}`);
  return r.json.id;
}

/** Audit records of the vault, oldest first. */
export async function auditOf(s: TestServer, owner: string): Promise<{ actor: string; action: string; entry_id: string | null; outcome: string; code: string | null }[]> {
  const r = await s.call('GET', '/api/audit?limit=1000', { token: owner });
  if (r.status !== 200) throw new Error(`audit failed: ${r.status}`);
  return r.json.records;
}
