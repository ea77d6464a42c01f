/**
 * The CLI's HTTP client: the product's client kit (src/lib/http-client.ts) for one server and
 * token. JSON in and out, `Authorization: Bearer`; an error answer is the kit's HttpError (the
 * server's CV code, its `Retry-After` and, for a refused write, its `X-Primary-Location`), a
 * transport failure CLI_UNREACHABLE (CV-6005). `--ca-file` trusts a private CA (a POP with a
 * self-signed or internal certificate).
 */
import type { z } from 'zod';
import { loadClientTls } from '../../lib/client-tls.js';
import { Errors } from '../../lib/errors.js';
import { createHttpClient, HttpError, parseAnswer } from '../../lib/http-client.js';
import type { Dispatcher } from 'undici';

/** Options of one call: a JSON body, extra headers, and a schema the answer must match. */
export interface CallOptions<S extends z.ZodType = z.ZodType> {
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
  /** When given, the answer is checked with it (CV-6050 HTTP_ANSWER_INVALID otherwise). */
  readonly schema?: S;
}

/** A configured client for one server and token. */
export interface Client {
  readonly server: string;
  readonly token: string;
  /**
   * Sends `method path` with an optional JSON `body` and extra headers; resolves to the parsed
   * JSON (undefined for 204), typed `T` (the server's exported type of that answer), checked
   * with `opts.schema` when given. Throws HttpError for an HTTP error, CLI_UNREACHABLE for a
   * transport failure.
   */
  call<T = unknown>(method: string, path: string, opts?: CallOptions): Promise<T>;
}

/** Request timeout in milliseconds (connect, headers and body each). */
export const REQUEST_TIMEOUT_MS = 30_000;

/**
 * Builds a client. `caFile`: PEM bundle to trust for HTTPS instead of the system roots.
 * @throws ClavitorError CV-6007 (CLIENT_TLS_FILE) when `caFile` cannot be read or is not PEM.
 */
export function createClient(server: string, token: string, caFile?: string): Client {
  const http = createHttpClient({ baseUrl: server, token, tls: loadClientTls({ caFile }), timeoutMs: REQUEST_TIMEOUT_MS, unreachable: Errors.CLI_UNREACHABLE });
  return {
    server,
    token,
    async call<T>(method: string, path: string, opts: CallOptions = {}): Promise<T> {
      const answer = await http.send(method as Dispatcher.HttpMethod, path, { ...(opts.body !== undefined ? { json: opts.body } : {}), ...(opts.headers ? { headers: opts.headers } : {}) });
      if (answer.status >= 400) throw new HttpError(answer, `HTTP ${answer.status} from ${server}`);
      return (opts.schema ? parseAnswer(opts.schema, answer, `${server}${path}`) : answer.json) as T;
    },
  };
}
