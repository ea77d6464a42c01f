/**
 * Role monitor: polls both POPs' status during the run and records what role and epoch each one
 * reported, with the time window of the request. The checkers use these observations to prove
 * that no POP acknowledged a client write in an epoch in which it had already been seen acting as
 * a backup (or fenced): once a POP is a backup in epoch e it can only write again after a
 * promotion, which gives it a higher epoch.
 */
import type { Cluster } from './cluster.js';
import { POPS, type RoleObservation } from './types.js';

/** Starts polling every `intervalMs`; `stop()` resolves with the observations. */
export function startMonitor(cluster: Cluster, clock: () => number, intervalMs = 250): { stop(): Promise<RoleObservation[]> } {
  const seen: RoleObservation[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      await Promise.all(POPS.map(async (pop) => {
        if (!cluster.running(pop)) return;
        const t0 = clock();
        const s = await cluster.status(pop, 2000);
        if (s) seen.push({ pop, t0, t1: clock(), role: s.role, epoch: s.epoch });
      }));
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return seen;
    },
  };
}
