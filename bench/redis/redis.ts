/**
 * Redis 7 side by side (issue 7 item 5): installs Debian's `redis-server` with
 * `apt-get install -y redis-server` when it is absent, and runs a primary and a replica on
 * loopback with temporary directories. Durable settings, as the comparison requires: the primary
 * (and, for parity with our backup, which commits every push with fsync, the replica) use
 * `appendonly yes` + `appendfsync always`; RDB snapshots are off (`save ""`); everything else is
 * Redis's default except `repl-diskless-sync-delay 0` (see `start`).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { BENCH_TMP } from '../lib/pair.js';
import { freePort } from '../../test/kit/ports.js';
import { nowMs, sleep } from '../lib/stats.js';

/** `redis-server --version` output, installing the package first when the binary is absent. */
export function ensureRedisServer(): string {
  const has = () => spawnSync('sh', ['-c', 'command -v redis-server'], { stdio: 'ignore' }).status === 0;
  if (!has()) {
    process.stderr.write('redis-server is absent: apt-get install -y redis-server…\n');
    let r = spawnSync('apt-get', ['install', '-y', 'redis-server'], { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    if (r.status !== 0) {
      spawnSync('apt-get', ['update'], { stdio: 'ignore' });
      r = spawnSync('apt-get', ['install', '-y', 'redis-server'], { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    }
    if (r.status !== 0 || !has()) throw new Error('could not install redis-server with apt-get');
  }
  return spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).stdout.trim();
}

/** One redis-server process. */
export class RedisProc {
  proc: ChildProcess | undefined;
  /** Spawn and ready (answers PING) times, ms. */
  spawnedAt = 0;
  readyAt = 0;
  constructor(readonly name: string, readonly port: number, readonly dir: string) {}

  get pid(): number {
    return this.proc?.pid ?? 0;
  }

  /** Starts the server (as a replica of `replicaOf` when given) and waits until it answers PING. */
  async start(replicaOf?: number): Promise<void> {
    // repl-diskless-sync-delay 0: the default waits 5 s for more replicas before a full sync,
    // which would put a fixed timer into the catch-up figure.
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', '',
      '--repl-diskless-sync-delay', '0', '--daemonize', 'no', '--protected-mode', 'no', '--loglevel', 'warning'];
    if (replicaOf) args.push('--replicaof', '127.0.0.1', String(replicaOf));
    this.spawnedAt = nowMs();
    this.proc = spawn('redis-server', args, { stdio: 'ignore' });
    const c = this.client();
    for (;;) {
      try {
        await c.ping();
        break;
      } catch {
        await sleep(5);
      }
    }
    this.readyAt = nowMs();
    c.disconnect();
  }

  /** A new client connection to this server. */
  client(): Redis {
    const c = new Redis({ port: this.port, host: '127.0.0.1', maxRetriesPerRequest: null, retryStrategy: () => 5, enableOfflineQueue: true });
    c.on('error', () => {}); // connection refused while the server starts: retried
    return c;
  }

  /**
   * Waits until this replica reports `master_link_status:up` and has finished the AOF rewrite
   * that a replica with `appendonly yes` starts after a full synchronisation (a fork that would
   * otherwise disturb the first measurement).
   */
  async waitLinkUp(): Promise<void> {
    const c = this.client();
    try {
      for (;;) {
        const info = await c.info().catch(() => '');
        if (/master_link_status:up/.test(info) && /loading:0/.test(info) && /aof_rewrite_in_progress:0/.test(info) && /aof_rewrite_scheduled:0/.test(info)) return;
        await sleep(10);
      }
    } finally {
      c.disconnect();
    }
  }

  /** Stops the server (SIGKILL) and waits. */
  async stop(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    await new Promise<void>((r) => { p.once('exit', () => r()); p.kill('SIGKILL'); });
  }
}

/** A primary and a replica (not started) in a temp directory; `cleanup()` stops both and removes it. */
export async function redisPair(): Promise<{ primary: RedisProc; replica: RedisProc; cleanup(): Promise<void> }> {
  const dir = mkdtempSync(join(BENCH_TMP, 'clavitor-bench-redis-'));
  const mk = async (name: string) => {
    const d = join(dir, name);
    spawnSync('mkdir', ['-p', d]);
    return new RedisProc(name, await freePort(), d);
  };
  const primary = await mk('primary');
  const replica = await mk('replica');
  return { primary, replica, async cleanup() { await primary.stop(); await replica.stop(); rmSync(dir, { recursive: true, force: true }); } };
}

/** One 1 KiB value (the same payload size as the Clavitor entries' field). */
export const REDIS_VALUE = 'x'.repeat(1024);

/** Sets `n` fresh 1 KiB keys `prefix:i` with up to `inFlight` commands pipelined on one connection. */
export async function redisFill(c: Redis, prefix: string, n: number, inFlight = 1000): Promise<void> {
  for (let i = 0; i < n; i += inFlight) {
    const p = c.pipeline();
    for (let j = i; j < Math.min(n, i + inFlight); j++) p.set(`${prefix}:${j}`, REDIS_VALUE);
    await p.exec();
  }
}
