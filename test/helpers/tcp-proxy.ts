/**
 * A TCP fault proxy for end-to-end tests: forwards 127.0.0.1:<port> to a target and can cut every
 * connection, refuse new ones, black-hole traffic (accept, never answer; case F8), or delay it
 * (`delay`: every chunk of a connection accepted in that mode is passed on `delayMs` late, in order),
 * or lose every answer (`drop-replies`: requests reach the target, its replies are discarded — a
 * push applied by the backup whose acknowledgement never arrives).
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

/** Proxy modes. */
export type ProxyMode = 'forward' | 'refuse' | 'blackhole' | 'delay' | 'drop-replies';

/** A running proxy. */
export interface TcpProxy {
  readonly port: number;
  /** Switches mode; every mode but `forward` also cuts live connections. `delayMs` (default 500) is for `delay`. */
  setMode(mode: ProxyMode, delayMs?: number): void;
  /** Destroys every live connection (both sides). */
  cutAll(): void;
  close(): Promise<void>;
}

/** Starts a proxy to `targetPort` on 127.0.0.1. */
export async function startProxy(targetPort: number, listenPort = 0): Promise<TcpProxy> {
  let mode: ProxyMode = 'forward';
  let delay = 500;
  const live = new Set<Socket>();
  const server: Server = createServer((client) => {
    live.add(client);
    client.on('close', () => live.delete(client));
    client.on('error', () => {});
    if (mode === 'refuse') {
      client.destroy();
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
    setMode(m, delayMs) {
      mode = m;
      if (delayMs !== undefined) delay = delayMs;
      if (m !== 'forward') cutAll();
    },
    cutAll,
    close: () => new Promise((r) => { cutAll(); server.close(() => r()); }),
  };
}
