/**
 * The workload's HTTP client: one call, bounded by a timeout, classified the way the checkers need
 * it. A response is a definite answer; a connection that was refused never reached the server
 * (nothing can have been written); a timeout, a reset or a connection closed mid-request leaves
 * the outcome unknown.
 */
import { Agent, request } from 'undici';
import { jsonRequest, parseBody } from '../../test/kit/http.js';

/** A response, or a transport error with whether the request could have reached the server. */
export type CallResult =
  | { kind: 'response'; status: number; headers: Record<string, string | string[] | undefined>; json: any } // eslint-disable-line @typescript-eslint/no-explicit-any
  | { kind: 'error'; error: string; reachedServer: boolean };

/** Transport errors that prove the request never reached the server. */
const NEVER_SENT = new Set(['ECONNREFUSED', 'EADDRNOTAVAIL']);

/** A client with its own connection pool and per-request timeout. */
export function createHttp(timeoutMs: number) {
  const dispatcher = new Agent({ connectTimeout: Math.min(timeoutMs, 5000), headersTimeout: timeoutMs, bodyTimeout: timeoutMs, keepAliveTimeout: 2000 });
  return {
    async call(base: string, method: string, path: string, opts: { token: string; body?: unknown; headers?: Record<string, string> }): Promise<CallResult> {
      const { headers, body } = jsonRequest(opts);
      try {
        const res = await request(`${base}${path}`, { method: method as 'POST', headers, dispatcher, ...(body !== undefined ? { body } : {}) });
        return { kind: 'response', status: res.statusCode, headers: res.headers, json: parseBody(await res.body.text()) };
      } catch (e) {
        const err = e as { code?: string; message?: string; cause?: { code?: string } };
        const code = err.code ?? err.cause?.code ?? err.message ?? 'request failed';
        return { kind: 'error', error: code, reachedServer: !NEVER_SENT.has(code) };
      }
    },
    close: (): Promise<void> => dispatcher.close(),
  };
}
