/**
 * The CLI's HTTP client (undici): JSON in and out, `Authorization: Bearer`, errors turned into
 * ApiError with the server's CV code and, for a refused write, its `X-Primary-Location`.
 * `--ca-file` trusts a private CA (a POP with a self-signed or internal certificate).
 */
import { request, type Dispatcher } from 'undici';
import { clientAgent, describeTransportError, loadClientTls } from '../../lib/client-tls.js';
import { cvError, Errors } from '../../lib/errors.js';
import { ApiError } from './exit-codes.js';

/** A configured client for one server and token. */
export interface Client {
  readonly server: string;
  readonly token: string;
  /**
   * Sends `method path` with an optional JSON `body` and extra headers; resolves to the parsed
   * JSON (undefined for 204). Throws ApiError for an HTTP error, CLI_UNREACHABLE for a transport failure.
   */
  call<T = unknown>(method: string, path: string, opts?: { body?: unknown; headers?: Record<string, string> }): Promise<T>;
}

/** Request timeout in milliseconds (headers and body). */
export const REQUEST_TIMEOUT_MS = 30_000;

/**
 * Builds a client. `caFile`: PEM bundle to trust for HTTPS instead of the system roots.
 * @throws ClavitorError CV-6007 (CLIENT_TLS_FILE) when `caFile` cannot be read or is not PEM.
 */
export function createClient(server: string, token: string, caFile?: string): Client {
  const dispatcher: Dispatcher | undefined = clientAgent(loadClientTls({ caFile }));
  return {
    server,
    token,
    async call<T>(method: string, path: string, opts: { body?: unknown; headers?: Record<string, string> } = {}): Promise<T> {
      const headers: Record<string, string> = { authorization: `Bearer ${token}`, ...(opts.headers ?? {}) };
      if (opts.body !== undefined) headers['content-type'] = 'application/json';
      let res: Dispatcher.ResponseData;
      try {
        res = await request(`${server}${path}`, {
          method: method as Dispatcher.HttpMethod, headers, headersTimeout: REQUEST_TIMEOUT_MS, bodyTimeout: REQUEST_TIMEOUT_MS,
          ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}), ...(dispatcher ? { dispatcher } : {}),
        });
      } catch (e) {
        throw cvError('CLI_UNREACHABLE', `${server}: ${describeTransportError(e)}`);
      }
      const text = await res.body.text();
      let json: unknown;
      try {
        json = text ? JSON.parse(text) : undefined;
      } catch {
        json = undefined;
      }
      if (res.statusCode >= 400) {
        const err = (json as { error?: { code?: string; message?: string } } | undefined)?.error;
        const loc = res.headers['x-primary-location'];
        const retry = Number(res.headers['retry-after']);
        throw new ApiError(err?.code ?? Errors.INTERNAL.code, err?.message ?? `HTTP ${res.statusCode} from ${server}`, res.statusCode, typeof loc === 'string' ? loc : undefined,
          Number.isInteger(retry) && retry >= 0 ? retry : undefined);
      }
      return json as T;
    },
  };
}
