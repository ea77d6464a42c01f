/**
 * A primary/backup pair of real `clavitor-commercial` processes for benchmarks (loopback, temp
 * directory, token from keygen), and a community `clavitor` process for the replication-off
 * baseline. Benchmarks never run inside `npm test`.
 *
 * Times are milliseconds on the process-wide monotonic clock (`nowMs()`).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeKeyFile } from '../../src/config/keygen.js';
import { writeSigningKeyFile } from '../../src/config/signing-key.js';
import { freePort } from '../../test/kit/ports.js';
import { BIN, NodeProc } from '../../test/kit/proc.js';
import { popYaml } from '../../test/kit/yaml.js';
import { nowMs, sleep } from './stats.js';

/** Where benchmark data directories live (a disk-backed directory, not tmpfs; override with CLAVITOR_BENCH_TMP). */
export const BENCH_TMP = process.env.CLAVITOR_BENCH_TMP ?? tmpdir();

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

/** One server process (commercial POP or community vault): the test kit's `NodeProc` with each output line's time. */
export class BenchPop extends NodeProc {
  /** When the process was spawned / printed its startup line (listening), ms. */
  spawnedAt = 0;
  listeningAt = 0;
  private lines: { at: number; text: string }[] = [];
  private waiters: { re: RegExp; resolve(at: number): void }[] = [];

  constructor(name: string, port: number, readonly data: string, readonly config: string | undefined) {
    super(name, config ? BIN.commercial : BIN.community, [], port);
  }

  get adminToken(): string {
    return readFileSync(join(this.data, 'admin.token'), 'utf8').trim();
  }

  /**
   * Starts the process, waits for its startup line and (primary) for it to accept writes, as long
   * as that takes (start-up time is what the scale benchmark measures). A number, the base class's
   * time-out, means default options. Resolves with the startup line.
   */
  override async start(options: StartOptions | number = {}): Promise<string> {
    const opts = typeof options === 'number' ? {} : options;
    const prof = process.env.CLAVITOR_BENCH_CPU_PROF;
    this.nodeArgs = [...(prof ? ['--cpu-prof', '--cpu-prof-dir', join(prof, this.name)] : []), ...(opts.nodeArgs ?? [])];
    this.env = { ...(opts.env ?? {}) };
    this.args = ['serve', '--data', this.data, '--listen', `127.0.0.1:${this.port}`, '--log-level', opts.logLevel ?? 'warn'];
    if (this.config) this.args.push('--replication-config', this.config);
    this.lines = [];
    this.spawnedAt = nowMs();
    const p = this.launch();
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
      this.waitForLine(this.ready),
      new Promise<never>((_, rej) => p.once('exit', (c) => rej(new Error(`${this.name} exited ${c} during start-up`)))),
    ]).then((at) => { this.listeningAt = at; });
    if (!this.config || opts.waitWritable === false) return this.firstLine();
    for (;;) {
      const s = await this.status();
      if (s.role !== 'primary' || s.accepting_writes) return this.firstLine();
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
  stop(signal: NodeJS.Signals = process.env.CLAVITOR_BENCH_CPU_PROF ? 'SIGTERM' : 'SIGKILL'): Promise<void> {
    return this.kill(signal);
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
  const common = { tokenFile: key };
  const primary = mk('calgary-01', pp, popYaml({ ...common, popId: 'calgary-01', region: 'north-america', role: 'primary', peer: { id: 'zurich-01', url: `http://127.0.0.1:${bp}` }, signingKeyFile: pSign, peerPublicKey: bPub, replication: { batchSize: opts.batchSize ?? 100, maxRetries: opts.maxRetries ?? 100 } }));
  const backup = mk('zurich-01', bp, popYaml({ ...common, popId: 'zurich-01', region: 'europe', role: 'backup', peer: { id: 'calgary-01', url: `http://127.0.0.1:${pp}` }, signingKeyFile: bSign, peerPublicKey: pPub }));
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
