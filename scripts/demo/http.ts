/**
 * HTTP for the demo: the test kit's JSON call with every request bounded by a timeout, and a
 * poller that measures how long a condition took to become true.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { api, type ApiResponse, type JsonRequestOptions } from '../../test/kit/http.js';

/** Milliseconds any single request may take before the demo gives up on it. */
export const REQUEST_TIMEOUT_MS = 5000;

/** A response: status, headers, parsed JSON body (or raw text), and when the headers arrived (`atMs`, `performance.now()` ms). */
export type Reply = ApiResponse;

/** Options of `call`. */
export type CallOptions = JsonRequestOptions;

/**
 * Sends `method path` to `base` (e.g. `http://127.0.0.1:4000`) with an optional bearer token and
 * JSON body (the test kit's `api`). Resolves for every HTTP status; rejects only on network
 * failure or after `REQUEST_TIMEOUT_MS` milliseconds.
 */
export async function call(base: string, method: string, path: string, opts: CallOptions = {}): Promise<Reply> {
  try {
    return await api(base, method, path, { ...opts, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause?.code ?? (e as Error).name;
    throw new Error(`${method} ${base}${path} failed: ${cause}`);
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
  const err = r.json?.error;
  return err ? `HTTP ${r.status} ${err.code}: ${err.message}` : `HTTP ${r.status}`;
}
