/**
 * A TCP fault proxy for end-to-end tests: forwards 127.0.0.1:<port> to a target and can cut every
 * connection, refuse new ones, or black-hole traffic (accept, never answer; case F8).
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

/** Proxy modes. */
export type ProxyMode = 'forward' | 'refuse' | 'blackhole';

/** A running proxy. */
export interface TcpProxy {
  readonly port: number;
  /** Switches mode; `refuse` and `blackhole` also cut live connections. */
  setMode(mode: ProxyMode): void;
  /** Destroys every live connection (both sides). */
  cutAll(): void;
  close(): Promise<void>;
}

/** Starts a proxy to `targetPort` on 127.0.0.1. */
export async function startProxy(targetPort: number, listenPort = 0): Promise<TcpProxy> {
  let mode: ProxyMode = 'forward';
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
    setMode(m) {
      mode = m;
      if (m !== 'forward') cutAll();
    },
    cutAll,
    close: () => new Promise((r) => { cutAll(); server.close(() => r()); }),
  };
}
