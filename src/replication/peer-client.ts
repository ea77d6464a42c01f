/**
 * HTTP(S) client for talking to the peer POP (DESIGN.md §4.4.12), on undici. Results are plain
 * discriminated unions; nothing here throws for a network or HTTP failure.
 *
 * - **Pushes** (issue 12 item 4) travel in order over ONE keep-alive connection with HTTP/1.1
 *   pipelining (up to PUSH_WINDOW in flight), so the backup receives and applies them in the order
 *   they were sent. A push has no limit on its total duration: it fails when the connection makes
 *   no progress — no byte sent or received — for PEER_TIMEOUT_MS, plus the time the link needs to
 *   carry what may still sit in kernel buffers at the rate observed (see `progressAllowanceMs`).
 *   A stalled connection fails every push in flight on it (case F8); a 5 MB push over a 4 Mbit/s
 *   link does not.
 * - **Other calls** (hello, epoch, positions) are small: each is bounded by PEER_TIMEOUT_MS for
 *   connect, headers and body.
 * - A 429 or 503 answer with `Retry-After` (issue 13 §2) is returned as `retryAfterMs` so that the
 *   sender waits at least that long before its next attempt.
 * - Requests go through the product's client kit (src/lib/http-client.ts, issue 16 item 2): its
 *   transport errors, its one parser of error bodies, and answers checked with the wire schemas
 *   (PushAck, PeerInfoAnswer, PositionsAnswer, AnchorsAck); a push travels through the kit on
 *   the pipelined connection below.
 */
import { Client, buildConnector } from 'undici';
import type { Socket } from 'node:net';
import { ExpectedPositions, PeerInfoAnswer, PositionsAnswer, PushAck, type ExpectedPosition, type PeerInfo, type PushBody } from './wire.js';
import { PUSH_MAC_HEADER, pushMac } from './push-mac.js';
import { Errors } from '../lib/errors.js';
import { createHttpClient, errorObjectOf, TransportError, type HttpAnswer } from '../lib/http-client.js';
import type { z } from 'zod';
import { EPOCH_PATH, HELLO_PATH, POSITIONS_PATH, PUSH_PATH } from './wire.js';
import { ANCHORS_PATH, AnchorsAck, type AnchorsBody, type AnchorSendResult } from './anchors.js';
import { NONCE_HEADER, SIGNATURE_HEADER, newNonce, signParts, signatureValid } from './signature.js';
import type { KeyObject } from 'node:crypto';

/**
 * Time limit of one small request to the peer, in milliseconds (connect, headers and body each),
 * and the progress timeout of pushes: a push fails after this long without a byte sent or received
 * on its connection (plus the drain allowance of `progressAllowanceMs`).
 */
export const PEER_TIMEOUT_MS = 10_000;

/**
 * Most pushes in flight at once on the push connection (the sender's window, issue 12 item 4).
 * Four keep a link busy while the backup applies the previous push, without letting a failure
 * waste more than four pushes' worth of resending (go-back-N).
 */
export const PUSH_WINDOW = 4;

/** How often the progress watchdog samples the push connection while pushes are in flight, in ms. */
export const PROGRESS_SAMPLE_MS = 1000;

/**
 * Upper bound, in bytes, of what the watchdog assumes may still be buffered between this process
 * and the peer (kernel send buffer, receive buffer of the far end) once everything is written:
 * 8 MiB, above Linux's default tcp_wmem maximum of 4 MiB plus a receive window.
 */
export const KERNEL_BUFFER_ESTIMATE_BYTES = 8 * 1024 * 1024;

/**
 * Extra milliseconds a connection may go without visible progress once everything is written:
 * `unconfirmedBytes` (written since the peer last sent anything, capped at
 * KERNEL_BUFFER_ESTIMATE_BYTES) at `rateBytesPerSec` (drain rate seen while the socket's queue was
 * full), or 0 when no rate was observed (a fast link drains its buffers at once).
 */
