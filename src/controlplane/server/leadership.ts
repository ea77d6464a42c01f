/**
 * Which control-plane instance decides failovers. With SQLite there is one instance and it always
 * leads. With etcd, instances campaign in an etcd3 `Election` (lease-backed: a leader that dies or
 * loses etcd loses its key when the lease runs out, after at most {@link ELECTION_TTL_SECONDS}).
 *
 * Safety never rests on the election: every decision is a compare-and-swap on the records it was
 * made from (`kv.ts`), so two instances that briefly both believe they lead cannot both promote.
 */
import type { Etcd3 } from 'etcd3';
import type { Logger } from 'pino';
import { controlNamespace } from './kv-etcd.js';

/** etcd lease length of a leader's campaign, in seconds (how long a dead leader keeps the role). */
export const ELECTION_TTL_SECONDS = 5;
/** Wait before campaigning again after a failed campaign, in milliseconds. */
export const CAMPAIGN_RETRY_MS = 1000;

/** The leadership of this instance. */
export interface Leadership {
  /** True while this instance is the one that decides. */
  isLeader(): boolean;
  /** Increases every time this instance becomes leader (a new term resets what it has observed). */
  term(): number;
  /** Steps down (resigning lets another instance take over at once). */
  close(): Promise<void>;
}

/** Leadership of the single SQLite-backed instance: always the leader, term 1. */
export function soleLeadership(): Leadership {
  return { isLeader: () => true, term: () => 1, close: async () => {} };
}

/** Campaigns for leadership in etcd as `instanceId`, campaigning again after any failure. */
export function etcdLeadership(client: Etcd3, instanceId: string, logger: Logger): Leadership {
  const election = controlNamespace(client).election('leader', ELECTION_TTL_SECONDS);
  let leader = false;
  let term = 0;
  let closed = false;
  let current: ReturnType<typeof election.campaign> | undefined;
  let retry: NodeJS.Timeout | undefined;

  function campaign(): void {
    if (closed) return;
    const c = election.campaign(instanceId);
    current = c;
    let failed = false;
    c.on('elected', () => {
      if (closed || failed || current !== c) return;
      leader = true;
      term++;
      logger.warn({ event: 'control.leader', instance: instanceId, term }, `this instance (${instanceId}) now decides failovers`);
    });
    c.on('error', (err: Error) => {
      if (failed) return;
      failed = true;
      const was = leader && current === c;
      if (current === c) leader = false;
      logger.error({ event: 'control.campaign_failed', instance: instanceId, was_leader: was, error: err.message },
        `${was ? 'lost leadership' : 'campaign failed'} (etcd: ${err.message}); campaigning again in ${CAMPAIGN_RETRY_MS} ms`);
      c.resign().catch(() => {});
      if (!closed) retry = setTimeout(campaign, CAMPAIGN_RETRY_MS);
    });
  }
  campaign();

  return {
    isLeader: () => leader && !closed,
    term: () => term,
    async close() {
      closed = true;
      leader = false;
      if (retry) clearTimeout(retry);
      await Promise.race([current?.resign().catch(() => {}), new Promise((r) => setTimeout(r, 1000))]);
    },
  };
}
