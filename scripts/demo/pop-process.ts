/**
 * A POP as a real child process of the demo: started with the built `clavitor-commercial serve`,
 * awaited until it prints its one startup line, and stopped with SIGTERM (SIGKILL after a grace
 * period). Every started POP is tracked so the demo can kill whatever is left on any exit path.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

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
  /** Node executable and the built entry point, e.g. `[process.execPath, 'dist/src/bin/clavitor-commercial.js']`. */
  argv: readonly string[];
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

/** A running (or finished) POP child process. */
export class PopProcess {
  private child: ChildProcess | undefined;
  private log: WriteStream | undefined;
  private stdoutText = '';
  private stderrTail: string[] = [];
  private exitInfo: ExitInfo | undefined;
  private readonly exited: Promise<ExitInfo>;
  private resolveExit!: (e: ExitInfo) => void;

  constructor(readonly spec: PopSpec) {
    this.exited = new Promise((r) => (this.resolveExit = r));
  }

  /** Base URL of the client API, e.g. `http://127.0.0.1:4000`. */
  get url(): string {
    return `http://127.0.0.1:${this.spec.port}`;
  }

  /** Process id, once started. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** How the process ended, or undefined while it runs (or before it started). */
  get exit(): ExitInfo | undefined {
    return this.exitInfo;
  }

  /** Everything the process printed on stdout. */
  get stdout(): string {
    return this.stdoutText;
  }

  /** The last `n` lines the process wrote on stderr. */
  stderrLines(n = 8): string[] {
    return this.stderrTail.slice(-n);
  }

  /** The operator's admin token, read from `<data>/admin.token` (the POP creates it on first start). */
  adminToken(): string {
    return readFileSync(join(this.spec.dataDir, 'admin.token'), 'utf8').trim();
  }

  /**
   * Spawns the POP and resolves with its startup line once it has printed one full line on
   * stdout. Rejects if it exits first or prints nothing within `START_TIMEOUT_MS` milliseconds.
   */
  async start(): Promise<string> {
    this.log = createWriteStream(this.spec.logFile, { flags: 'a', mode: 0o600 });
    const [exe, ...pre] = this.spec.argv;
    const child = spawn(exe!, [...pre, ...this.spec.args], { cwd: this.spec.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    live.add(this);
    everStarted.push(this);
    let spawnError: Error | undefined;
    child.on('error', (e) => (spawnError = e));
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (this.stdoutText += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      this.log?.write(d);
      this.stderrTail.push(...d.split('\n').filter((l) => l.trim() !== ''));
      if (this.stderrTail.length > 200) this.stderrTail.splice(0, this.stderrTail.length - 200);
    });
    child.on('exit', (code, signal) => {
      this.exitInfo = { code, signal };
      live.delete(this);
      this.log?.end();
      this.resolveExit(this.exitInfo);
    });

    const started = performance.now();
    for (;;) {
      const nl = this.stdoutText.indexOf('\n');
      if (nl >= 0) return this.stdoutText.slice(0, nl);
      if (spawnError) throw new Error(`${this.spec.name} could not be started: ${spawnError.message}`);
      if (this.exitInfo) throw new Error(`${this.spec.name} exited during startup (${describeExit(this.exitInfo)})`);
      if (performance.now() - started > START_TIMEOUT_MS) throw new Error(`${this.spec.name} printed no startup line within ${START_TIMEOUT_MS} ms`);
      await sleep(20);
    }
  }

  /**
   * Sends SIGTERM and waits up to `STOP_GRACE_MS` milliseconds for the exit; then sends SIGKILL
   * and waits for that. Resolves with how it ended and whether SIGKILL was needed.
   */
  async stop(): Promise<{ exit: ExitInfo; killed: boolean; tookMs: number }> {
    const t0 = performance.now();
    if (!this.child || this.exitInfo) return { exit: this.exitInfo ?? { code: null, signal: null }, killed: false, tookMs: 0 };
    this.child.kill('SIGTERM');
    const graceful = await Promise.race([this.exited, sleep(STOP_GRACE_MS).then(() => undefined)]);
    if (graceful) return { exit: graceful, killed: false, tookMs: performance.now() - t0 };
    this.child.kill('SIGKILL');
    const exit = await this.exited;
    return { exit, killed: true, tookMs: performance.now() - t0 };
  }

  /** Sends SIGKILL at once if the process is still running (synchronous; safe in an `exit` handler). */
  killNow(): void {
    if (this.child && !this.exitInfo) this.child.kill('SIGKILL');
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
