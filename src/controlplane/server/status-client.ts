/**
 * The client side of `clavitor-control status`: GET /v1/status with the bearer token, bounded by
 * {@link STATUS_TIMEOUT_MS}, checked against the status schema. Never throws: every failure comes
 * back as a CV code and a line for the operator (the token is never part of it). A private CA
 * and a client certificate come in as an undici dispatcher (issue 11 item 4).
 */
import { fetch, type Dispatcher, type Response } from 'undici';
import { describeTransportError } from '../../lib/client-tls.js';
import { Errors } from '../../lib/errors.js';
import { CP_STATUS_PATH } from '../protocol.js';
import { ControlStatus } from './status.js';

/** Time allowed for the status request, in milliseconds. */
export const STATUS_TIMEOUT_MS = 10_000;

/** A fetched status, or why there is none. */
export type StatusResult = { ok: true; status: ControlStatus } | { ok: false; code: string; message: string };

/**
 * Fetches and checks `GET <baseUrl>/v1/status`. `dispatcher`: an undici Agent carrying
 * `--ca-file` / `--cert` / `--key` (the global dispatcher when undefined).
 */
export async function fetchControlStatus(baseUrl: string, token: string, dispatcher?: Dispatcher): Promise<StatusResult> {
  const url = `${baseUrl.replace(/\/+$/, '')}${CP_STATUS_PATH}`;
  const unreachable = (why: string): StatusResult => ({ ok: false, code: Errors.CP_UNREACHABLE.code, message: `${url}: ${why}` });
  let res: Response;
  try {
    res = await fetch(url, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(STATUS_TIMEOUT_MS), ...(dispatcher ? { dispatcher } : {}) });
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    if (/CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ERR_TLS/.test(cause?.code ?? '')) return unreachable(`TLS: ${describeTransportError(e)}`);
    return unreachable(`cannot be reached (${cause?.code ?? cause?.message ?? (e as Error).message}); is clavitor-control running there?`);
  }
  let body: unknown;
  try {
    body = await res.json();
  } catch {
    return unreachable(`answered HTTP ${res.status} without JSON; is this a clavitor-control URL?`);
  }
  if (!res.ok) {
    const err = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
    if (typeof err?.code === 'string' && typeof err.message === 'string') return { ok: false, code: err.code, message: `${url}: ${err.message}` };
    return unreachable(`answered HTTP ${res.status}`);
  }
  const parsed = ControlStatus.safeParse(body);
  if (!parsed.success) return unreachable('answered with a status this version does not understand');
  return { ok: true, status: parsed.data };
}
