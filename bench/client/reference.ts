/**
 * Starting and stopping the reference servers of issue 12's targets (ref-server.ts) as real
 * processes on loopback, each with its data in a fresh directory under `BENCH_TMP`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BENCH_TMP } from '../lib/pair.js';
import { freePort } from '../../test/kit/ports.js';

/** The id of the one entry the `read` reference server holds. */
export const REF_ENTRY_ID = 'ref-entry';

/** A running reference server. */
export interface RefServer {
  readonly url: string;
  readonly pid: number;
  /** Stops it (SIGKILL) and removes its data directory. */
  stop(): Promise<void>;
}

/**
 * Resolves once the bench server `p` printed `listening` on stdout; rejects, naming `what`, if it
 * exits first (the reference servers and the writer-thread experiment's servers).
 */
export function untilListening(p: ChildProcess, what: string): Promise<void> {
  return new Promise<void>((res, rej) => {
    let out = '';
    p.stdout!.setEncoding('utf8');
    p.stdout!.on('data', (d: string) => {
      out += d;
      if (out.includes('listening')) res();
    });
    p.once('exit', (c) => rej(new Error(`${what} exited ${c} during start-up`)));
  });
}

/** Starts the `write` (one fsync'd row per POST) or `read` (AES-256-GCM row per GET) reference server. */
export async function startRefServer(mode: 'write' | 'read'): Promise<RefServer> {
  const dir = mkdtempSync(join(BENCH_TMP, `clavitor-bench-ref-${mode}-`));
  const port = await freePort();
  const p: ChildProcess = spawn(process.execPath, [resolve(import.meta.dirname, 'ref-server.js'), mode, join(dir, 'data'), String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  await untilListening(p, `reference ${mode} server`);
  return {
    url: `http://127.0.0.1:${port}`,
    pid: p.pid ?? 0,
    async stop() {
      if (p.exitCode === null && p.signalCode === null) await new Promise<void>((r) => { p.once('exit', () => r()); p.kill('SIGKILL'); });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
