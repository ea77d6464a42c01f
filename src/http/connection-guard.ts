/**
 * Caps on concurrent connections, per source address and in total (issue 13 §2 "Resource
 * exhaustion"), so that a flood of slow or idle connections cannot take every file descriptor and
 * starve `/healthz`, the owner's reads or the replication peer's pushes.
 *
 * The rule (docs/security.md "Connection limits"), applied when a TCP connection is accepted:
 *
 * | situation | what happens |
 * | --- | --- |
 * | the source already holds `maxPerSource` ordinary connections | the new one is kept; the **oldest ordinary connection of that same source** is closed |
 * | `maxTotal` connections are open | the new one is kept; the oldest ordinary connection of the **source holding the most** ordinary connections is closed |
 * | `maxTotal` open and all of them are peer connections | the new one is closed at once |
 *
 * A *peer connection* is one on which a request presented a valid replication token (the edition
 * says so, `markPeer`): it is never closed by these caps and does not count against its source's
 * cap. Sources in `trusted_proxies` carry many clients and are exempt from the per-source cap
 * (the total cap still applies). So a flooding address only ever evicts its own connections, and a
 * newcomer from a quiet address (a health probe, the owner, the peer reconnecting) always gets in.
 */
import type { Socket } from 'node:net';
import { plainAddress, type AddressMatcher } from '../lib/cidr.js';

/** Connection caps (counts of open TCP connections). */
export interface ConnectionLimits {
  /** Open connections in total, peer connections included. */
  readonly maxConnections: number;
  /** Open ordinary (non-peer) connections from one source address. */
  readonly maxConnectionsPerSource: number;
}

/** Why a connection was closed by the guard. */
export type ShedReason = 'per_source' | 'total' | 'refused';

interface Conn {
  readonly socket: Socket;
  readonly source: string;
  peer: boolean;
  closed: boolean;
}

/** The guard; see `createConnectionGuard`. */
export type ConnectionGuard = ReturnType<typeof createConnectionGuard>;

/**
 * Builds a guard. `exempt` matches sources free of the per-source cap (trusted proxies; read at
 * each accept so that a reload applies). `onShed` is called for every connection closed, with the
 * reason and the evicted connection's source address.
 */
export function createConnectionGuard(o: { limits: ConnectionLimits; exempt: () => AddressMatcher; onShed?: (reason: ShedReason, source: string) => void }) {
  // Per source: its open connections in accept order, and how many are ordinary (not the peer's).
  const bySource = new Map<string, { conns: Set<Conn>; ordinary: number }>();
  const byKey = new Map<string, Conn>();
  let total = 0;
  const keyOf = (address: string | undefined, port: number | undefined) => `${plainAddress(address ?? '')}|${port ?? 0}`;
  const forget = (c: Conn): void => {
    if (c.closed) return;
    c.closed = true;
    total--;
    byKey.delete(keyOf(c.socket.remoteAddress, c.socket.remotePort));
    const src = bySource.get(c.source);
    if (!src) return;
    src.conns.delete(c);
    if (!c.peer) src.ordinary--;
    if (src.conns.size === 0) bySource.delete(c.source);
  };
  const evictOldestOf = (src: { conns: Set<Conn> } | undefined, reason: ShedReason): boolean => {
    for (const c of src?.conns ?? []) {
      if (c.peer) continue;
      forget(c);
      c.socket.destroy();
      o.onShed?.(reason, c.source);
      return true;
    }
    return false;
  };
  return {
    /** Accepts (and maybe evicts for) a newly connected socket; call from the server's `connection` event. */
    admit(socket: Socket): void {
      const source = plainAddress(socket.remoteAddress ?? '');
      let src = bySource.get(source);
      if (src && src.ordinary >= o.limits.maxConnectionsPerSource && !o.exempt().matches(source)) evictOldestOf(src, 'per_source');
      if (total >= o.limits.maxConnections) {
        let heaviest: { conns: Set<Conn> } | undefined;
        let most = 0;
        for (const s of bySource.values()) if (s.ordinary > most) [heaviest, most] = [s, s.ordinary];
        if (!evictOldestOf(heaviest, 'total')) {
          socket.destroy();
          o.onShed?.('refused', source);
          return;
        }
      }
      src = bySource.get(source);
      if (!src) bySource.set(source, (src = { conns: new Set(), ordinary: 0 }));
      const c: Conn = { socket, source, peer: false, closed: false };
      src.conns.add(c);
      src.ordinary++;
      byKey.set(keyOf(socket.remoteAddress, socket.remotePort), c);
      total++;
      socket.once('close', () => forget(c));
    },
    /**
     * Marks the connection `socket` arrived on (the TCP socket, or the TLS socket over it: matched
     * by remote address and port) as the replication peer's: never evicted from now on.
     */
    markPeer(socket: Socket): void {
      const c = byKey.get(keyOf(socket.remoteAddress, socket.remotePort));
      if (!c || c.peer || c.closed) return;
      c.peer = true;
      const src = bySource.get(c.source);
      if (src) src.ordinary--;
    },
    /** The accepted TCP socket under `socket` (itself, or the one under a TLS socket), if tracked. */
    rawSocketOf(socket: Socket): Socket | undefined {
      return byKey.get(keyOf(socket.remoteAddress, socket.remotePort))?.socket;
    },
    /** Open connections now: in total, and the sources holding any. */
    stats(): { total: number; sources: number } {
      return { total, sources: bySource.size };
    },
  };
}
