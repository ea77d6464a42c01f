/**
 * A primary/backup pair of real `clavitor-commercial` processes for benchmarks (loopback, temp
 * directory, token from keygen). Benchmarks never run inside `npm test`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { writeKeyFile } from '../src/config/keygen.js';

const BIN = resolve(import.meta.dirname, '../src/bin/clavitor-commercial.js');

/** Returns a port on 127.0.0.1 that was free a moment ago. */
export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => res(p));
    });
  });
}

/** One POP process. */
export class BenchPop {
  proc: ChildProcess | undefined;
  constructor(readonly name: string, readonly port: number, readonly data: string, readonly config: string) {}
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }
  get adminToken(): string {
    return readFileSync(join(this.data, 'admin.token'), 'utf8').trim();
  }
  /** Starts the POP and waits for its startup line and for it to accept writes (primary). */
  async start(): Promise<void> {
    const p = spawn(process.execPath, [BIN, 'serve', '--data', this.data, '--listen', `127.0.0.1:${this.port}`, '--replication-config', this.config, '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'ignore'] });
    this.proc = p;
    let out = '';
    await new Promise<void>((res, rej) => {
      p.stdout!.on('data', (d) => { out += d; if (out.includes('edition:')) res(); });
      p.on('exit', (c) => rej(new Error(`${this.name} exited ${c}`)));
    });
    for (;;) {
      const s = await this.status();
      if (s.role !== 'primary' || s.accepting_writes) return;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  /** GET /api/status. */
  async status(): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
    const r = await fetch(`${this.url}/api/status`, { headers: { authorization: `Bearer ${this.adminToken}` } });
    return r.json();
  }
  /** Stops the process (SIGKILL by default) and waits. */
  async stop(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null) return;
    await new Promise<void>((r) => { p.once('exit', () => r()); p.kill(signal); });
  }
}

/** A provisioned pair; `cleanup()` stops both and removes the directory. */
export async function benchPair(opts: { batchSize?: number } = {}): Promise<{ primary: BenchPop; backup: BenchPop; cleanup(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'clavitor-bench-'));
  const key = join(dir, 'replication.key');
  writeKeyFile(key);
  const [pp, bp] = [await freePort(), await freePort()];
  const mk = (name: string, port: number, yaml: string) => {
    const root = join(dir, name);
    mkdirSync(root);
    writeFileSync(join(root, 'replication.yaml'), yaml);
    return new BenchPop(name, port, join(root, 'data'), join(root, 'replication.yaml'));
  };
  const batch = opts.batchSize ?? 100;
  const primary = mk('calgary-01', pp, `pop_id: calgary-01\nregion: north-america\nrole: primary\nbackup_pop:\n  id: zurich-01\n  url: http://127.0.0.1:${bp}\n  auth_token_file: ${key}\nauth:\n  token_file: ${key}\nreplication:\n  batch_size: ${batch}\n  max_retries: 100\n`);
  const backup = mk('zurich-01', bp, `pop_id: zurich-01\nregion: europe\nrole: backup\nprimary_pop:\n  id: calgary-01\n  url: http://127.0.0.1:${pp}\nauth:\n  token_file: ${key}\n`);
  return { primary, backup, async cleanup() { await primary.stop(); await backup.stop(); rmSync(dir, { recursive: true, force: true }); } };
}
