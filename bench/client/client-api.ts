/**
 * Client API (issue 7 item 5): GET and PUT of one entry with autocannon (`connections`
 * connections, closed loop, `loadSeconds` each) on a commercial primary with its backup up.
 * Requests per second (2xx only) and latency percentiles in milliseconds.
 *
 * - GET /api/entries/:id with the owner token: authentication (HKDF + key unwrap), decryption of
 *   the 1 KiB entry, and the read's audit record, as every read does.
 * - reference (issue 12 "Targets"): GET of one 1 KiB entry from a bare fastify + better-sqlite3 +
 *   AES-256-GCM server (ref-server.ts `read`: read the row, decrypt, answer), same load, run right
 *   after Clavitor's GET. Target: Clavitor's GET ≥ 0.5× the reference.
 * - CPU per request (issue 12 item 4's figures on a shared, noisy machine): the server process's
 *   CPU time (user + system, all threads, /proc/<pid>/stat, 10 ms ticks) over the measured load
 *   divided by its 2xx answers, microseconds, for Clavitor's GET, the reference's GET and PUT.
 *   Unlike requests per second it hardly depends on what else runs on the two cores.
 * - PUT /api/entries/:id with If-Match: each connection updates its own entry (taken from a pool
 *   and returned with its new version from the response), so no request fails on a version
 *   conflict; every PUT is a replicated write.
 */
import type { Request } from 'autocannon';
import { benchPair } from '../lib/pair.js';
import { ApiClient, entryBody } from '../lib/client.js';
import { load, type LoadResult } from '../lib/load.js';
import type { BenchPlan } from '../lib/options.js';
import { REF_ENTRY_ID, startRefServer } from './reference.js';
import { cpuSecondsOf } from '../lib/proc.js';

/** GET and PUT results. */
export interface ClientApiResult {
  get: LoadResult;
  put: LoadResult;
  /** The bare reference server's GET (absent in results from before issue 12). */
  reference_get?: LoadResult;
  /** get ÷ reference_get on requests per second (target ≥ 0.5). */
  get_ratio_vs_reference?: number;
  /** Server CPU per 2xx answer, microseconds (absent in results from before). */
  cpu_us_per_request?: { get: number; reference_get: number; put: number };
}

/** Runs `fn` (a load on the server `pid`) and returns its result with the server's CPU µs per 2xx answer. */
async function withCpu(pid: number, fn: () => Promise<LoadResult>): Promise<[LoadResult, number]> {
  const c0 = cpuSecondsOf(pid);
  const r = await fn();
  return [r, ((cpuSecondsOf(pid) - c0) * 1e6) / Math.max(1, r.ok)];
}

/** Runs GET then PUT on one pair. */
export async function clientApi(plan: BenchPlan): Promise<ClientApiResult> {
  const pair = await benchPair();
  const ref = await startRefServer('read');
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
    await load({ url: `${pair.primary.url}/api/entries/${one.id}`, method: 'GET', headers: auth, connections: plan.connections, duration: 1 }); // warm-up, discarded
    const [get, getCpu] = await withCpu(pair.primary.pid, () => load({ url: `${pair.primary.url}/api/entries/${one.id}`, method: 'GET', headers: auth, connections: plan.connections, duration: plan.loadSeconds }));
    process.stderr.write(`  GET entry from the reference server for ${plan.loadSeconds} s…\n`);
    await load({ url: `${ref.url}/api/entries/${REF_ENTRY_ID}`, method: 'GET', connections: plan.connections, duration: 1 }); // warm-up, discarded
    const [refGet, refCpu] = await withCpu(ref.pid, () => load({ url: `${ref.url}/api/entries/${REF_ENTRY_ID}`, method: 'GET', connections: plan.connections, duration: plan.loadSeconds }));
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
    const [putRes, putCpu] = await withCpu(pair.primary.pid, () => load({ url: pair.primary.url, requests: [put], connections: plan.connections, duration: plan.loadSeconds }));
    return { get, put: putRes, reference_get: refGet, get_ratio_vs_reference: get.req_per_s / refGet.req_per_s, cpu_us_per_request: { get: getCpu, reference_get: refCpu, put: putCpu } };
  } finally {
    await ref.stop();
    await pair.cleanup();
  }
}
