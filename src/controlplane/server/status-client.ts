/**
 * The client side of `clavitor-control status`: GET /v1/status with the bearer token, bounded by
 * {@link STATUS_TIMEOUT_MS}, checked against the status schema. Sent with the product's client
 * kit (src/lib/http-client.ts, issue 16 item 2), which parses the error body. Never throws: every
 * failure comes back as a CV code and a line for the operator (the token is never part of it). A
 * private CA and a client certificate come in as `tls` (issue 11 item 4).
 */
import { describeTransportError, type ClientTls } from '../../lib/client-tls.js';
import { Errors } from '../../lib/errors.js';
import { createHttpClient, HttpError, TransportError, type HttpAnswer } from '../../lib/http-client.js';
import { CP_STATUS_PATH } from '../protocol.js';
import { ControlStatus } from './status.js';

/** Time allowed for the status request, in milliseconds (the whole request). */
export const STATUS_TIMEOUT_MS = 10_000;

/** A fetched status, or why there is none. */
export type StatusResult = { ok: true; status: ControlStatus } | { ok: false; code: string; message: string };

/**
 * Fetches and checks `GET <baseUrl>/v1/status`. `tls`: `--ca-file` / `--cert` / `--key`
 * (lib/client-tls.ts `loadClientTls`; the system roots when undefined).
 */
export async function fetchControlStatus(baseUrl: string, token: string, tls?: ClientTls): Promise<StatusResult> {
  const http = createHttpClient({ baseUrl, token, tls, timeoutMs: STATUS_TIMEOUT_MS, unreachable: Errors.CP_UNREACHABLE });
  const url = `${http.baseUrl}${CP_STATUS_PATH}`;
  const unreachable = (why: string): StatusResult => ({ ok: false, code: Errors.CP_UNREACHABLE.code, message: `${url}: ${why}` });
  let answer: HttpAnswer;
  try {
    answer = await http.send('GET', CP_STATUS_PATH, { totalTimeoutMs: STATUS_TIMEOUT_MS });
  } catch (e) {
    if (!(e instanceof TransportError)) throw e;
    return unreachable(e.tlsVerify ? `TLS: ${describeTransportError(e.cause)}` : `cannot be reached (${e.reason}); is clavitor-control running there?`);
  } finally {
    await http.close();
  }
  if (answer.json === undefined) return unreachable(`answered HTTP ${answer.status} without JSON; is this a clavitor-control URL?`);
  if (answer.status < 200 || answer.status > 299) {
    const err = new HttpError(answer, `HTTP ${answer.status}`);
    return err.coded ? { ok: false, code: err.code, message: `${url}: ${err.message}` } : unreachable(`answered HTTP ${answer.status}`);
  }
  const parsed = ControlStatus.safeParse(answer.json);
  if (!parsed.success) return unreachable('answered with a status this version does not understand');
  return { ok: true, status: parsed.data };
}