export function progressAllowanceMs(unconfirmedBytes: number, rateBytesPerSec: number): number {
  if (!(rateBytesPerSec > 0) || unconfirmedBytes <= 0) return 0;
  return Math.ceil((Math.min(unconfirmedBytes, KERNEL_BUFFER_ESTIMATE_BYTES) / rateBytesPerSec) * 1000);
}

/**
 * Parses a `Retry-After` header (RFC 9110 §10.2.3: delay in seconds, or an HTTP date) into
 * milliseconds from `nowMs` (wall clock, only to read a date); undefined when absent or invalid.
 */
export function parseRetryAfter(value: string | string[] | undefined, nowMs: number): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined) return undefined;
  const t = v.trim();
  if (/^\d+$/.test(t)) return Number(t) * 1000;
  if (!/ GMT$/.test(t)) return undefined; // an HTTP date is always in GMT
  const at = Date.parse(t);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/** `code` of the errors this client fails pushes with itself (progress timeout, abandoned). */
const PUSH_FAILED_CODE = 'CLAVITOR_PUSH_FAILED';

/** What the push connection is doing, for status (`replication.in_flight`). */
export interface PushProgress {
  /** Pushes sent and not yet answered. */
  pushes: number;
  /** Revisions in those pushes. */
  revisions: number;
  /** Body bytes of those pushes. */
  bytes: number;
  /** Of `bytes`, how many have left this process (handed to the kernel; approximate, headers aside). */
  bytes_sent: number;
  /** Milliseconds since the connection last made progress (a byte sent or received). */
  idle_ms: number;
}

/** Outcome of a push. */
export type PushResult =
  | { ok: true; ack: PushAck }
  /** REPLICATION_GAP: `lsn` is the last log position the backup holds (the stream resumes after it). */
  | { ok: false; kind: 'gap'; expected: ExpectedPosition[]; lsn?: number; epoch: number }
  | { ok: false; kind: 'diverged'; diverged: ExpectedPosition[]; epoch: number }
  | { ok: false; kind: 'stale_epoch' | 'not_backup'; epoch: number }
  /** REPLAYED_PUSH (CV-5013): the backup already accepted `last_push_seq` from this sender (a counter gone back: restored from a snapshot?). */
  | { ok: false; kind: 'replayed'; lastPushSeq: number; epoch: number }
  /** 401/403 or a failed push MAC; `code` is the peer's CV code (CV-2005 token, CV-5040 signature, CV-5014 MAC) when it sent one. */
  | { ok: false; kind: 'auth'; status: number; code: string | null }
  /** Any other answer; `retryAfterMs` from a 429/503 `Retry-After` header. */
  | { ok: false; kind: 'http'; status: number; code: string | null; retryAfterMs?: number }
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
  /** This POP's Ed25519 signing key: signs every request (issue 13 §1). */
  readonly signingKey?: KeyObject;
  /** The peer's pinned public key: an answer that does not verify with it is not adopted. */
  readonly peerKey?: KeyObject;
  /** Peer POP id, expected as the signer of its answers. */
  readonly peerId?: string;
  /** Called for an answer refused for its signature (CV-5042): `path` and HTTP status, for the log and metric. */
  readonly onUnsignedAnswer?: (path: string, status: number) => void;
}

/** A peer client; see `createPeerClient`. */
export type PeerClient = ReturnType<typeof createPeerClient>;

/**
 * The watchdog's progress counters of a socket: bytes handed to the kernel so far (`sent`), bytes
 * read, and bytes written by the caller but not yet in the kernel (`queued`).
 */
