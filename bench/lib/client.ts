/**
 * The benchmarks' HTTP client for the Clavitor client API, on an undici Pool (keep-alive
 * connections, requests queued client-side beyond `connections`). Entries carry one 1 KiB field,
 * the same payload as the Redis side's 1 KiB values.
 */
import { Pool } from 'undici';

/** One 1 KiB field value. */
export const VALUE_1K = 'x'.repeat(1024);

/** JSON body of an entry with a 1 KiB field. */
export function entryBody(title: string): string {
  return JSON.stringify({ title, fields: [{ label: 'v', value: VALUE_1K }] });
}

/** A keep-alive client for one server. */
export class ApiClient {
  readonly pool: Pool;
  constructor(readonly url: string, connections = 16) {
    this.pool = new Pool(url, { connections, pipelining: 1, keepAliveTimeout: 60_000 });
  }

  /** POST /api/vaults with the admin token; returns the vault id and owner token. */
  async createVault(adminToken: string): Promise<{ vault_id: string; owner_token: string }> {
    const r = await this.pool.request({ path: '/api/vaults', method: 'POST', headers: { authorization: `Bearer ${adminToken}` } });
    const j = (await r.body.json()) as { vault_id: string; owner_token: string };
    if (r.statusCode !== 201) throw new Error(`create vault: HTTP ${r.statusCode}`);
    return j;
  }

  /** POST /api/entries; returns the entry id and its version (= the revision's seq). */
  async createEntry(ownerToken: string, title: string): Promise<{ id: string; version: number }> {
    const r = await this.pool.request({ path: '/api/entries', method: 'POST', headers: { authorization: `Bearer ${ownerToken}`, 'content-type': 'application/json' }, body: entryBody(title) });
    const j = (await r.body.json()) as { id: string; version: number };
    if (r.statusCode !== 201) throw new Error(`create entry: HTTP ${r.statusCode} ${JSON.stringify(j)}`);
    return j;
  }

  /** GET /api/entries/:id; returns the HTTP status. */
  async getEntry(ownerToken: string, id: string): Promise<number> {
    const r = await this.pool.request({ path: `/api/entries/${id}`, method: 'GET', headers: { authorization: `Bearer ${ownerToken}` } });
    await r.body.dump();
    return r.statusCode;
  }

  /**
   * GET /replication/v1/positions with the replication token: the POP's replication position,
   * its epoch and last log position (LSN) (issue 12 item 3; docs/replication.md).
   */
  async positions(replicationToken: string): Promise<{ epoch: number; lsn: number }> {
    const r = await this.pool.request({ path: '/replication/v1/positions', method: 'GET', headers: { authorization: `Bearer ${replicationToken}` } });
    const j = (await r.body.json()) as { epoch: number; lsn: number };
    if (r.statusCode !== 200) throw new Error(`positions: HTTP ${r.statusCode}`);
    return { epoch: j.epoch, lsn: j.lsn };
  }

  /** Writes `n` entries with `concurrency` requests in flight (closed loop); returns the last one. */
  async fill(ownerToken: string, n: number, concurrency: number): Promise<{ id: string; version: number }> {
    let next = 0;
    let last = { id: '', version: 0 };
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (next < n) {
        next++;
        const e = await this.createEntry(ownerToken, 'fill');
        if (e.version > last.version) last = e;
      }
    }));
    return last;
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}
