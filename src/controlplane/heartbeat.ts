/**
 * The heartbeat client of a POP (issue 5 item 1; seed `control_plane` block): every
 * `heartbeat_interval` seconds it POSTs the POP's state to the control plane with the bearer token
 * from `control_plane.token_file`, bounded by `requestTimeoutMs`, and hands the answer (lease,
 * epoch, directive) to the POP. This timer is the only one an idle POP runs (DESIGN.md §4.4.1).
 * After `ALERT_AFTER_FAILURES` consecutive failures it raises an operator alert (CV-5016) once,
 * and logs recovery when the control plane answers again.
 */
import type { Logger } from 'pino';
import { HEARTBEAT_PATH, HeartbeatResponse, requestTimeoutMs, type HeartbeatRequest } from './protocol.js';
import { Errors } from '../lib/errors.js';
import { monotonicMs } from '../lib/clock.js';
import type { ClientTls } from '../lib/client-tls.js';
import { createHttpClient, HttpError, TransportError, type HttpClient } from '../lib/http-client.js';

/** Consecutive failed heartbeats before an operator alert. */
export const ALERT_AFTER_FAILURES = 3;

/** Settings and callbacks of the heartbeat client. */
export interface HeartbeatDeps {
  readonly logger: Logger;
  /**
   * Current control-plane URL, token, interval and TLS material (read at each beat so SIGHUP
   * applies). `tls`: `control_plane.ca_file` as `ca`, the POP's `auth.mtls_cert`/`mtls_key`
   * presented if the control plane asks (issue 11 item 4); a new object means new connections.
   */
  settings(): { url: string; token: string; intervalMs: number; tls?: ClientTls | undefined } | undefined;
  /** The state to report. */
  report(): HeartbeatRequest;
  /**
   * Called with a valid answer and when the request was sent, in milliseconds on `now()`'s clock.
   * The lease runs from that instant for `lease_ttl_ms` (src/controlplane/protocol.ts).
   */
  onAnswer(answer: HeartbeatResponse, sentAtMs: number): void;
  /** Called after each failed beat with the number of consecutive failures. */
  onFailure?(consecutive: number, error: string): void;
  /**
   * Clock for the send time, in milliseconds: monotonic (default `monotonicMs`, src/lib/clock.ts),
   * never the wall clock, so that a wall-clock step cannot lengthen or shorten a lease (F12).
   */
  now?(): number;
}

/** The heartbeat client; see `createHeartbeat`. */
export type Heartbeat = ReturnType<typeof createHeartbeat>;

/** Builds a stopped heartbeat client; `start()` sends the first beat at once. */
export function createHeartbeat(deps: HeartbeatDeps) {
  let timer: NodeJS.Timeout | undefined;
  let stopped = true;
  let failures = 0;
  let alerted = false;
  let client: { http: HttpClient; url: string; tls: ClientTls | undefined; timeoutMs: number } | undefined;
  /**
   * The client (src/lib/http-client.ts) for `url`, `tls` and the request timeout, replacing (and
   * closing) the previous one when one of them changed (SIGHUP): a new object means new connections.
   */
  function clientFor(url: string, tls: ClientTls | undefined, timeoutMs: number): HttpClient {
    if (!client || client.url !== url || client.tls !== tls || client.timeoutMs !== timeoutMs) {
      void client?.http.close();
      client = { http: createHttpClient({ baseUrl: url, tls, timeoutMs, keepAliveTimeoutMs: 60_000, unreachable: Errors.CONTROL_PLANE_UNREACHABLE }), url, tls, timeoutMs };
    }
    return client.http;
  }

  async function beat(): Promise<void> {
    const s = deps.settings();
    if (!s || stopped) return;
    const sentAt = (deps.now ?? monotonicMs)();
    let error: string | undefined;
    try {
      const timeoutMs = requestTimeoutMs(s.intervalMs);
      const a = await clientFor(s.url, s.tls, timeoutMs).send('POST', HEARTBEAT_PATH, { json: deps.report(), headers: { authorization: `Bearer ${s.token}` }, totalTimeoutMs: timeoutMs });
      if (a.status !== 200) {
        const e = new HttpError(a, '');
        error = `HTTP ${a.status}${e.coded ? ` ${e.code}: ${e.message}` : ''}`;
      } else {
        const parsed = HeartbeatResponse.safeParse(a.json);
        if (!parsed.success) error = 'malformed answer';
        else if (!stopped) {
          if (alerted) deps.logger.warn({ event: 'controlplane.reachable' }, 'control plane answers again');
          failures = 0;
          alerted = false;
          deps.onAnswer(parsed.data, sentAt);
        }
      }
    } catch (e) {
      error = e instanceof TransportError ? e.reason : (e as Error).message;
    }
    if (error !== undefined && !stopped) {
      failures++;
      deps.onFailure?.(failures, error);
      if (failures >= ALERT_AFTER_FAILURES && !alerted) {
        alerted = true;
        deps.logger.error({ event: 'controlplane.unreachable', code: Errors.CONTROL_PLANE_UNREACHABLE.code, failures, error },
          `${Errors.CONTROL_PLANE_UNREACHABLE.code}: control plane unreachable for ${failures} heartbeats (${error})`);
      } else {
        deps.logger.warn({ event: 'controlplane.heartbeat_failed', failures, error }, 'heartbeat failed');
      }
    }
  }

  let closed = false;
  function schedule(): void {
    const s = deps.settings();
    if (!s) stopped = true; // no control plane any more (SIGHUP); start() resumes
    if (stopped || !s) return;
    timer = setTimeout(() => {
      void beat().finally(schedule);
    }, s.intervalMs);
  }

  return {
    /** Starts beating: one beat now, then every interval. */
    start(): void {
      if (!stopped || closed) return;
      stopped = false;
      void beat().finally(schedule);
    },
    /** Sends one beat now (after a role change), without disturbing the schedule. */
    beatNow(): void {
      if (!stopped) void beat();
    },
    /** Consecutive failures so far. */
    failures: (): number => failures,
    /** Stops for good: clears the timer and closes connections. */
    async stop(): Promise<void> {
      stopped = true;
      closed = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      await client?.http.close();
    },
  };
}