function socketCounters(socket: Socket): { sent: number; read: number; queued: number } {
  // net.Socket counts bytes passed to libuv in `_bytesDispatched` (its `bytesWritten` adds what is
  // still buffered in the stream); libuv's `writeQueueSize` is what of that is not yet in the
  // kernel (for TLS, also the TCP handle's under the TLS wrap). These are the counters net.Socket
  // itself uses; when absent, progress is judged on the stream's own counters.
  const sock = socket as unknown as { _bytesDispatched?: number; _handle?: { writeQueueSize?: number; _parent?: { writeQueueSize?: number } } };
  const h = sock._handle;
  const dispatched = typeof sock._bytesDispatched === 'number' ? sock._bytesDispatched : socket.bytesWritten - socket.writableLength;
  const inLibuv = (typeof h?.writeQueueSize === 'number' ? h.writeQueueSize : 0) + (typeof h?._parent?.writeQueueSize === 'number' ? h._parent.writeQueueSize : 0);
  const sent = Math.max(0, dispatched - inLibuv);
  return { sent, read: socket.bytesRead, queued: Math.max(0, socket.bytesWritten - sent) };
}

/** Why a request got no answer: undici's or Node's code, or the message of this client's own push failures. */
function transportReason(e: unknown): string {
  if (!(e instanceof TransportError)) return (e as Error)?.message ?? 'request failed';
  const cause = e.cause as { code?: string; message?: string } | undefined;
  return cause?.code === PUSH_FAILED_CODE ? String(cause.message) : e.reason;
}

/** `HTTP <status> <CV code>` of a refused small request. */
function refusal(a: HttpAnswer): string {
  return `HTTP ${a.status} ${errorObjectOf(a.json)?.code ?? ''}`.trim();
}

