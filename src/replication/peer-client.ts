/**
 * HTTP(S) client for talking to the peer POP (DESIGN.md §4.4.12), on undici. Every call is bounded
 * by a timeout so a peer that accepts connections but never answers (case F8) turns into a failed
 * attempt, not a stuck sender. Results are plain discriminated unions; nothing here throws for
 * a network or HTTP failure.
 */
import { Agent, request } from 'undici';
import type { ExpectedPosition, PeerInfo, PushAck, PushBody } from './wire.js';
import { PUSH_MAC_HEADER, pushMac } from './push-mac.js';
import { Errors } from '../lib/errors.js';
import { EPOCH_PATH, HELLO_PATH, POSITIONS_PATH, PUSH_PATH } from './wire.js';

/** Time limit of one request to the peer, in milliseconds (connect, headers and body each). */
export const PEER_TIMEOUT_MS = 10_000;

/** Outcome of a push. */
export type PushResult =
  | { ok: true; ack: PushAck }
  | { ok: false; kind: 'gap'; expected: ExpectedPosition[]; epoch: number }
  | { ok: false; kind: 'diverged'; diverged: ExpectedPosition[]; epoch: number }
  | { ok: false; kind: 'stale_epoch' | 'not_backup'; epoch: number }
  /** REPLAYED_PUSH (CV-5013): the backup already accepted `last_push_seq` from this sender (a counter gone back: restored from a snapshot?). */
  | { ok: false; kind: 'replayed'; lastPushSeq: number; epoch: number }
  | { ok: false; kind: 'auth'; status: number }
  | { ok: false; kind: 'http'; status: number; code: string | null }
  | { ok: false; kind: 'transport'; error: string };

/** TLS material for connections to the peer (mutual TLS when cert and key are given). */
export interface PeerTls {
  readonly cert?: Buffer;
  readonly key?: Buffer;
  readonly ca?: Buffer;
}

/** Connection settings of a peer client. */
export interface PeerClientOptions {
  /** Peer base URL, no trailing slash. */
  readonly url: string;
  /** Bearer token to present. */
  readonly token: string;
  /** This POP's id, sent as `X-Clavitor-Pop`. */
  readonly selfPopId: string;
  readonly tls?: PeerTls;
  /** Per-request timeout in milliseconds; default PEER_TIMEOUT_MS. */
  readonly timeoutMs?: number;
}

/** A peer client; see `createPeerClient`. */
export type PeerClient = ReturnType<typeof createPeerClient>;

/** Builds a client for one peer. Call `close()` when the peer or its credentials change. */
export function createPeerClient(opts: PeerClientOptions) {
  const timeout = opts.timeoutMs ?? PEER_TIMEOUT_MS;
  const dispatcher = new Agent({
    connectTimeout: timeout,
    headersTimeout: timeout,
    bodyTimeout: timeout,
    connect: { ...(opts.tls?.cert ? { cert: opts.tls.cert } : {}), ...(opts.tls?.key ? { key: opts.tls.key } : {}), ...(opts.tls?.ca ? { ca: opts.tls.ca } : {}) },
  });
  const headers = { authorization: `Bearer ${opts.token}`, 'content-type': 'application/json', 'x-clavitor-pop': opts.selfPopId };

  async function call(method: 'GET' | 'POST', path: string, body?: string, extra?: Record<string, string>): Promise<{ status: number; json: unknown } | { error: string }> {
    try {
      const res = await request(`${opts.url}${path}`, { method, headers: { ...headers, ...(extra ?? {}) }, ...(body !== undefined ? { body } : {}), dispatcher });
      const text = await res.body.text();
      let json: unknown = null;
      try {
        json = text ? JSON.parse(text) : null;
      } catch {
        json = null;
      }
      return { status: res.statusCode, json };
    } catch (e) {
      const err = e as { code?: string; message?: string };
      return { error: err.code ?? err.message ?? 'request failed' };
    }
  }

  const errOf = (json: unknown): Record<string, unknown> => ((json as { error?: Record<string, unknown> } | null)?.error ?? {});

  return {
    /** Sends one push. */
    async push(push: PushBody): Promise<PushResult> {
      const body = JSON.stringify(push);
      const r = await call('POST', PUSH_PATH, body, { [PUSH_MAC_HEADER]: pushMac(opts.token, body) });
      if ('error' in r) return { ok: false, kind: 'transport', error: r.error };
      if (r.status === 200) return { ok: true, ack: r.json as PushAck };
      const e = errOf(r.json);
      const epoch = typeof e.epoch === 'number' ? e.epoch : 0;
      if (r.status === 401 || r.status === 403) return { ok: false, kind: 'auth', status: r.status };
      if (e.code === Errors.REPLICATION_GAP.code) return { ok: false, kind: 'gap', expected: (e.expected as ExpectedPosition[]) ?? [], epoch };
      if (e.code === Errors.REPLICATION_DIVERGED.code) return { ok: false, kind: 'diverged', diverged: (e.diverged as ExpectedPosition[]) ?? [], epoch };
      if (e.code === Errors.STALE_EPOCH.code) return { ok: false, kind: 'stale_epoch', epoch };
      if (e.code === Errors.NOT_A_BACKUP.code) return { ok: false, kind: 'not_backup', epoch };
      if (e.code === Errors.REPLAYED_PUSH.code) return { ok: false, kind: 'replayed', lastPushSeq: typeof e.last_push_seq === 'number' ? e.last_push_seq : 0, epoch };
      if (e.code === Errors.PUSH_MAC_INVALID.code) return { ok: false, kind: 'auth', status: r.status };
      return { ok: false, kind: 'http', status: r.status, code: typeof e.code === 'string' ? e.code : null };
    },
    /** Announces this POP (a backup) to its primary; returns the primary's info or an error string. */
    async hello(self: PeerInfo): Promise<PeerInfo | { error: string }> {
      const r = await call('POST', HELLO_PATH, JSON.stringify(self));
      if ('error' in r) return { error: r.error };
      return r.status === 200 ? (r.json as PeerInfo) : { error: `HTTP ${r.status} ${String(errOf(r.json).code ?? '')}`.trim() };
    },
    /** Asks the peer for its role and epoch. */
    async epoch(): Promise<PeerInfo | { error: string }> {
      const r = await call('GET', EPOCH_PATH);
      if ('error' in r) return { error: r.error };
      return r.status === 200 ? (r.json as PeerInfo) : { error: `HTTP ${r.status} ${String(errOf(r.json).code ?? '')}`.trim() };
    },
    /** Asks the peer (a backup) for its head seq per vault, its epoch and its role (`role` absent from older POPs). */
    async positions(): Promise<{ epoch: number; role?: string; positions: Record<string, number> } | { error: string }> {
      const r = await call('GET', POSITIONS_PATH);
      if ('error' in r) return { error: r.error };
      return r.status === 200 ? (r.json as { epoch: number; role?: string; positions: Record<string, number> }) : { error: `HTTP ${r.status} ${String(errOf(r.json).code ?? '')}`.trim() };
    },
    /** Closes pooled connections. */
    async close(): Promise<void> {
      await dispatcher.close().catch(() => {});
    },
  };
}
