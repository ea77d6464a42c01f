/**
 * Audit anchors over the replication link (issue 13 §3; docs/security.md "Audit trail"). Each
 * POP, primary or backup, sends the newest (seq, hash) of every vault's audit chain that changed
 * since its peer last acknowledged it:
 *
 *   POST /replication/v1/anchors   {"sender": pop_id, "anchors": [{"vault_id","seq","hash"}]}
 *   → 200 {"kept": n, "unknown_vaults": [vault ids not held yet]}
 *
 * authenticated like every replication route (token, and the peer's certificate with mTLS), and
 * refused (403 CV-5050) from a POP that is not this POP's peer. The peer keeps them (src/vault/
 * audit-anchor.ts) and serves them to the vault's owner (`GET /api/audit/anchors`), so that
 * `clavitor-cli audit verify --peer` detects a trail rewritten or cut on the host that wrote it.
 *
 * Sending is event-driven, like pushes (DESIGN.md §4.4.1): an audit record marks its vault; one
 * timer sends the marked vaults' heads ANCHOR_DELAY_MS later. A failed send retries with the
 * replication backoff (1 s, 5 s, 25 s … ≤ 5 min) while something is unsent. An idle pair whose
 * anchors are all acknowledged runs no timer and sends nothing.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { z } from 'zod';
import { cvError, Errors } from '../lib/errors.js';
import type { AuditAnchorStore, AuditHead } from '../store/audit-anchors.js';
import { receiveAnchors, type AnchorWire } from '../vault/audit-anchor.js';
import { backoffMs } from './backoff.js';

/** Path of the anchors route. */
export const ANCHORS_PATH = '/replication/v1/anchors';

/** Most anchors in one request (a POP with more changed vaults sends several). */
export const MAX_ANCHORS_PER_REQUEST = 1000;

/** Delay, in milliseconds, between the first audit record of a quiet spell and the anchors it causes to be sent. */
export const ANCHOR_DELAY_MS = 1000;

/** Body of POST /replication/v1/anchors. */
export const AnchorsBody = z.strictObject({
  sender: z.string().regex(/^[a-z0-9-]{1,63}$/),
  anchors: z.array(z.strictObject({
    vault_id: z.string().min(1).max(128),
    seq: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
    hash: z.string().regex(/^[0-9a-f]{64}$/),
  })).min(1).max(MAX_ANCHORS_PER_REQUEST),
});
/** Parsed anchors body. */
export type AnchorsBody = z.infer<typeof AnchorsBody>;

/** Answer of the anchors route (checked by the peer client, issue 16 item 2). */
export const AnchorsAck = z.object({
  kept: z.number(),
  unknown_vaults: z.array(z.string()),
});
/** Parsed anchors answer. */
export type AnchorsAck = z.infer<typeof AnchorsAck>;

/** What the anchors route needs from the POP. */
export interface AnchorRouteDeps {
  /** The anchor store of the POP database. */
  store(): AuditAnchorStore;
  /** This POP's id (its own anchors are never accepted from a peer). */
  selfPopId(): string;
  /** The configured peer's pop id, or null when the configuration names none (a backup without primary_pop). */
  peerPopId(): string | null;
  readonly logger: Logger;
}

/**
 * Registers POST /replication/v1/anchors with the replication routes' `authenticate` hook (so it
 * is authenticated exactly like a push). Errors: 400 CV-5051 on a malformed body; 403 CV-5050
 * when `sender` is not this POP's peer.
 */
export function registerAnchorRoute(app: FastifyInstance, authenticate: (req: FastifyRequest, reply: FastifyReply) => Promise<unknown>, deps: AnchorRouteDeps): void {
  app.post(ANCHORS_PATH, { onRequest: authenticate }, async function post_anchors(req): Promise<AnchorsAck> {
    const parsed = AnchorsBody.safeParse(req.body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw cvError('ANCHOR_INVALID', `${Errors.ANCHOR_INVALID.message}: ${issue && issue.path.length > 0 ? issue.path.join('.') : 'body'}: ${issue?.message ?? 'invalid'}`);
    }
    const body = parsed.data;
    const peer = deps.peerPopId();
    if (body.sender === deps.selfPopId() || (peer !== null && body.sender !== peer)) {
      deps.logger.warn({ event: 'audit.anchor_sender_refused', sender: body.sender, peer, code: Errors.ANCHOR_SENDER_REFUSED.code }, `${Errors.ANCHOR_SENDER_REFUSED.code}: audit anchors from ${body.sender} refused: not this POP's peer`);
      throw cvError('ANCHOR_SENDER_REFUSED');
    }
    const r = await receiveAnchors(deps.store(), body.sender, body.anchors, new Date().toISOString());
    for (const c of r.conflicts) {
      deps.logger.error({ event: 'audit.anchor_conflict', code: Errors.ANCHOR_CONFLICT.code, pop: body.sender, vault_id: c.vault_id, kind: c.kind, seq: c.seq, held_seq: c.held_seq },
        `${Errors.ANCHOR_CONFLICT.code}: ${body.sender} sent an audit anchor for vault ${c.vault_id} that contradicts one it sent before (${c.kind === 'rewritten' ? `record ${c.seq} now has another hash` : `its trail now ends at ${c.seq}, below record ${c.held_seq} anchored before`}): its audit trail was changed on that host, or the vault was erased there. The earlier anchor is kept`);
    }
    deps.logger.debug({ event: 'audit.anchors_received', sender: body.sender, anchors: body.anchors.length, kept: r.kept, unknown: r.unknownVaults.length }, 'audit anchors received');
    return { kept: r.kept, unknown_vaults: r.unknownVaults };
  });
}