/** Builds a client for one peer. Call `close()` when the peer or its credentials change. */
export function createPeerClient(opts: PeerClientOptions) {
  const timeout = opts.timeoutMs ?? PEER_TIMEOUT_MS;
  const tlsOpts = { ...(opts.tls?.cert ? { cert: opts.tls.cert } : {}), ...(opts.tls?.key ? { key: opts.tls.key } : {}), ...(opts.tls?.ca ? { ca: opts.tls.ca } : {}) };
  // Small requests: connect, headers and body each bounded by `timeout`.
  const http = createHttpClient({
    baseUrl: opts.url, token: opts.token, headers: { 'content-type': 'application/json', 'x-clavitor-pop': opts.selfPopId },
    tls: tlsOpts, timeoutMs: timeout, unreachable: Errors.PEER_UNREACHABLE,
  });
  const base = new URL(http.baseUrl);
  const basePath = http.basePath;

  /** Nonce and signature headers of a request (issue 13 §1; signature.ts). */
  function signedHeaders(method: string, path: string, body: string): { nonce: string; headers: Record<string, string> } {
    const nonce = newNonce();
    const sig = opts.signingKey ? signParts(opts.signingKey, { kind: 'request', method, path: path.split('?')[0] ?? '', signer: opts.selfPopId, nonce, body }) : undefined;
    return { nonce, headers: { [NONCE_HEADER]: nonce, ...(sig ? { [SIGNATURE_HEADER]: sig } : {}) } };
  }
  /** True when an answer is signed by the pinned peer key over our nonce; reports it otherwise. */
  function answerSigned(path: string, status: number, nonce: string, signature: string | string[] | undefined, body: string): boolean {
    // The signed path is the path without its query, as the answering POP signs it (routes.ts).
    if (signatureValid(opts.peerKey, signature, { kind: 'answer', method: String(status), path: path.split('?')[0] ?? '', signer: opts.peerId ?? '', nonce, body })) return true;
    opts.onUnsignedAnswer?.(path, status);
    return false;
  }
  /** The answer a caller sees when the peer's answer is not signed by its pinned key: nothing of it is used. */
  const UNSIGNED = `${Errors.PEER_ANSWER_UNSIGNED.code}: answer not signed by the pinned peer key`;

  // ---- the push connection: one socket, pipelined, watched for progress -------------------------
  const connector = buildConnector({ ...tlsOpts, timeout });
  let pushSocket: Socket | undefined;
  const makePushClient = (): Client => new Client(base.origin, {
    pipelining: PUSH_WINDOW,
    connectTimeout: timeout,
    // No total limit: the watchdog below fails a push on lack of progress instead.
    headersTimeout: 0,
    bodyTimeout: 0,
    connect: (o, cb) => connector(o, (err, socket) => {
      if (socket) pushSocket = socket as Socket;
      cb(err, socket as never);
    }),
  });
  let pushClient = makePushClient();
  /**
   * Fails every push in flight or queued with `err` and starts over on a new connection. (undici
   * would otherwise resend the pipelined pushes behind a failed one on a new connection by itself.)
   */
  function resetPushClient(err: Error): void {
    const old = pushClient;
    pushClient = makePushClient();
    pushSocket = undefined;
    void old.destroy(err).catch(() => {});
  }
  interface Pending { bytes: number; revisions: number }
  const pending: Pending[] = [];
  let watchdog: NodeJS.Timeout | undefined;
  let watched: Socket | undefined;
  let last = { sent: 0, read: 0, queued: 0 };
  let lastProgressMs = 0;
  let backedUp: { atMs: number; sent: number } | undefined;
  let unconfirmed = 0;
  let rate = 0;
  /** Socket `sent` counter at the start of the oldest pending push (approximate: headers aside). */
  let baseSent = 0;

  /** Starts watching the push socket; `fresh`: it was connected after the pushes began (counters from 0). */
  function resetWatch(fresh: boolean): void {
    watched = pushSocket;
    last = watched && !fresh ? socketCounters(watched) : { sent: 0, read: 0, queued: 0 };
    lastProgressMs = performance.now();
    backedUp = undefined;
    unconfirmed = 0;
    rate = 0;
    baseSent = last.sent;
  }

  /** One sample (every PROGRESS_SAMPLE_MS while pushes are in flight): progress, or a stall. */
  function sample(): void {
    const now = performance.now();
    if (pushSocket !== watched) resetWatch(true); // a new connection: its counters start at 0
    if (!watched) {
      if (now - lastProgressMs > timeout) stall(now);
      return;
    }
    const c = socketCounters(watched);
    if (c.read !== last.read) {
      lastProgressMs = now;
      unconfirmed = 0;
    }
    if (c.sent !== last.sent) {
      unconfirmed += c.sent - last.sent;
      lastProgressMs = now;
    }
    // While bytes wait to enter the kernel, its buffers are full: what enters them is what the
    // link carries. Averaged over the whole backed-up stretch (the kernel takes bytes in lumps).
    if (c.queued > 0) {
      backedUp ??= { atMs: now, sent: c.sent };
      if (now > backedUp.atMs && c.sent > backedUp.sent) rate = ((c.sent - backedUp.sent) * 1000) / (now - backedUp.atMs);
    } else {
      backedUp = undefined;
    }
    last = c;
    const allowance = timeout + (c.queued === 0 ? progressAllowanceMs(unconfirmed, rate) : 0);
    if (now - lastProgressMs > allowance) stall(now);
  }

  function stall(now: number): void {
    const err = Object.assign(new Error(`progress timeout: no byte sent or received for ${Math.round((now - lastProgressMs) / 1000)} s`), { code: PUSH_FAILED_CODE });
    stopWatch();
    resetPushClient(err);
  }

  function stopWatch(): void {
    if (watchdog) clearInterval(watchdog);
    watchdog = undefined;
  }

  async function pushRequest(body: string, revisions: number): Promise<{ status: number; json: unknown; retryAfterMs?: number; unsigned?: boolean } | { error: string }> {
    const entry: Pending = { bytes: Buffer.byteLength(body), revisions };
    if (pending.length === 0) {
      resetWatch(false);
      watchdog = setInterval(sample, PROGRESS_SAMPLE_MS);
    }
    pending.push(entry);
    const path = `${basePath}${PUSH_PATH}`;
    const signed = signedHeaders('POST', path, body);
    try {
      const a = await http.send('POST', PUSH_PATH, {
        body,
        headers: { ...signed.headers, [PUSH_MAC_HEADER]: pushMac(opts.token, body) },
        // On the pipelined push connection, whose only limit is the progress watchdog.
        dispatcher: pushClient,
        // Pushes are safe to pipeline: the backup refuses a replayed or out-of-order one (CV-5013, gap).
        idempotent: true,
        blocking: false,
      });
      const retryAfterMs = a.status === 429 || a.status === 503 ? parseRetryAfter(a.headers['retry-after'], Date.now()) : undefined;
      if (!answerSigned(path, a.status, signed.nonce, a.headers[SIGNATURE_HEADER], a.text)) return { status: a.status, json: undefined, unsigned: true, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
      return { status: a.status, json: a.json, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) };
    } catch (e) {
      return { error: transportReason(e) };
    } finally {
      const i = pending.indexOf(entry);
      if (i >= 0) {
        pending.splice(i, 1);
        if (i === 0) baseSent += entry.bytes;
      }
      if (pending.length === 0) stopWatch();
    }
  }

  /** A small signed request; the answer only when it is signed by the pinned peer key. */
  async function call(method: 'GET' | 'POST', path: string, body?: string): Promise<HttpAnswer | { error: string }> {
    const signed = signedHeaders(method, `${basePath}${path}`, body ?? '');
    try {
      const a = await http.send(method, path, { ...(body !== undefined ? { body } : {}), headers: signed.headers });
      if (!answerSigned(`${basePath}${path}`, a.status, signed.nonce, a.headers[SIGNATURE_HEADER], a.text)) return { error: UNSIGNED };
      return a;
    } catch (e) {
      return { error: transportReason(e) };
    }
  }

  /** A 200 answer checked with `schema`, or why not (`HTTP <status> <code>`, or `malformed <what> answer …`). */
  function answerOf<S extends z.ZodType>(r: HttpAnswer | { error: string }, schema: S, what: string, hint = ''): z.infer<S> | { error: string } {
    if ('error' in r) return { error: r.error };
    if (r.status !== 200) return { error: refusal(r) };
    const parsed = schema.safeParse(r.json);
    if (parsed.success) return parsed.data;
    const issue = parsed.error.issues[0];
    return { error: `malformed ${what} answer${hint || ` (${issue && issue.path.length > 0 ? issue.path.join('.') : 'body'}: ${issue?.message ?? 'invalid'})`}` };
  }

  return {
    /**
     * Sends one push on the pipelined push connection; pushes sent one after another arrive in
     * that order. Up to PUSH_WINDOW are written at once; more wait in the client's queue.
     */
    async push(push: PushBody): Promise<PushResult> {
      const r = await pushRequest(JSON.stringify(push), push.items.length);
      if ('error' in r) return { ok: false, kind: 'transport', error: r.error };
      // Nothing of an unsigned answer is adopted (issue 13 §1): a failure like any other, no epoch.
      if (r.unsigned) return { ok: false, kind: 'http', status: r.status, code: Errors.PEER_ANSWER_UNSIGNED.code, ...(r.retryAfterMs !== undefined ? { retryAfterMs: r.retryAfterMs } : {}) };
      if (r.status === 200) {
        const ack = PushAck.safeParse(r.json);
        // A 200 that is not an ack (another service behind the URL?): a failure like any other.
        return ack.success ? { ok: true, ack: ack.data } : { ok: false, kind: 'http', status: r.status, code: Errors.HTTP_ANSWER_INVALID.code };
      }
      const e: Record<string, unknown> = errorObjectOf(r.json) ?? {};
      const epoch = typeof e.epoch === 'number' ? e.epoch : 0;
      const positions = (v: unknown): ExpectedPosition[] => ExpectedPositions.safeParse(v).data ?? [];
      const code = typeof e.code === 'string' ? e.code : null;
      if (r.status === 401 || r.status === 403) return { ok: false, kind: 'auth', status: r.status, code };
      if (e.code === Errors.REPLICATION_GAP.code) return { ok: false, kind: 'gap', expected: positions(e.expected), ...(typeof e.lsn === 'number' ? { lsn: e.lsn } : {}), epoch };
      if (e.code === Errors.REPLICATION_DIVERGED.code) return { ok: false, kind: 'diverged', diverged: positions(e.diverged), epoch };
      if (e.code === Errors.STALE_EPOCH.code) return { ok: false, kind: 'stale_epoch', epoch };
      if (e.code === Errors.NOT_A_BACKUP.code) return { ok: false, kind: 'not_backup', epoch };
      if (e.code === Errors.REPLAYED_PUSH.code) return { ok: false, kind: 'replayed', lastPushSeq: typeof e.last_push_seq === 'number' ? e.last_push_seq : 0, epoch };
      if (e.code === Errors.PUSH_MAC_INVALID.code) return { ok: false, kind: 'auth', status: r.status, code };
      return { ok: false, kind: 'http', status: r.status, code, ...(r.retryAfterMs !== undefined ? { retryAfterMs: r.retryAfterMs } : {}) };
    },
    /**
     * Fails every push in flight at once (go-back-N after a failed push: those behind it are sent
     * again from the oldest unacknowledged record) and drops the push connection.
     */
    abandonPushes(): void {
      if (pending.length === 0) return;
      stopWatch();
      resetPushClient(Object.assign(new Error('abandoned after an earlier push failed'), { code: PUSH_FAILED_CODE }));
    },
    /** Pushes in flight and how far the oldest ones got (status `replication.in_flight`); null when none. */
    progress(): PushProgress | null {
      if (pending.length === 0) return null;
      let bytes = 0;
      let revisions = 0;
      for (const p of pending) {
        bytes += p.bytes;
        revisions += p.revisions;
      }
      const sent = pushSocket && pushSocket === watched ? socketCounters(pushSocket).sent - baseSent : 0;
      return { pushes: pending.length, revisions, bytes, bytes_sent: Math.max(0, Math.min(bytes, sent)), idle_ms: Math.round(performance.now() - lastProgressMs) };
    },
    /** Announces this POP (a backup) to its primary; returns the primary's info or an error string. */
    async hello(self: PeerInfo): Promise<PeerInfo | { error: string }> {
      return answerOf(await call('POST', HELLO_PATH, JSON.stringify(self)), PeerInfoAnswer, 'hello');
    },
    /** Asks the peer for its role and epoch. */
    async epoch(): Promise<PeerInfo | { error: string }> {
      return answerOf(await call('GET', EPOCH_PATH), PeerInfoAnswer, 'epoch');
    },
    /**
     * Asks the peer (a backup) for its replication position (issue 12 item 3): epoch, role, last LSN,
     * epoch history, and the vaults holding revisions past `afterLsn` (this POP's last LSN).
     */
    async positions(afterLsn: number): Promise<PositionsAnswer | { error: string }> {
      const r = await call('GET', `${POSITIONS_PATH}?after=${Math.max(0, Math.floor(afterLsn))}`);
      return answerOf(r, PositionsAnswer, 'positions', ' (a peer without log positions?)');
    },
    /** Sends audit anchors (issue 13 §3; anchors.ts) to the peer. */
    async anchors(body: AnchorsBody): Promise<AnchorSendResult> {
      const a = answerOf(await call('POST', ANCHORS_PATH, JSON.stringify(body)), AnchorsAck, 'anchors');
      return 'error' in a ? { ok: false, error: a.error } : { ok: true, ack: a };
    },
    /**
     * Closes pooled connections gracefully: requests in flight finish (pushes still under the
     * progress watchdog), then the connections close (SIGHUP replaces the client this way).
     */
    async close(): Promise<void> {
      await Promise.all([http.close(), pushClient.close().catch(() => {})]);
    },
  };
}
