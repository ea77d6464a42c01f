/**
 * The one HTTP client kit of the product (issue 16 item 2), on undici 7. Every client —
 * `clavitor-cli`, the operator commands of `clavitor-commercial`, `clavitor-control status`, the
 * POP's heartbeat and its replication peer client, the demo script — sends through it, so that:
 *
 * - a base URL, a bearer token, TLS material (CA bundle, client certificate and key: lib/client-tls.ts)
 *   and a TLS server name are set once per client;
 * - timeouts are undici's connect, headers and body timeouts (each phase, in milliseconds) plus an
 *   optional total per request (`AbortSignal.timeout`): all timers, so the monotonic clock — a
 *   wall-clock step never shortens or lengthens one (case F12);
 * - the error body every Clavitor server sends, `{"error":{"code":"CV-NNNN","message":"…",…}}`
 *   (DESIGN.md §3, docs/errors.md "HTTP error body"), is parsed here and nowhere else, into an
 *   {@link HttpError}: a `ClavitorError` with the server's code, message, HTTP status, the other
 *   fields of the error object as `details`, and the `Retry-After` / `X-Primary-Location` headers;
 * - a transport failure (refused, reset, TLS, timeout) is a {@link TransportError} with the
 *   registry code the caller chose (CV-6005 for the CLI, CV-5011 for the peer, CV-6103 for the
 *   control plane; CV-6051 by default);
 * - answers are checked with zod schemas: an answer of another shape is CV-6050
 *   (HTTP_ANSWER_INVALID), never cast.
 *
 * Messages never contain the token or a request body.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { Agent, request, type Dispatcher } from 'undici';
import type { z } from 'zod';
import { connectOptions, describeTransportError, type ClientTls } from './client-tls.js';
import { ClavitorError, Errors, type ErrorDef } from './errors.js';

/** Default time limit of each phase of a request (connect, headers, body), in milliseconds. */
export const DEFAULT_HTTP_TIMEOUT_MS = 30_000;

/** Settings of one client; see {@link createHttpClient}. */
export interface HttpClientOptions {
  /** Base URL, e.g. `https://pop-a.example:8443` or `http://127.0.0.1:4000/prefix`; trailing slashes are dropped. */
  readonly baseUrl: string;
  /** Bearer token sent as `Authorization: Bearer <token>` with every request (never logged). */
  readonly token?: string | undefined;
  /** Headers sent with every request (a request's own headers win). */
  readonly headers?: Readonly<Record<string, string>>;
  /** CA bundle, client certificate and key (lib/client-tls.ts `loadClientTls`); none: system roots. */
  readonly tls?: ClientTls | undefined;
  /** TLS server name to send (SNI) and to check the certificate against, when it differs from the URL's host. */
  readonly servername?: string | undefined;
  /** Time limit, in milliseconds, of each phase of a request: connect, headers, body. Default {@link DEFAULT_HTTP_TIMEOUT_MS}; 0 disables headers and body limits. */
  readonly timeoutMs?: number;
  /** Milliseconds an idle keep-alive connection is kept (undici default 4000). */
  readonly keepAliveTimeoutMs?: number;
  /** Registry error of a transport failure (default HTTP_UNREACHABLE, CV-6051). */
  readonly unreachable?: ErrorDef;
  /** Flag named in the hint of a TLS verification failure (default `--ca-file`). */
  readonly caFlag?: string;
  /** An existing dispatcher to send through instead of one built from `tls`, `servername` and the timeouts (not closed by `close()`). */
  readonly dispatcher?: Dispatcher;
}

/** Options of one request. */
export interface SendOptions {
  /** A value sent as JSON (`content-type: application/json`). */
  readonly json?: unknown;
  /** A body sent as it is (e.g. an already serialised and signed JSON text); `json` wins. */
  readonly body?: string;
  /** Extra headers of this request. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Limit, in milliseconds, of the whole request (aborted after it), on top of the per-phase timeouts. */
  readonly totalTimeoutMs?: number;
  /** Per-phase limit for this request only, in milliseconds (headers and body), instead of the client's. */
  readonly timeoutMs?: number;
  /** Send through this dispatcher (e.g. a pipelined `Client`) instead of the client's. */
  readonly dispatcher?: Dispatcher;
  /** undici `idempotent` (a pipelined request that may be retried on a new connection). */
  readonly idempotent?: boolean;
  /** undici `blocking` (false lets pipelined requests follow one another without waiting). */
  readonly blocking?: boolean;
}

