/**
 * Replication lag benchmarks (issue 2 note, issue 7): time from a write's 201 on the primary to
 * the first 200 for that entry on the backup, for single writes in sequence, and the catch-up of
 * a backlog queued while the backup was down.
 */
import { benchPair } from './pair.js';

/** Percentile `p` (0..100) of sorted numbers. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

async function post(url: string, token: string, body: unknown): Promise<{ id: string }> {
  const r = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (r.status !== 201) throw new Error(`write failed: ${r.status}`);
  return (await r.json()) as { id: string };
}

/** Lag of `n` single writes, one after another; milliseconds. */
export async function singleWriteLag(n = 200): Promise<{ n: number; p50_ms: number; p99_ms: number; max_ms: number }> {
  const pair = await benchPair();
  try {
    await pair.backup.start();
    await pair.primary.start();
    const v = await (await fetch(`${pair.primary.url}/api/vaults`, { method: 'POST', headers: { authorization: `Bearer ${pair.primary.adminToken}` } })).json() as { owner_token: string };
    const lags: number[] = [];
    for (let i = 0; i < n; i++) {
      const e = await post(`${pair.primary.url}/api/entries`, v.owner_token, { title: `lag ${i}`, fields: [{ label: 'v', value: 'x'.repeat(1024) }] });
      const t0 = performance.now();
      for (;;) {
        const r = await fetch(`${pair.backup.url}/api/entries/${e.id}`, { headers: { authorization: `Bearer ${v.owner_token}` } });
        await r.arrayBuffer();
        if (r.status === 200) break;
      }
      lags.push(performance.now() - t0);
    }
    lags.sort((a, b) => a - b);
    return { n, p50_ms: percentile(lags, 50), p99_ms: percentile(lags, 99), max_ms: lags.at(-1)! };
  } finally {
    await pair.cleanup();
  }
}

/** Catch-up: `n` writes queued while the backup is down, then the time until the backlog is empty. */
export async function catchUp(n = 10_000, batchSize = 100): Promise<{ n: number; batch_size: number; seconds: number; revisions_per_second: number; last_write_visible_ms: number }> {
  const pair = await benchPair({ batchSize });
  try {
    await pair.primary.start();
    const v = await (await fetch(`${pair.primary.url}/api/vaults`, { method: 'POST', headers: { authorization: `Bearer ${pair.primary.adminToken}` } })).json() as { owner_token: string };
    let last = { id: '' };
    const conc = 8;
    let next = 0;
    await Promise.all(Array.from({ length: conc }, async () => {
      while (next < n) {
        next++;
        last = await post(`${pair.primary.url}/api/entries`, v.owner_token, { title: 'queued', fields: [{ label: 'v', value: 'x'.repeat(1024) }] });
      }
    }));
    const queued = (await pair.primary.status()).replication.backlog as number;
    const t0 = performance.now();
    await pair.backup.start();
    let visible = 0;
    for (;;) {
      if (!visible) {
        const r = await fetch(`${pair.backup.url}/api/entries/${last.id}`, { headers: { authorization: `Bearer ${v.owner_token}` } });
        await r.arrayBuffer();
        if (r.status === 200) visible = performance.now() - t0;
      }
      const s = await pair.primary.status();
      if (s.replication.backlog === 0 && visible) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    const seconds = (performance.now() - t0) / 1000;
    return { n: queued, batch_size: batchSize, seconds, revisions_per_second: queued / seconds, last_write_visible_ms: visible };
  } finally {
    await pair.cleanup();
  }
}
