/**
 * A closed-loop HTTP load with autocannon (`connections` connections, one request in flight on
 * each), summarised as successful requests per second and latency percentiles in milliseconds.
 * The load generator runs in this process and so shares the 2 cores with the servers it measures.
 */
import autocannon, { type Options } from 'autocannon';

/** What one autocannon run measured. */
export interface LoadResult {
  /** 2xx responses per second over the whole run. */
  req_per_s: number;
  /** Latency of every response, milliseconds. */
  latency_ms: { p50: number; p90: number; p99: number; max: number; mean: number };
  ok: number;
  non_2xx: number;
  errors: number;
  timeouts: number;
  duration_s: number;
  connections: number;
  status_codes: Record<string, number>;
}

/** Runs autocannon with `opts` and returns the summary. */
export async function load(opts: Options): Promise<LoadResult> {
  const r = await autocannon({ connections: 10, pipelining: 1, timeout: 30, ...opts });
  const codes: Record<string, number> = {};
  for (const [k, v] of Object.entries(r.statusCodeStats ?? {})) codes[k] = v.count;
  return {
    req_per_s: r['2xx'] / r.duration,
    latency_ms: { p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99, max: r.latency.max, mean: r.latency.mean },
    ok: r['2xx'],
    non_2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    duration_s: r.duration,
    connections: opts.connections ?? 10,
    status_codes: codes,
  };
}
