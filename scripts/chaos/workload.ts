/**
 * The chaos workload: concurrent clients writing to a few vaults through whichever POP they
 * believe is primary. Each client creates entries (~60%), updates its own entries with If-Match
 * (~25%) and deletes them (~15%). A 503 sends it to the POP named by X-Primary-Location (or the
 * other POP), a connection error to the other POP, each after a short pause. Every request is
 * recorded as an operation with its outcome; the checkers judge that history afterwards.
 */
import { createHttp } from './http.js';
import type { Rng } from './rng.js';
import { otherPop, type OpKind, type OpRecord, type PopName } from './types.js';

/** A vault the clients write to. */
export interface WorkloadVault {
  id: string;
  owner: string;
}

/** Settings of the workload. */
export interface WorkloadOptions {
  clients: number;
  vaults: readonly WorkloadVault[];
  url(pop: PopName): string;
  popOfUrl(url: string): PopName | undefined;
  rng: Rng;
  clock(): number;
  /** Per-request timeout (ms); a timed-out write is `unknown`. */
  timeoutMs: number;
  /** Pause between a client's operations (ms). */
  thinkMs: number;
}

/** An entry a client created and may update or delete. */
interface OwnEntry {
  vault: WorkloadVault;
  id: string;
  version: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Starts the clients; `stop()` lets every in-flight operation finish and resolves with the history. */
export function startWorkload(o: WorkloadOptions): { ops: OpRecord[]; stop(): Promise<OpRecord[]> } {
  const ops: OpRecord[] = [];
  const http = createHttp(o.timeoutMs);
  let stopped = false;
  let nextId = 0;

  async function client(n: number, rng: Rng): Promise<void> {
    let believed: PopName = 'calgary-01';
    const mine: OwnEntry[] = [];
    for (let i = 0; !stopped; i++) {
      const r = rng.next();
      const kind: OpKind = mine.length === 0 || r < 0.6 ? 'create' : r < 0.85 ? 'update' : 'delete';
      const target = kind === 'create' ? undefined : mine[rng.int(0, mine.length - 1)]!;
      const vault = target?.vault ?? rng.pick(o.vaults);
      const body = { title: `c${n}-${i}`, fields: [{ label: 'password', value: `v${rng.int(0, 1e9)}`.repeat(rng.int(1, 8)), kind: 'password' }] };
      const pop: PopName = believed;
      const rec: OpRecord = { id: nextId++, client: n, kind, vault: vault.id, entry: target?.id ?? null, pop, start: o.clock(), end: 0, outcome: 'unknown', status: null, error: null };
      const base = o.url(pop);
      const res = kind === 'create'
        ? await http.call(base, 'POST', '/api/entries', { token: vault.owner, body })
        : kind === 'update'
          ? await http.call(base, 'PUT', `/api/entries/${target!.id}`, { token: vault.owner, body, headers: { 'if-match': `"${target!.version}"` } })
          : await http.call(base, 'DELETE', `/api/entries/${target!.id}`, { token: vault.owner });
      rec.end = o.clock();
      ops.push(rec);
      if (res.kind === 'error') {
        rec.outcome = res.reachedServer ? 'unknown' : 'failed';
        rec.error = res.error;
        believed = otherPop(pop);
        await sleep(rng.int(100, 300));
        continue;
      }
      rec.status = res.status;
      if (res.status >= 200 && res.status < 300) {
        rec.outcome = 'ok';
        if (kind === 'delete') mine.splice(mine.indexOf(target!), 1);
        else {
          rec.entry = String(res.json.id);
          rec.version = Number(res.json.version);
          rec.updatedAt = String(res.json.updated_at);
          if (target) target.version = rec.version;
          else mine.push({ vault, id: rec.entry, version: rec.version });
        }
        await sleep(o.thinkMs);
        continue;
      }
      rec.error = typeof res.json?.error?.code === 'string' ? res.json.error.code : `HTTP ${res.status}`;
      // 5xx other than 503 is not a definite refusal: the write may have committed.
      rec.outcome = res.status >= 500 && res.status !== 503 ? 'unknown' : 'failed';
      if (res.status === 503) {
        const loc = res.headers['x-primary-location'];
        const named = typeof loc === 'string' ? o.popOfUrl(loc) : undefined;
        believed = named && named !== pop ? named : otherPop(pop);
        await sleep(rng.int(100, 300));
        continue;
      }
      if (target && res.status === 409 && typeof res.json?.error?.current_version === 'number') target.version = res.json.error.current_version;
      else if (target && res.status === 404) mine.splice(mine.indexOf(target), 1);
      await sleep(o.thinkMs);
    }
  }

  const running = Array.from({ length: o.clients }, (_, n) => client(n, o.rng.fork()));
  return {
    ops,
    async stop() {
      stopped = true;
      await Promise.all(running);
      await http.close();
      return ops;
    },
  };
}