/** A raw answer: status, headers, the body as text, and the body as JSON (undefined when empty or not JSON). */
export interface HttpAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
  readonly json: unknown;
}

/**
 * An error answer of a server (HTTP status ≥ 400). `code`/`message` come from its error body, or,
 * when there is none (a proxy's error page, another service at that URL), `code` is CV-9001
 * (INTERNAL) with the message `HTTP <status> from <base URL>` and `coded` is false.
 */
export class HttpError extends ClavitorError {
  /** True when the answer carried a Clavitor error body (`{"error":{"code","message"}}`). */
  readonly coded: boolean;
  /** The server's `Retry-After`, in whole seconds, when it sent a delay in seconds. */
  readonly retryAfterSeconds: number | undefined;
  /** The server's `X-Primary-Location` (a POP refusing a write names the primary). */
  readonly primaryLocation: string | undefined;
  /** The answer itself (headers and text), for callers that read more of it. */
  readonly answer: HttpAnswer;

  constructor(answer: HttpAnswer, fallbackMessage: string) {
    const e = errorObjectOf(answer.json);
    const coded = e !== undefined;
    const { code: _c, message: _m, ...rest } = e ?? {};
    super({ code: e?.code ?? Errors.INTERNAL.code, status: answer.status, message: fallbackMessage }, e?.message ?? fallbackMessage, coded ? rest : undefined);
    this.name = 'HttpError';
    this.coded = coded;
    const retry = Number(header(answer.headers, 'retry-after'));
    this.retryAfterSeconds = header(answer.headers, 'retry-after') !== undefined && Number.isInteger(retry) && retry >= 0 ? retry : undefined;
    this.primaryLocation = header(answer.headers, 'x-primary-location');
    this.answer = answer;
  }
}

/**
 * A request that got no answer: connection refused or reset, TLS failure, timeout. `code` is the
 * registry code the client was built with; `reason` is undici's or Node's error code (e.g.
 * `ECONNREFUSED`, `UND_ERR_HEADERS_TIMEOUT`), else its message; `cause` the original error.
 */
export class TransportError extends ClavitorError {
  /** undici's or Node's error code, else the error's message. */
  readonly reason: string;
  /** True for a certificate verification failure (private CA not passed, wrong name, expired). */
  readonly tlsVerify: boolean;

  constructor(defn: ErrorDef, message: string, cause: unknown) {
    super(defn, message);
    this.name = 'TransportError';
    const err = cause as { code?: unknown; name?: string; message?: string; cause?: { code?: unknown } } | undefined;
    const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
    // An aborted request (the total timeout) is a DOMException whose `code` is a number: its name says it.
    const aborted = err?.name === 'TimeoutError' || err?.name === 'AbortError' ? err.name : undefined;
    this.reason = str(err?.code) ?? str(err?.cause?.code) ?? aborted ?? str(err?.message) ?? 'request failed';
    this.tlsVerify = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ERR_TLS/.test(str(err?.cause?.code) ?? str(err?.code) ?? '');
    this.cause = cause;
  }
}

