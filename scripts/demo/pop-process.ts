/**
 * A POP as a real child process of the demo (the test kit's process wrapper): started with the
 * built `clavitor-commercial serve`, awaited until it prints its one startup line, and stopped
 * with SIGTERM (SIGKILL after a grace period). Every started POP is tracked so the demo can kill whatever is left on any exit path.
 */
import { createWriteStream, readFileSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { NodeProc } from '../../test/kit/proc.js';

/** Milliseconds a POP gets to exit after SIGTERM before it is sent SIGKILL. */
export const STOP_GRACE_MS = 5000;
/** Milliseconds a POP gets to print its startup line. */
export const START_TIMEOUT_MS = 15_000;

/** POPs started and not yet known to have exited. */
const live = new Set<PopProcess>();
/** Every POP ever started, running or not (for failure reports). */
const everStarted: PopProcess[] = [];

/** How a POP is started. */
export interface PopSpec {
  /** pop_id, e.g. `calgary-01`. */
  name: string;
  /** The built entry point run under this process's `node`, e.g. `dist/src/bin/clavitor-commercial.js` (relative to `cwd`). */
  bin: string;
  /** Arguments after the entry point (`serve --data … --listen … --replication-config …`). */
  args: readonly string[];
  /** Working directory for the child (the repository root). */
  cwd: string;
  /** Absolute data directory (holds `admin.token`). */
  dataDir: string;
  /** Loopback port it listens on. */
  port: number;
  /** File the child's stderr (JSON logs) is copied to. */
  logFile: string;
}

/** How a POP ended. */
export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A running (or finished) POP child process: the test kit's `NodeProc` with a log file and a graceful stop. */
export class PopProcess extends NodeProc {
  private log: WriteStream | undefined;

  constructor(readonly spec: PopSpec) {
    super(spec.name, spec.bin, [...spec.args], spec.port, /\n/);
    this.cwd = spec.cwd;
    this.pollMs = 20;
  }

  /** How the process ended, or undefined while it runs (or before it started). */
  get exit(): ExitInfo | undefined {
    return this.exitCode === null ? undefined : { code: this.exitSignal ? null : this.exitCode, signal: this.exitSignal };
  }

  /** The last `n` non-empty lines the process wrote on stderr. */
  stderrLines(n = 8): string[] {
    return this.stderr.split('\n').filter((l) => l.trim() !== '').slice(-n);
  }

  /** The operator's admin token, read from `<data>/admin.token` (the POP creates it on first start). */
  adminToken(): string {
    return readFileSync(join(this.spec.dataDir, 'admin.token'), 'utf8').trim();
  }

  /**
   * Spawns the POP and resolves with its startup line once it has printed one full line on
   * stdout. Rejects if it exits first or prints nothing within `START_TIMEOUT_MS` milliseconds.
   */
  override async start(): Promise<string> {
    this.log = createWriteStream(this.spec.logFile, { flags: 'a', mode: 0o600 });
    const child = this.launch();
    live.add(this);
    everStarted.push(this);
    child.stderr!.on('data', (d: Buffer) => this.log?.write(d));
    child.on('exit', () => {
      live.delete(this);
      this.log?.end();
    });
    try {
      await this.untilStdout(/\n/, START_TIMEOUT_MS);
    } catch {
      if (this.spawnError) throw new Error(`${this.spec.name} could not be started: ${this.spawnError.message}`);
      if (this.exit) throw new Error(`${this.spec.name} exited during startup (${describeExit(this.exit)})`);
      throw new Error(`${this.spec.name} printed no startup line within ${START_TIMEOUT_MS} ms`);
    }
    return this.firstLine();
  }

  /**
   * Sends SIGTERM and waits up to `STOP_GRACE_MS` milliseconds for the exit; then sends SIGKILL
   * and waits for that. Resolves with how it ended and whether SIGKILL was needed.
   */
  async stop(): Promise<{ exit: ExitInfo; killed: boolean; tookMs: number }> {
    const t0 = performance.now();
    const child = this.proc;
    if (!child || this.exit) return { exit: this.exit ?? { code: null, signal: null }, killed: false, tookMs: 0 };
    const exited = new Promise<ExitInfo>((r) => child.once('exit', () => r(this.exit!)));
    child.kill('SIGTERM');
    const graceful = await Promise.race([exited, sleep(STOP_GRACE_MS).then(() => undefined)]);
    if (graceful) return { exit: graceful, killed: false, tookMs: performance.now() - t0 };
    child.kill('SIGKILL');
    const exit = await exited;
    return { exit, killed: true, tookMs: performance.now() - t0 };
  }

  /** Sends SIGKILL at once if the process is still running (synchronous; safe in an `exit` handler). */
  killNow(): void {
    if (this.proc && !this.exit) this.proc.kill('SIGKILL');
  }
}

/** POPs that were started and have not exited yet. */
export function livePops(): PopProcess[] {
  return [...live];
}

/** Every POP that was started, including those that have exited. */
export function startedPops(): PopProcess[] {
  return [...everStarted];
}

/** "exit code 0", "signal SIGKILL", … */
export function describeExit(e: ExitInfo): string {
  return e.signal ? `signal ${e.signal}` : `exit code ${e.code}`;
}
