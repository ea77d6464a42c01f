/**
 * HTTP for the demo: one JSON call helper on the product's client kit (src/lib/http-client.ts;
 * every request bounded by a timeout, error bodies parsed there) and a poller that measures how
 * long a condition took to become true.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { createHttpClient, HttpError, TransportError } from '../../src/lib/http-client.js';

/** Milliseconds any single request may take before the demo gives up on it. */
export const REQUEST_TIMEOUT_MS = 5000;

/** A response: status, headers, parsed JSON body, the parsed error of an error answer, and when it arrived. */
export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
  /** For a status of 400 or more: the server's error (its CV code, message, Retry-After, X-Primary-Location). */
  error?: HttpError;
  /** `performance.now()` (ms) when the response arrived. */
  atMs: number;
}

/** Options of `call`. */
export interface CallOptions {
  token?: string;
  body?: unknown;
  headers?: Record<string, string>;
}

/**
 * Sends `method path` to `base` (e.g. `http://127.0.0.1:4000`) with an optional bearer token and
 * JSON body (the product's client kit). Resolves for every HTTP status; rejects only on network
 * failure or after `REQUEST_TIMEOUT_MS` milliseconds.
 */
export async function call(base: string, method: string, path: string, opts: CallOptions = {}): Promise<Reply> {
  const http = createHttpClient({ baseUrl: base, token: opts.token, timeoutMs: REQUEST_TIMEOUT_MS });
  try {
    const a = await http.send(method as 'GET', path, { ...(opts.body !== undefined ? { json: opts.body } : {}), ...(opts.headers ? { headers: opts.headers } : {}), totalTimeoutMs: REQUEST_TIMEOUT_MS });
    const atMs = performance.now();
    return { status: a.status, headers: a.headers, json: a.json ?? null, ...(a.status >= 400 ? { error: new HttpError(a, `HTTP ${a.status}`) } : {}), atMs };
  } catch (e) {
    throw new Error(`${method} ${base}${path} failed: ${e instanceof TransportError ? e.reason : (e as Error).message}`);
  } finally {
    await http.close();
  }
}

/** Result of `pollUntil`: the accepted reply, how many requests it took, and the elapsed time. */
export interface PollResult {
  reply: Reply;
  polls: number;
  /** Milliseconds from `sinceMs` to the arrival of the accepted reply. */
  elapsedMs: number;
}

/**
 * Repeats `request` every `intervalMs` milliseconds until `accept(reply)` is true, and returns
 * that reply with the time elapsed since `sinceMs` (a `performance.now()` value). `pending(reply)`
 * says which other replies mean "not yet" (anything else fails at once). Throws after `timeoutMs`
 * milliseconds, naming `what`.
 */
export async function pollUntil(
  what: string,
  request: () => Promise<Reply>,
  accept: (r: Reply) => boolean,
  pending: (r: Reply) => boolean,
  sinceMs: number,
  timeoutMs = 10_000,
  intervalMs = 5,
): Promise<PollResult> {
  let polls = 0;
  let last: Reply | undefined;
  for (;;) {
    const reply = await request();
    polls++;
    if (accept(reply)) return { reply, polls, elapsedMs: reply.atMs - sinceMs };
    if (!pending(reply)) throw new Error(`${what}: unexpected ${describeReply(reply)}`);
    last = reply;
    if (performance.now() - sinceMs > timeoutMs) {
      throw new Error(`${what}: still not there after ${timeoutMs} ms (${polls} polls, last answer ${describeReply(last)})`);
    }
    await sleep(intervalMs);
  }
}

/** One-line description of a reply for error messages: status and error code/message if any. */
export function describeReply(r: Reply): string {
  return r.error?.coded ? `HTTP ${r.status} ${r.error.code}: ${r.error.message}` : `HTTP ${r.status}`;
}
