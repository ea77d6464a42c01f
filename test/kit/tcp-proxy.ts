/**
 * A TCP fault proxy for end-to-end tests: forwards 127.0.0.1:<port> to a target and can cut every
 * connection, refuse new ones, black-hole traffic (accept, never answer; case F8), or delay it
 * (`delay`: every chunk of a connection accepted in that mode is passed on `delayMs` late, in order),
 * or lose every answer (`drop-replies`: requests reach the target, its replies are discarded — a
 * push applied by the backup whose acknowledgement never arrives), or limit bandwidth (`throttle`:
 * a token bucket of `bytesPerSecond` each way, 20 ms of burst; the source is paused while more
 * than 64 KiB waits, so backpressure reaches the sender as on a slow link), or answer every HTTP
 * request itself with `503` and `Retry-After` (`unavailable`: as an overloaded backup or a load
 * balancer in front of it would; the connection is closed after the answer).
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

/** Bytes a throttled direction holds before pausing its source. */
const THROTTLE_HIGH_WATER = 64 * 1024;

/** Forwards `from` to `to` at most `rate` bytes per second (token bucket), calling `count` with what it passed. */
function throttle(from: Socket, to: Socket, rate: number, count: (n: number) => void): void {
  const queue: Buffer[] = [];
  let queued = 0;
  let tokens = 0;
  let last = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const burst = rate * 0.02;
  const pump = (): void => {
    timer = undefined;
    const now = performance.now();
    tokens = Math.min(burst, tokens + ((now - last) / 1000) * rate);
    last = now;
    while (queue.length > 0 && tokens >= 1 && !to.destroyed) {
      const head = queue[0]!;
      const n = Math.min(head.length, Math.floor(tokens));
      to.write(head.subarray(0, n));
      count(n);
      tokens -= n;
      queued -= n;
      if (n === head.length) queue.shift();
      else queue[0] = head.subarray(n);
    }
    if (queued < THROTTLE_HIGH_WATER && from.isPaused()) from.resume();
    if (queue.length > 0 && !to.destroyed) timer = setTimeout(pump, 5);
  };
  from.on('data', (d: Buffer) => {
    queue.push(d);
    queued += d.length;
    if (queued >= THROTTLE_HIGH_WATER) from.pause();
    if (!timer) pump();
  });
  from.on('close', () => {
    if (timer) clearTimeout(timer);
  });
}

/** Proxy modes. */
export type ProxyMode = 'forward' | 'refuse' | 'blackhole' | 'delay' | 'drop-replies' | 'throttle' | 'unavailable';

/** A running proxy. */
export interface TcpProxy {
  readonly port: number;
  /**
   * Switches mode; every mode but `forward` also cuts live connections. `param` is the delay in ms
   * for `delay` (default 500) and the rate in bytes per second, each way, for `throttle` (default
   * 500,000: 4 Mbit/s), the `Retry-After` seconds for `unavailable` (default 3).
   */
  setMode(mode: ProxyMode, param?: number): void;
  /** Bytes passed client → target and target → client since start. */
  bytes(): { up: number; down: number };
  /** Requests answered 503 in `unavailable` mode since start. */
  unavailableAnswers(): number;
  /** Destroys every live connection (both sides). */
  cutAll(): void;
  close(): Promise<void>;
}

/** Starts a proxy to `targetPort` on 127.0.0.1. */
export async function startProxy(targetPort: number, listenPort = 0): Promise<TcpProxy> {
  let mode: ProxyMode = 'forward';
  let delay = 500;
  let rate = 500_000;
  let retryAfterS = 3;
  let answered503 = 0;
  const moved = { up: 0, down: 0 };
  const live = new Set<Socket>();
  const server: Server = createServer((client) => {
    live.add(client);
    client.on('close', () => live.delete(client));
    client.on('error', () => {});
    if (mode === 'refuse') {
      client.destroy();
      return;
    }
    if (mode === 'unavailable') {
      // Reads one whole request (headers and Content-Length body), then answers 503 and closes.
      let buf = Buffer.alloc(0);
      const seconds = retryAfterS;
      client.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const len = Number(/\r\ncontent-length:\s*(\d+)/i.exec(buf.subarray(0, end).toString('latin1'))?.[1] ?? 0);
        if (buf.length < end + 4 + len || client.writableEnded) return;
        answered503++;
        const body = JSON.stringify({ error: { code: 'CV-9999', message: 'proxy: service unavailable' } });
        client.end(`HTTP/1.1 503 Service Unavailable\r\nRetry-After: ${seconds}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
      });
      return;
    }
    if (mode === 'blackhole') {
      client.on('data', () => {});
      return;
    }
    const upstream = connect(targetPort, '127.0.0.1');
    live.add(upstream);
    upstream.on('close', () => { live.delete(upstream); client.destroy(); });
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    if (mode === 'delay') {
      const ms = delay;
      const later = (to: Socket) => (d: Buffer) => void setTimeout(() => { if (!to.destroyed) to.write(d); }, ms);
      client.on('data', later(upstream));
      upstream.on('data', later(client));
      return;
    }
    if (mode === 'throttle') {
      throttle(client, upstream, rate, (n) => { moved.up += n; });
      throttle(upstream, client, rate, (n) => { moved.down += n; });
      return;
    }
    if (mode === 'drop-replies') {
      client.pipe(upstream);
      upstream.on('data', () => {});
      return;
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((r) => server.listen(listenPort, '127.0.0.1', r));
  const cutAll = () => {
    for (const s of live) s.destroy();
    live.clear();
  };
  return {
    port: (server.address() as { port: number }).port,
    setMode(m, param) {
      mode = m;
      if (param !== undefined && m === 'delay') delay = param;
      if (param !== undefined && m === 'throttle') rate = param;
      if (param !== undefined && m === 'unavailable') retryAfterS = param;
      if (m !== 'forward') cutAll();
    },
    cutAll,
    bytes: () => ({ ...moved }),
    unavailableAnswers: () => answered503,
    close: () => new Promise((r) => { cutAll(); server.close(() => r()); }),
  };
}
