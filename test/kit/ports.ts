/** Free loopback ports for test, demo and benchmark servers (the kit's only port finder). */
import { createServer, type Server } from 'node:net';

/**
 * Returns `count` distinct TCP ports on 127.0.0.1 that were free a moment ago. All listeners
 * are held open together so the kernel cannot hand out the same port twice.
 */
export async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < count; i++) {
      const s = createServer();
      servers.push(s);
      ports.push(await new Promise<number>((resolve, reject) => {
        s.once('error', reject);
        s.listen(0, '127.0.0.1', () => resolve((s.address() as { port: number }).port));
      }));
    }
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  }
}

/** Returns a TCP port on 127.0.0.1 that was free a moment ago. */
export async function freePort(): Promise<number> {
  return (await freePorts(1))[0]!;
}
