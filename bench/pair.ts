/**
 * A primary/backup pair of real `clavitor-commercial` processes for benchmarks (loopback, temp
 * directory, token from keygen), and a community `clavitor` process for the replication-off
 * baseline. Benchmarks never run inside `npm test`.
 *
 * Times are milliseconds on the process-wide monotonic clock (`nowMs()`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { writeKeyFile } from '../src/config/keygen.js';
import { writeSigningKeyFile } from '../src/config/signing-key.js';
import { nowMs, sleep } from './stats.js';

const COMMERCIAL_BIN = resolve(import.meta.dirname, '../src/bin/clavitor-commercial.js');
const COMMUNITY_BIN = resolve(import.meta.dirname, '../src/bin/clavitor.js');

/** Where benchmark data directories live (a disk-backed directory, not tmpfs; override with CLAVITOR_BENCH_TMP). */
export const BENCH_TMP = process.env.CLAVITOR_BENCH_TMP ?? tmpdir();

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

/** Options of `BenchPop.start`. */
export interface StartOptions {
  /** Wait until a primary accepts writes (default true). */
  readonly waitWritable?: boolean;
  /** Extra Node.js flags before the script (e.g. `--import` of a probe, `--cpu-prof`). */
  readonly nodeArgs?: readonly string[];
  /** Extra environment variables. */
  readonly env?: Readonly<Record<string, string>>;
  /** pino level (default warn: the resync line of the scale benchmark is a warning). */
  readonly logLevel?: string;
}

/** One server process (commercial POP or community vault). */
export class BenchPop {
  proc: ChildProcess | undefined;
  /** When the process was spawned / printed its startup line (listening), ms. */
  spawnedAt = 0;
  listeningAt = 0;
  private lines: { at: number; text: string }[] = [];
  private waiters: { re: RegExp; resolve(at: number): void }[] = [];

  constructor(readonly name: string, readonly port: number, readonly data: string, readonly config: string | undefined) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }
  get pid(): number {
    return this.proc?.pid ?? 0;
  }
  get adminToken(): string {
    return readFileSync(join(this.data, 'admin.token'), 'utf8').trim();
  }

  /** Starts the process, waits for its startup line and (primary) for it to accept writes. */
  async start(opts: StartOptions = {}): Promise<void> {
    const bin = this.config ? COMMERCIAL_BIN : COMMUNITY_BIN;
    const prof = process.env.CLAVITOR_BENCH_CPU_PROF;
    const profArgs = prof ? ['--cpu-prof', '--cpu-prof-dir', join(prof, this.name)] : [];
    const args = [...profArgs, ...(opts.nodeArgs ?? []), bin, 'serve', '--data', this.data, '--listen', `127.0.0.1:${this.port}`, '--log-level', opts.logLevel ?? 'warn'];
    if (this.config) args.push('--replication-config', this.config);
    this.lines = [];
    this.spawnedAt = nowMs();
    const p = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...(opts.env ?? {}) } });
    this.proc = p;
    // The startup line is on stdout, log lines (pino JSON) on stderr: both are kept with their time.
    for (const stream of [p.stdout!, p.stderr!]) {
      let buf = '';
      stream.setEncoding('utf8');
      stream.on('data', (d: string) => {
        const at = nowMs();
        buf += d;
        let i: number;
        while ((i = buf.indexOf('\n')) >= 0) {
          const text = buf.slice(0, i);
          buf = buf.slice(i + 1);
          if (this.lines.length < 10_000) this.lines.push({ at, text });
          for (const w of [...this.waiters]) {
            if (w.re.test(text)) {
              this.waiters.splice(this.waiters.indexOf(w), 1);
              w.resolve(at);
            }
          }
        }
      });
    }
    await Promise.race([
      this.waitForLine(/edition: /),
      new Promise<never>((_, rej) => p.once('exit', (c) => rej(new Error(`${this.name} exited ${c} during start-up`)))),
    ]).then((at) => { this.listeningAt = at; });
    if (!this.config || opts.waitWritable === false) return;
    for (;;) {
      const s = await this.status();
      if (s.role !== 'primary' || s.accepting_writes) return;
      await sleep(10);
    }
  }

  /** Resolves with the time (ms) of the first stdout line matching `re`, past or future. */
  waitForLine(re: RegExp): Promise<number> {
    const seen = this.lines.find((l) => re.test(l.text));
    if (seen) return Promise.resolve(seen.at);
    return new Promise((res) => this.waiters.push({ re, resolve: res }));
  }

  /**
   * GET /api/status on a fresh connection closed after the answer, so that no keep-alive socket
   * (and its timer in the server) outlives the call.
   */
  async status(): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
    return new Promise((res, rej) => {
      const req = httpGet(`${this.url}/api/status`, { agent: false, headers: { authorization: `Bearer ${this.adminToken}`, connection: 'close' } }, (r) => {
        let body = '';
        r.setEncoding('utf8');
        r.on('data', (d: string) => { body += d; });
        r.on('end', () => {
          try {
            res(JSON.parse(body));
          } catch (e) {
            rej(e);
          }
        });
      });
      req.on('error', rej);
    });
  }

  /** Lines the process printed (stdout and stderr), for diagnostics. */
  output(): string[] {
    return this.lines.map((l) => l.text);
  }

  /** Stops the process (SIGKILL by default; SIGTERM when profiling, so the profile is written) and waits for it to exit. */
  async stop(signal: NodeJS.Signals = process.env.CLAVITOR_BENCH_CPU_PROF ? 'SIGTERM' : 'SIGKILL'): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    await new Promise<void>((r) => { p.once('exit', () => r()); p.kill(signal); });
  }
}

