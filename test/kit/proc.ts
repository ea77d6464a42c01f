/**
 * The one process wrapper of the test kit (issue 16 item 4): a built Clavitor entry point run as a
 * real child process of `node`, its output kept, started until a ready line appears, killed and
 * awaited. `ServerProc` (POPs, test/kit/pop.ts), `ControlProc` (test/kit/control.ts), the
 * benchmarks' `BenchPop` and the demo's `PopProcess` build on it; one-shot commands use `runNode`.
 * Works from the sources (tsx) and from the compiled tree under dist/ alike.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { basename, join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');
/** The compiled tree: `<repo>/dist`, whether this file runs from test/kit or dist/test/kit. */
const BUILT = basename(ROOT) === 'dist' ? ROOT : join(ROOT, 'dist');

/** Built entry points (`npm run build` first). */
export const BIN = {
  commercial: join(BUILT, 'src/bin/clavitor-commercial.js'),
  community: join(BUILT, 'src/bin/clavitor.js'),
  cli: join(BUILT, 'src/bin/clavitor-cli.js'),
  control: join(BUILT, 'src/bin/clavitor-control.js'),
};

/** Sleeps `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * A long-running `node <nodeArgs> <bin> <args>` child with stdout and stderr kept as text.
 * `start()` resolves once stdout matches `ready`; it throws (with the stderr tail) when the
 * process exits first or after `timeoutMs` milliseconds (monotonic clock).
 */
export class NodeProc {
  proc: ChildProcess | undefined;
  stdout = '';
  stderr = '';
  /** Exit code once exited (128 for a signal), else null. */
  exitCode: number | null = null;
  /** The signal that ended the process, if one did. */
  exitSignal: NodeJS.Signals | null = null;
  /** Why the process could not be spawned (e.g. ENOENT), if it could not. */
  spawnError: Error | undefined;
  /** Extra `node` arguments before the entry point (e.g. `--import` of test/kit/clock-shift.mjs). */
  nodeArgs: string[] = [];
  /** Extra environment variables of the process. */
  env: Record<string, string> = {};
  /** Working directory of the child (default: this process's). */
  cwd: string | undefined;
  /** Poll interval of `start()` and `untilStdout()`, milliseconds. */
  protected pollMs = 25;

  constructor(
    readonly name: string,
    readonly bin: string,
    public args: string[],
    readonly port: number,
    /** What stdout prints once the process serves (its startup line). */
    readonly ready: RegExp = /edition: /,
  ) {}

  /** Base URL on loopback. */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Process id once spawned, else 0. */
  get pid(): number {
    return this.proc?.pid ?? 0;
  }

  /** Spawns the process with fresh output buffers (synchronously) and returns it. */
  launch(): ChildProcess {
    this.stdout = '';
    this.stderr = '';
    this.exitCode = null;
    this.exitSignal = null;
    this.spawnError = undefined;
    const proc = spawn(process.execPath, [...this.nodeArgs, this.bin, ...this.args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...this.env }, ...(this.cwd ? { cwd: this.cwd } : {}) });
    this.proc = proc;
    proc.stdout!.on('data', (d) => (this.stdout += d));
    proc.stderr!.on('data', (d) => (this.stderr += d));
    proc.on('error', (e) => (this.spawnError = e));
    proc.on('exit', (code, signal) => {
      this.exitSignal = signal;
      this.exitCode = code ?? (signal ? 128 : 0);
    });
    return proc;
  }

  /** Resolves once stdout matches `re`; throws when the process exits first or after `timeoutMs` ms. */
  async untilStdout(re: RegExp, timeoutMs: number, started = performance.now()): Promise<void> {
    while (!re.test(this.stdout)) {
      if (this.spawnError) throw new Error(`${this.name} could not be started: ${this.spawnError.message}`);
      if (this.exitCode !== null) throw new Error(`${this.name} exited ${this.exitCode}: ${this.stderr.slice(-2000)}`);
      if (performance.now() - started > timeoutMs) throw new Error(`${this.name} did not start: ${this.stderr.slice(-2000)}`);
      await sleep(this.pollMs);
    }
  }

  /** Starts the process and resolves once it printed its `ready` line on stdout, with stdout's first line. */
  async start(timeoutMs = 15000): Promise<string> {
    const started = performance.now();
    this.launch();
    await this.untilStdout(this.ready, timeoutMs, started);
    return this.firstLine();
  }

  /** The first line of stdout (the startup line), without its newline. */
  firstLine(): string {
    const nl = this.stdout.indexOf('\n');
    return nl < 0 ? this.stdout : this.stdout.slice(0, nl);
  }

  /** Sends a signal and waits for exit (SIGKILL by default). */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const p = this.proc;
    if (!p || this.exitCode !== null) return;
    const done = new Promise<void>((r) => p.once('exit', () => r()));
    p.kill(signal);
    await done;
  }

  /** Sends a signal without waiting (e.g. SIGHUP). */
  signal(signal: NodeJS.Signals): void {
    this.proc?.kill(signal);
  }

  /** Parsed JSON log lines from stderr. */
  logLines(): Record<string, unknown>[] {
    return this.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => { try { return JSON.parse(l) as Record<string, unknown>; } catch { return {}; } });
  }
}

/** Result of `runNode()`. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `exe <args>` to completion without blocking the event loop and resolves with its exit code
 * (128 for a signal) and output. `env` replaces the environment when given; `input` is written to
 * stdin (stdin is closed either way); after `timeoutMs` milliseconds the process is sent SIGKILL.
 */
export function runCommand(exe: string, args: readonly string[], opts: { env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number; cwd?: string } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(exe, args, { stdio: ['pipe', 'pipe', 'pipe'], ...(opts.env ? { env: opts.env } : {}), ...(opts.cwd ? { cwd: opts.cwd } : {}) });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    const timer = opts.timeoutMs === undefined ? undefined : setTimeout(() => p.kill('SIGKILL'), opts.timeoutMs);
    p.on('error', (e) => { clearTimeout(timer); reject(e); });
    p.on('close', (code, signal) => { clearTimeout(timer); resolve({ code: code ?? (signal ? 128 : 0), stdout, stderr }); });
    p.stdin.on('error', () => {}); // a process that exits before reading its stdin
    p.stdin.end(opts.input ?? '');
  });
}

/** `runCommand` of a built entry point under this process's `node`. */
export function runNode(bin: string, args: readonly string[], opts: Parameters<typeof runCommand>[2] = {}): Promise<RunResult> {
  return runCommand(process.execPath, [bin, ...args], opts);
}