/** Result of sending anchors to the peer. */
export type AnchorSendResult = { ok: true; ack: AnchorsAck } | { ok: false; error: string };

/** Dependencies of the anchor sender. */
export interface AnchorSenderDeps {
  store(): AuditAnchorStore;
  readonly logger: Logger;
  selfPopId(): string;
  /** Sends one request to the current peer, or undefined when there is no peer to send to. */
  send(body: AnchorsBody): Promise<AnchorSendResult> | undefined;
  /** Delay before a send after the first mark, ms; default ANCHOR_DELAY_MS. */
  readonly delayMs?: number;
  /**
   * True while the push stream to the same peer is backing off (failures, a 503 with
   * Retry-After): anchors then wait for the link instead of knocking on their own (the peer asked
   * for a pause, issue 13 §2), checked again every LINK_RECHECK_MS.
   */
  linkDown?(): boolean;
}

/** How often a sender held back by a backing-off push stream looks again, in milliseconds. */
export const LINK_RECHECK_MS = 1000;

/** The anchor sender; see `createAnchorSender`. */
export type AnchorSender = ReturnType<typeof createAnchorSender>;

/** Counters of the anchor sender (status `replication.audit_anchors`, with `scheduled`: a send pending or in flight), since start. */
export interface AnchorSenderStats {
  /** Requests answered 200. */
  sent: number;
  /** Anchors acknowledged. */
  anchors: number;
  failed: number;
  /** Last failure, or null since the last success. */
  last_error: string | null;
}

/**
 * Builds the sender (no timer until `start` or `mark`). `start()` sends, once, every head its peer
 * has not acknowledged (records written while the peer was down or this POP stopped).
 */
export function createAnchorSender(deps: AnchorSenderDeps) {
  const delay = deps.delayMs ?? ANCHOR_DELAY_MS;
  const dirty = new Set<string>();
  let all = false;
  let timer: NodeJS.Timeout | undefined;
  let running = false;
  let stopped = false;
  let attempts = 0;
  const stats: AnchorSenderStats = { sent: 0, anchors: 0, failed: 0, last_error: null };

  function arm(ms: number): void {
    if (timer || stopped) return;
    timer = setTimeout(() => {
      timer = undefined;
      void flush();
    }, ms);
  }

  async function flush(): Promise<void> {
    if (running || stopped) return;
    if (deps.linkDown?.()) {
      arm(LINK_RECHECK_MS); // what is marked stays marked
      return;
    }
    running = true;
    const wasAll = all;
    const marked = [...dirty];
    all = false;
    dirty.clear();
    let failed = false;
    try {
      const store = deps.store();
      const heads: AuditHead[] = wasAll ? store.unsent() : store.unsentOf(marked);
      for (let i = 0; i < heads.length && !stopped; i += MAX_ANCHORS_PER_REQUEST) {
        const chunk = heads.slice(i, i + MAX_ANCHORS_PER_REQUEST);
        const pending = deps.send({ sender: deps.selfPopId(), anchors: chunk.map((h): AnchorWire => ({ vault_id: h.vaultId, seq: h.seq, hash: h.hash })) });
        if (!pending) return; // no peer configured: nothing to send to (docs/security.md)
        const r = await pending;
        if (!r.ok) {
          failed = true;
          stats.failed++;
          stats.last_error = r.error;
          for (const h of heads.slice(i)) dirty.add(h.vaultId);
          break;
        }
        const unknown = new Set(r.ack.unknown_vaults);
        await store.markSent(chunk.filter((h) => !unknown.has(h.vaultId)));
        stats.sent++;
        stats.anchors += chunk.length - unknown.size;
        stats.last_error = null;
      }
    } catch (e) {
      failed = true;
      stats.failed++;
      stats.last_error = (e as Error).message;
      if (wasAll) all = true;
      for (const v of marked) dirty.add(v);
    } finally {
      running = false;
    }
    if (stopped) return;
    if (failed) {
      attempts++;
      const wait = backoffMs(attempts);
      deps.logger.warn({ event: 'audit.anchors_failed', attempt: attempts, retry_in_ms: wait, error: stats.last_error }, 'could not send audit anchors to the peer; retrying');
      arm(wait);
      return;
    }
    attempts = 0;
    if (dirty.size > 0 || all) arm(delay);
  }

  return {
    /** An audit record was appended to `vaultId`: its head is sent within the delay. */
    mark(vaultId: string): void {
      if (stopped) return;
      dirty.add(vaultId);
      if (attempts === 0) arm(delay);
    },
    /** Sends every unacknowledged head once (start, a peer change on SIGHUP, the peer's hello). */
    start(): void {
      if (stopped) return;
      all = true;
      attempts = 0;
      if (timer) clearTimeout(timer);
      timer = undefined;
      arm(0);
    },
    /** True while a send is scheduled or in flight (the idle check: neither once everything is acknowledged). */
    hasTimer: (): boolean => timer !== undefined || running,
    /** Counters since start. */
    stats: (): AnchorSenderStats => ({ ...stats }),
    /** Stops for good. */
    stop(): void {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
  };
}