/** A provisioned pair; `cleanup()` stops both and removes the directory. */
export interface BenchPair {
  readonly dir: string;
  readonly primary: BenchPop;
  readonly backup: BenchPop;
  /** The inter-POP replication token (both POPs accept it). */
  readonly replicationToken: string;
  cleanup(): Promise<void>;
}

/** Creates the directory and configuration of a pair; nothing is started. */
export async function benchPair(opts: { batchSize?: number; maxRetries?: number } = {}): Promise<BenchPair> {
  const dir = mkdtempSync(join(BENCH_TMP, 'clavitor-bench-'));
  const key = join(dir, 'replication.key');
  writeKeyFile(key);
  // Each POP's own Ed25519 signing key; each pins the other's public key (issue 13 §1).
  const [pSign, bSign] = [join(dir, 'calgary-01.signing.key'), join(dir, 'zurich-01.signing.key')];
  const [pPub, bPub] = [writeSigningKeyFile(pSign), writeSigningKeyFile(bSign)];
  const [pp, bp] = [await freePort(), await freePort()];
  const mk = (name: string, port: number, yaml: string) => {
    const root = join(dir, name);
    mkdirSync(root);
    writeFileSync(join(root, 'replication.yaml'), yaml);
    return new BenchPop(name, port, join(root, 'data'), join(root, 'replication.yaml'));
  };
  const batch = opts.batchSize ?? 100;
  const primary = mk('calgary-01', pp, `pop_id: calgary-01\nregion: north-america\nrole: primary\nbackup_pop:\n  id: zurich-01\n  url: http://127.0.0.1:${bp}\n  auth_token_file: ${key}\nauth:\n  token_file: ${key}\n  signing_key_file: ${pSign}\n  peer_public_key: ${bPub}\nreplication:\n  batch_size: ${batch}\n  max_retries: ${opts.maxRetries ?? 100}\n`);
  const backup = mk('zurich-01', bp, `pop_id: zurich-01\nregion: europe\nrole: backup\nprimary_pop:\n  id: calgary-01\n  url: http://127.0.0.1:${pp}\nauth:\n  token_file: ${key}\n  signing_key_file: ${bSign}\n  peer_public_key: ${pPub}\n`);
  return {
    dir, primary, backup,
    replicationToken: readFileSync(key, 'utf8').trim(),
    async cleanup() {
      await primary.stop();
      await backup.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A community (single-node, no replication) vault process in its own temp directory. */
export async function benchCommunity(): Promise<{ pop: BenchPop; cleanup(): Promise<void> }> {
  const dir = mkdtempSync(join(BENCH_TMP, 'clavitor-bench-community-'));
  const pop = new BenchPop('community', await freePort(), join(dir, 'data'), undefined);
  return { pop, async cleanup() { await pop.stop(); rmSync(dir, { recursive: true, force: true }); } };
}
