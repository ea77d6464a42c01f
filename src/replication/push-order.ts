/**
 * Arrival order for pushes pipelined on one connection (issue 12 item 4). The sender keeps a window
 * of pushes in flight on ONE keep-alive connection (sender.ts, peer-client.ts) and relies on the
 * backup applying them in the order they were sent; Node's HTTP server starts the handlers of
 * pipelined requests concurrently, so without this the order of `applyPush` calls would depend on
 * how the event loop interleaves body parsing under load. An out-of-order push is refused (a gap
 * or a replay) and resent, never misapplied, but each one costs the whole window a resend.
 *
 * Each connection has its own chain: a request takes its place when it arrives (an `onRequest`
 * hook, before any asynchronous step) and waits, just before applying, until every earlier request
 * of the same connection has finished (answered, refused or aborted). A new connection starts a
 * new chain, so a request that never finishes can stall only its own connection — which the
 * sender abandons on its progress timeout.
 */

/** One request's place in its connection's chain. */
export interface PushTurn {
  /** Resolves when every earlier request of the same connection has finished. */
  readonly ready: Promise<void>;
  /** Marks this request finished (idempotent); the next request of the connection may apply. */
  finish(): void;
}

/** Per-connection FIFO of pushes; see the module comment. */
export type PushOrder = ReturnType<typeof createPushOrder>;

/** Creates an empty set of chains, keyed by connection object (weakly: closed sockets are dropped). */
export function createPushOrder() {
  const tails = new WeakMap<object, Promise<void>>();
  return {
    /** Takes the next place in `connection`'s chain. Call in arrival order. */
    enter(connection: object): PushTurn {
      const ready = tails.get(connection) ?? Promise.resolve();
      let finish!: () => void;
      const finished = new Promise<void>((resolve) => { finish = resolve; });
      tails.set(connection, finished);
      return { ready, finish };
    },
  };
}