/** One header's value (the first, when repeated). */
function header(h: IncomingHttpHeaders, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

/** The `error` object of a Clavitor error body, or undefined when `json` is not one. */
export function errorObjectOf(json: unknown): ({ code: string; message: string } & Record<string, unknown>) | undefined {
  const e = (json as { error?: unknown } | null | undefined)?.error;
  if (typeof e !== 'object' || e === null) return undefined;
  const o = e as Record<string, unknown>;
  return typeof o.code === 'string' && /^CV-\d{4}$/.test(o.code) && typeof o.message === 'string' ? (o as { code: string; message: string } & Record<string, unknown>) : undefined;
}

/** The answer's body as JSON, or undefined when empty or not JSON. */
function jsonOf(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Checks `answer.json` against `schema`.
 * @throws ClavitorError CV-6050 (HTTP_ANSWER_INVALID) naming `where`, the status and the first
 *   problem's path (never a value).
 */
export function parseAnswer<S extends z.ZodType>(schema: S, answer: HttpAnswer, where: string): z.infer<S> {
  const r = schema.safeParse(answer.json);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const at = issue && issue.path.length > 0 ? issue.path.join('.') : 'body';
  throw new ClavitorError(Errors.HTTP_ANSWER_INVALID, `${where}: answered HTTP ${answer.status} with ${answer.json === undefined ? 'no JSON' : `a body this version does not understand (${at}: ${issue?.message ?? 'invalid'})`}`);
}

/** A client for one server; see {@link createHttpClient}. */
export interface HttpClient {
  /** Base URL without trailing slash. */
  readonly baseUrl: string;
  /** Path part of the base URL without trailing slash (`''` for a bare origin): what a request's signed path starts with. */
  readonly basePath: string;
  /**
   * Sends `method path` (path relative to the base URL, query included) and reads the whole
   * answer. Never throws for an HTTP status.
   * @throws TransportError when no answer came (code: the client's `unreachable`).
   */
  send(method: Dispatcher.HttpMethod, path: string, opts?: SendOptions): Promise<HttpAnswer>;
  /**
   * Sends and checks: a 2xx answer parsed with `schema`.
   * @throws HttpError for an answer ≥ 400 (its code from the error body); ClavitorError CV-6050
   *   for another status or a body of another shape; TransportError when no answer came.
   */
  call<S extends z.ZodType>(method: Dispatcher.HttpMethod, path: string, schema: S, opts?: SendOptions): Promise<z.infer<S>>;
  /** Closes the client's own connections (not a dispatcher passed in). */
  close(): Promise<void>;
}

/**
 * Builds a client. Nothing is connected until the first request.
 * @throws TypeError for a base URL that is not absolute.
 */
export function createHttpClient(opts: HttpClientOptions): HttpClient {
  const baseUrl = opts.baseUrl.replace(/\/+$/, '');
  const basePath = new URL(baseUrl).pathname.replace(/\/+$/, '');
  const timeout = opts.timeoutMs ?? DEFAULT_HTTP_TIMEOUT_MS;
  const own = opts.dispatcher ? undefined : new Agent({
    connectTimeout: timeout > 0 ? timeout : DEFAULT_HTTP_TIMEOUT_MS,
    headersTimeout: timeout,
    bodyTimeout: timeout,
    ...(opts.keepAliveTimeoutMs !== undefined ? { keepAliveTimeout: opts.keepAliveTimeoutMs } : {}),
    connect: { ...connectOptions(opts.tls), ...(opts.servername !== undefined ? { servername: opts.servername } : {}) },
  });
  const dispatcher: Dispatcher = opts.dispatcher ?? own!;
  const unreachable = opts.unreachable ?? Errors.HTTP_UNREACHABLE;
  const fixed: Record<string, string> = { ...(opts.headers ?? {}), ...(opts.token !== undefined ? { authorization: `Bearer ${opts.token}` } : {}) };

  async function send(method: Dispatcher.HttpMethod, path: string, o: SendOptions = {}): Promise<HttpAnswer> {
    const body = o.json !== undefined ? JSON.stringify(o.json) : o.body;
    const headers: Record<string, string> = { ...fixed, ...(o.json !== undefined ? { 'content-type': 'application/json' } : {}), ...(o.headers ?? {}) };
    try {
      const res = await request(`${baseUrl}${path}`, {
        method,
        headers,
        dispatcher: o.dispatcher ?? dispatcher,
        ...(body !== undefined ? { body } : {}),
        ...(o.timeoutMs !== undefined ? { headersTimeout: o.timeoutMs, bodyTimeout: o.timeoutMs } : {}),
        ...(o.totalTimeoutMs !== undefined ? { signal: AbortSignal.timeout(o.totalTimeoutMs) } : {}),
        ...(o.idempotent !== undefined ? { idempotent: o.idempotent } : {}),
        ...(o.blocking !== undefined ? { blocking: o.blocking } : {}),
      });
      const text = await res.body.text();
      return { status: res.statusCode, headers: res.headers, text, json: jsonOf(text) };
    } catch (e) {
      throw new TransportError(unreachable, `${baseUrl}: ${describeTransportError(e, opts.caFlag)}`, e);
    }
  }

  return {
    baseUrl,
    basePath,
    send,
    async call(method, path, schema, o) {
      const answer = await send(method, path, o);
      if (answer.status >= 400) throw new HttpError(answer, `HTTP ${answer.status} from ${baseUrl}`);
      if (answer.status < 200 || answer.status > 299) throw new ClavitorError(Errors.HTTP_ANSWER_INVALID, `${baseUrl}${path}: answered HTTP ${answer.status}`);
      return parseAnswer(schema, answer, `${baseUrl}${path}`);
    },
    async close() {
      await own?.close().catch(() => {});
    },
  };
}
