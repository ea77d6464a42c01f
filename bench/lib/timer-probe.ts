/**
 * Preload for the idle benchmark (`node --import <dist/bench/lib/timer-probe.js>`; never loaded by a
 * normal server): counts the JavaScript timers (setTimeout / setInterval) created and fired, by
 * the file that created them (`dist/src/replication/sender.js`, `node_modules/undici`, …), and
 * writes the counts to `$CLAVITOR_BENCH_TIMER_PROBE/timers-<pid>.json` on SIGUSR2.
 *
 * It cannot see timers that Node's internals hold by their own reference nor libuv timers (e.g.
 * an event-loop-delay monitor); the idle benchmark's context-switch counts include those. Timers
 * created by a Node.js built-in module through the global functions (the HTTP server's 30 s
 * connection check, `node:_http_server`) are attributed to that module.
 */
import { writeFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import timers from 'node:timers';
import { promisify } from 'node:util';

const counts = new Map<string, { created: number; fired: number }>();
const rec = (o: string) => {
  let c = counts.get(o);
  if (!c) counts.set(o, (c = { created: 0, fired: 0 }));
  return c;
};

/** The file that called setTimeout/setInterval, shortened to `dist/…` or `node_modules/<pkg>`. */
function origin(): string {
  const lines = (new Error().stack ?? '').split('\n').slice(3);
  for (const line of lines) {
    if (line.includes('timer-probe') || line.includes('node:internal')) continue;
    const m = /(\/[^\s:()]+):\d+:\d+/.exec(line);
    if (m) return m[1]!.replace(/.*\/(node_modules\/(?:@[^/]+\/)?[^/]+)\/.*/, '$1').replace(/.*\/dist\//, 'dist/');
    // A Node.js built-in module, e.g. node:_http_server (its 30 s connection check).
    const b = /\((node:[^\s:()]+):\d+:\d+\)|at (node:[^\s:()]+):\d+:\d+/.exec(line);
    if (b) return b[1] ?? b[2]!;
  }
  return 'unknown';
}

type AnyFn = (...a: unknown[]) => unknown;

function wrap(orig: AnyFn): AnyFn {
  const wrapped = function (this: unknown, cb: unknown, ...rest: unknown[]) {
    if (typeof cb !== 'function') return orig.call(this, cb, ...rest);
    const c = rec(origin());
    c.created++;
    return orig.call(this, function (this: unknown, ...a: unknown[]) {
      c.fired++;
      return (cb as AnyFn).apply(this, a);
    }, ...rest);
  };
  const custom = (orig as unknown as Record<symbol, unknown>)[promisify.custom];
  if (custom) Object.defineProperty(wrapped, promisify.custom, { value: custom });
  return wrapped;
}

const st = wrap(globalThis.setTimeout as unknown as AnyFn);
const si = wrap(globalThis.setInterval as unknown as AnyFn);
(globalThis as Record<string, unknown>).setTimeout = st;
(globalThis as Record<string, unknown>).setInterval = si;
(timers as Record<string, unknown>).setTimeout = st;
(timers as Record<string, unknown>).setInterval = si;
syncBuiltinESMExports();

const dir = process.env.CLAVITOR_BENCH_TIMER_PROBE;
if (dir) {
  process.on('SIGUSR2', () => {
    writeFileSync(`${dir}/timers-${process.pid}.json`, JSON.stringify(Object.fromEntries(counts)));
  });
}
