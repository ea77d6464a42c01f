/**
 * Client API (issue 7 item 5): GET and PUT of one entry with autocannon (`connections`
 * connections, closed loop, `loadSeconds` each) on a commercial primary with its backup up.
 * Requests per second (2xx only) and latency percentiles in milliseconds.
 *
 * - GET /api/entries/:id with the owner token: authentication (HKDF + key unwrap), decryption of
 *   the 1 KiB entry, and the read's audit record, as every read does.
 * - PUT /api/entries/:id with If-Match: each connection updates its own entry (taken from a pool
 *   and returned with its new version from the response), so no request fails on a version
 *   conflict; every PUT is a replicated write.
 */
import type { Request } from 'autocannon';
import { benchPair } from './pair.js';
import { ApiClient, entryBody } from './client.js';
import { load, type LoadResult } from './load.js';
import type { BenchPlan } from './options.js';

/** GET and PUT results. */
export interface ClientApiResult {
  get: LoadResult;
  put: LoadResult;
}

/** Runs GET then PUT on one pair. */
export async function clientApi(plan: BenchPlan): Promise<ClientApiResult> {
  const pair = await benchPair();
  try {
    await pair.backup.start();
    await pair.primary.start();
    const c = new ApiClient(pair.primary.url, 4);
    const v = await c.createVault(pair.primary.adminToken);
    const free: { id: string; version: number }[] = [];
    for (let i = 0; i < plan.connections * 2; i++) free.push(await c.createEntry(v.owner_token, `put ${i}`));
    const one = await c.createEntry(v.owner_token, 'get');
    await c.close();
    const auth = { authorization: `Bearer ${v.owner_token}` };
    process.stderr.write(`  GET entry for ${plan.loadSeconds} s…\n`);
    const get = await load({ url: `${pair.primary.url}/api/entries/${one.id}`, method: 'GET', headers: auth, connections: plan.connections, duration: plan.loadSeconds });
    const body = entryBody('put');
    const put: Request = {
      method: 'PUT',
      setupRequest(req, context) {
        const e = free.shift();
        context.entry = e;
        // No free entry (only if responses were lost): a request that fails with 409, counted as non-2xx.
        const { id, version } = e ?? { id: one.id, version: 0 };
        return { ...req, path: `/api/entries/${id}`, headers: { ...auth, 'content-type': 'application/json', 'if-match': `"${version}"` }, body };
      },
      onResponse(status, resBody, context) {
        const e = context.entry as { id: string; version: number } | undefined;
        if (!e) return;
        let j: { version?: number; error?: { current_version?: number } } = {};
        try {
          j = JSON.parse(resBody) as typeof j;
        } catch {
          j = {};
        }
        free.push({ id: e.id, version: (status === 200 ? j.version : j.error?.current_version) ?? e.version });
      },
    };
    process.stderr.write(`  PUT entry for ${plan.loadSeconds} s…\n`);
    const putRes = await load({ url: pair.primary.url, requests: [put], connections: plan.connections, duration: plan.loadSeconds });
    return { get, put: putRes };
  } finally {
    await pair.cleanup();
  }
}
