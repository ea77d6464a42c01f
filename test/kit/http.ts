/**
 * The test kit's one JSON-over-HTTP helper (issue 16 item 4): request headers and body built once
 * (`jsonRequest`), answers parsed once (`parseBody`), and `api()`, the call every test, script and
 * benchmark driver uses against a Clavitor API. `slowWrite` sends a write in two parts.
 */
import { request as httpRequest } from 'node:http';
import { fetch as undiciFetch, type Dispatcher } from 'undici';

/** Response of `api()`. */
export interface ApiResponse {
  status: number;
  headers: Headers;
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** `performance.now()` (milliseconds) when the status line and headers arrived. */
  atMs: number;
}

/** What a JSON request carries: an optional bearer token, a body, extra headers. */
export interface JsonRequestOptions {
  token?: string;
  /** JSON-encoded unless it is a string (sent as it is). */
  body?: unknown;
  headers?: Record<string, string>;
}

/**
 * Headers and body text of a request: `authorization: Bearer <token>` when a token is given, and a
 * body with `content-type: application/json` unless `headers` set another content type.
 */
export function jsonRequest(opts: JsonRequestOptions): { headers: Record<string, string>; body: string | undefined } {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body: string | undefined;
  if (opts.body !== undefined) {
    body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
    headers['content-type'] ??= 'application/json';
  }
  return { headers, body };
}

/** A response body as JSON: null when empty, the text itself when it is not JSON. */
export function parseBody(text: string): unknown {
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return text;
  }
}

/**
 * Calls a Clavitor HTTP API and resolves for every HTTP status; rejects on a network failure or
 * when `signal` aborts. `dispatcher` (undici) carries TLS options such as a test CA.
 */
export async function api(base: string, method: string, path: string, opts: JsonRequestOptions & { dispatcher?: Dispatcher; signal?: AbortSignal } = {}): Promise<ApiResponse> {
  const { headers, body } = jsonRequest(opts);
  const init = { method, headers, ...(body !== undefined ? { body } : {}), ...(opts.signal ? { signal: opts.signal } : {}) };
  const res = opts.dispatcher ? await undiciFetch(`${base}${path}`, { ...init, dispatcher: opts.dispatcher }) : await fetch(`${base}${path}`, init);
  const atMs = performance.now();
  return { status: res.status, headers: res.headers as Headers, json: parseBody(await res.text()), atMs };
}

/**
 * Starts a client write whose body arrives in two parts: the request line, headers and the first
 * half of the body are sent at once (so the server has admitted the request), the rest only when
 * `finish()` is called. Models a slow client whose write straddles a drain, demotion or fencing.
 */
export function slowWrite(base: string, method: string, path: string, opts: { token?: string; body: unknown; headers?: Record<string, string> }): { finish(): Promise<ApiResponse> } {
  const text = JSON.stringify(opts.body);
  const half = Math.floor(text.length / 2);
  const u = new URL(path, base);
  let resolveRes!: (r: ApiResponse) => void;
  let rejectRes!: (e: Error) => void;
  const res = new Promise<ApiResponse>((r, j) => { resolveRes = r; rejectRes = j; });
  const req = httpRequest({ host: u.hostname, port: u.port, path: u.pathname, method, agent: false, headers: { ...(opts.headers ?? {}), 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}) } }, (r) => {
    let data = '';
    r.setEncoding('utf8');
    r.on('data', (d) => (data += d));
    r.on('end', () => {
      const headers = new Headers();
      for (const [k, v] of Object.entries(r.headers)) if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
      resolveRes({ status: r.statusCode ?? 0, headers, json: parseBody(data), atMs: performance.now() });
    });
  });
  req.on('error', (e) => rejectRes(e));
  req.flushHeaders();
  req.write(text.slice(0, half));
  return {
    finish() {
      req.end(text.slice(half));
      return res;
    },
  };
}

