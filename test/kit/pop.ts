/**
 * Real POP processes for end-to-end tests: provisioning (keys from keygen, YAML shaped like the
 * seed's provisioning example), spawning the built `clavitor-commercial`/`clavitor` binaries on
 * loopback, HTTP calls, SIGKILL and restart. Nothing here mocks storage or network.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { writeKeyFile } from '../../src/config/keygen.js';
import { writeSigningKeyFile } from '../../src/config/signing-key.js';
import { freePort } from './ports.js';
import { startProxy, type TcpProxy } from './tcp-proxy.js';
import { fetch as undiciFetch, type Dispatcher } from 'undici';

const ROOT = resolve(import.meta.dirname, '../..');
/** Built entry points (npm test builds first). */
export const BIN = {
  commercial: join(ROOT, 'dist/src/bin/clavitor-commercial.js'),
  community: join(ROOT, 'dist/src/bin/clavitor.js'),
  cli: join(ROOT, 'dist/src/bin/clavitor-cli.js'),
};

/** A fresh temporary directory removed by `cleanup()`. */
export function tempDir(prefix = 'clavitor-test-'): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Response of `api()`. */
export interface ApiResponse {
  status: number;
  headers: Headers;
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** Calls a Clavitor HTTP API. `body` is JSON-encoded unless it is a string. */
export async function api(base: string, method: string, path: string, opts: { token?: string; body?: unknown; headers?: Record<string, string>; dispatcher?: Dispatcher } = {}): Promise<ApiResponse> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body: string | undefined;
  if (opts.body !== undefined) {
    body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
    headers['content-type'] ??= 'application/json';
  }
  const res = opts.dispatcher
    ? await undiciFetch(`${base}${path}`, { method, headers, ...(body !== undefined ? { body } : {}), dispatcher: opts.dispatcher })
    : await fetch(`${base}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await res.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = text;
  }
  return { status: res.status, headers: res.headers as Headers, json };
}

/** A server process under test. */
export class ServerProc {
  proc: ChildProcess | undefined;
  stdout = '';
  stderr = '';
  exitCode: number | null = null;
  /** HTTPS: the scheme and an undici dispatcher trusting the test CA. */
  https: { dispatcher: Dispatcher } | undefined;
  /** Extra `node` arguments before the entry point (e.g. `--import` of test/kit/clock-shift.mjs). */
  nodeArgs: string[] = [];
  /** Extra environment variables of the process. */
  env: Record<string, string> = {};

  constructor(
    readonly name: string,
    readonly bin: string,
    readonly args: string[],
    readonly port: number,
    readonly dataDir: string,
  ) {}

  /** Base URL of the client API. */
  get url(): string {
    return `${this.https ? 'https' : 'http'}://127.0.0.1:${this.port}`;
  }

  /** The admin token the server created in its data directory. */
  adminToken(): string {
    return readFileSync(join(this.dataDir, 'admin.token'), 'utf8').trim();
  }

  /** Starts the process and resolves once it printed its startup line on stdout. */
  async start(timeoutMs = 15000): Promise<void> {
    this.stdout = '';
    this.stderr = '';
    this.exitCode = null;
    const proc = spawn(process.execPath, [...this.nodeArgs, this.bin, ...this.args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...this.env } });
    this.proc = proc;
    proc.stdout!.on('data', (d) => (this.stdout += d));
    proc.stderr!.on('data', (d) => (this.stderr += d));
    proc.on('exit', (code, signal) => (this.exitCode = code ?? (signal ? 128 : 0)));
    const started = performance.now();
    while (!/edition: /.test(this.stdout)) {
      if (this.exitCode !== null) throw new Error(`${this.name} exited ${this.exitCode}: ${this.stderr.slice(-2000)}`);
      if (performance.now() - started > timeoutMs) throw new Error(`${this.name} did not start: ${this.stderr.slice(-2000)}`);
      await sleep(25);
    }
    if (this.bin === BIN.commercial) {
      // A starting primary confirms its epoch with its peer before taking writes (CV-5012).
      for (let s = await this.status(); s.role === 'primary' && !s.accepting_writes; s = await this.status()) {
        if (performance.now() - started > timeoutMs) throw new Error(`${this.name} never accepted writes`);
        await sleep(25);
      }
    }
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

  /** GET /api/status with the admin token. */
  async status(): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
    return (await api(this.url, 'GET', '/api/status', { token: this.adminToken(), ...(this.https ? { dispatcher: this.https.dispatcher } : {}) })).json;
  }
}

/** Settings for a provisioned pair. */
export interface PairOptions {
  batchSize?: number;
  maxRetries?: number;
  /** Port the primary uses to reach the backup (e.g. a TCP proxy); defaults to the backup's port. */
  backupReachPort?: number;
  /** Give the backup a primary_pop block (X-Primary-Location, hello). Default true. */
  backupKnowsPrimary?: boolean;
}

/** A provisioned primary/backup pair (not started). */
export interface Pair {
  dir: string;
  primary: ServerProc;
  backup: ServerProc;
  keyFile: string;
  /** Ed25519 signing key files (issue 13 §1) and their printed public keys, by POP. */
  signing: { primary: { file: string; publicKey: string }; backup: { file: string; publicKey: string } };
  primaryConfig: string;
  backupConfig: string;
  /** Re-writes a config file (YAML text). */
  writeConfig(which: 'primary' | 'backup', yaml: string): void;
  /** YAML text of the seed-shaped configs for the current ports. */
  yamlFor(which: 'primary' | 'backup', role: 'primary' | 'backup'): string;
  stop(): Promise<void>;
}

/** YAML for a POP in `role` at this pair's ports (seed provisioning example shape). */
function popYaml(o: { popId: string; region: string; role: 'primary' | 'backup'; peerId: string; peerUrl: string; keyFile: string; batchSize: number; maxRetries: number; knowsPeer: boolean; signingKeyFile: string; peerPublicKey: string }): string {
  const lines = [`pop_id: "${o.popId}"`, `region: "${o.region}"`, `role: "${o.role}"`];
  if (o.role === 'primary') {
    lines.push('backup_pop:', `  id: "${o.peerId}"`, `  url: "${o.peerUrl}"`, `  auth_token_file: "${o.keyFile}"`);
  } else if (o.knowsPeer) {
    lines.push('primary_pop:', `  id: "${o.peerId}"`, `  url: "${o.peerUrl}"`);
  }
  lines.push('auth:', `  token_file: "${o.keyFile}"`, `  signing_key_file: "${o.signingKeyFile}"`, `  peer_public_key: "${o.peerPublicKey}"`, 'replication:', `  batch_size: ${o.batchSize}`, `  max_retries: ${o.maxRetries}`);
  return lines.join('\n') + '\n';
}

/** Provisions calgary-01 (primary) and zurich-01 (backup) in a temp dir, sharing one keygen token. */
export async function provisionPair(opts: PairOptions = {}): Promise<Pair> {
  const { dir, cleanup } = tempDir('clavitor-pair-');
  const keyFile = join(dir, 'replication.key');
  writeKeyFile(keyFile);
  const signing = {
    primary: { file: join(dir, 'calgary-01.signing.key'), publicKey: '' },
    backup: { file: join(dir, 'zurich-01.signing.key'), publicKey: '' },
  };
  signing.primary.publicKey = writeSigningKeyFile(signing.primary.file);
  signing.backup.publicKey = writeSigningKeyFile(signing.backup.file);
  const [pPort, bPort] = [await freePort(), await freePort()];
  const cfgDir = (n: string) => {
    const d = join(dir, n, 'etc');
    mkdirSync(d, { recursive: true });
    return d;
  };
  const primaryConfig = join(cfgDir('calgary-01'), 'replication.yaml');
  const backupConfig = join(cfgDir('zurich-01'), 'replication.yaml');
  const base = { keyFile, batchSize: opts.batchSize ?? 100, maxRetries: opts.maxRetries ?? 5, knowsPeer: opts.backupKnowsPrimary ?? true };
  const reach = opts.backupReachPort ?? bPort;
  const yamlFor = (which: 'primary' | 'backup', role: 'primary' | 'backup'): string => which === 'primary'
    ? popYaml({ ...base, popId: 'calgary-01', region: 'north-america', role, peerId: 'zurich-01', peerUrl: `http://127.0.0.1:${role === 'primary' ? reach : bPort}`, signingKeyFile: signing.primary.file, peerPublicKey: signing.backup.publicKey })
    : popYaml({ ...base, popId: 'zurich-01', region: 'europe', role, peerId: 'calgary-01', peerUrl: `http://127.0.0.1:${pPort}`, signingKeyFile: signing.backup.file, peerPublicKey: signing.primary.publicKey });
  writeFileSync(primaryConfig, yamlFor('primary', 'primary'));
  writeFileSync(backupConfig, yamlFor('backup', 'backup'));
  const mk = (name: string, port: number, cfg: string) => {
    const data = join(dir, name, 'data');
    return new ServerProc(name, BIN.commercial, ['serve', '--data', data, '--listen', `127.0.0.1:${port}`, '--replication-config', cfg, '--log-level', 'debug'], port, data);
  };
  const pair: Pair = {
    dir,
    primary: mk('calgary-01', pPort, primaryConfig),
    backup: mk('zurich-01', bPort, backupConfig),
    keyFile,
    signing,
    primaryConfig,
    backupConfig,
    writeConfig: (which, yaml) => writeFileSync(which === 'primary' ? primaryConfig : backupConfig, yaml),
    yamlFor,
    async stop() {
      await pair.primary.kill('SIGKILL');
      await pair.backup.kill('SIGKILL');
      cleanup();
    },
  };
  return pair;
}

/** Sleeps `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` every 50 ms until it returns a truthy value or `timeoutMs` passes (then throws with `what`). */
export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 15000): Promise<T> {
  const start = performance.now();
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (performance.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** Creates a vault on `base` with `adminToken`; returns its id and owner token. */
export async function createVault(base: string, adminToken: string, dispatcher?: Dispatcher): Promise<{ vaultId: string; owner: string }> {
  const r = await api(base, 'POST', '/api/vaults', { token: adminToken, ...(dispatcher ? { dispatcher } : {}) });
  if (r.status !== 201) throw new Error(`vault creation failed: ${r.status} ${JSON.stringify(r.json)}`);
  return { vaultId: r.json.vault_id, owner: r.json.owner_token };
}

/** Result of `runCommercial()`. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built `clavitor-commercial` with `args` (operator commands) and resolves with its exit code and output; never blocks the event loop. */
export async function runCommercial(args: string[], timeoutMs = 60000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [BIN.commercial, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout!.on('data', (d) => (stdout += d));
    p.stderr!.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('error', (e) => { clearTimeout(timer); reject(e); });
    p.on('close', (code, signal) => { clearTimeout(timer); resolve({ code: code ?? (signal ? 128 : 0), stdout, stderr }); });
  });
}

/**
 * Starts a client write whose body arrives in two parts: the request line, headers and the first
 * half of the body are sent at once (so the server has admitted the request), the rest only when
 * `finish()` is called. Models a slow client whose write straddles a drain, demotion or fencing.
 */
export function slowWrite(base: string, method: string, path: string, opts: { token?: string; body: unknown; headers?: Record<string, string> }): { finish(): Promise<ApiResponse> } {
  const text = JSON.stringify(opts.body);
  const half = Math.floor(text.length / 2);
  const u = new URL(path, base);
  let resolveRes!: (r: ApiResponse) => void;
  let rejectRes!: (e: Error) => void;
  const res = new Promise<ApiResponse>((r, j) => { resolveRes = r; rejectRes = j; });
  const req = httpRequest({ host: u.hostname, port: u.port, path: u.pathname, method, agent: false, headers: { ...(opts.headers ?? {}), 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)), ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}) } }, (r) => {
    let data = '';
    r.setEncoding('utf8');
    r.on('data', (d) => (data += d));
    r.on('end', () => {
      const headers = new Headers();
      for (const [k, v] of Object.entries(r.headers)) if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
      let json: unknown = null;
      try { json = data ? JSON.parse(data) : null; } catch { json = data; }
      resolveRes({ status: r.statusCode ?? 0, headers, json });
    });
  });
  req.on('error', (e) => rejectRes(e));
  req.flushHeaders();
  req.write(text.slice(0, half));
  return {
    finish() {
      req.end(text.slice(half));
      return res;
    },
  };
}

/**
 * A provisioned pair with both POPs started (backup first, so the primary's start-up epoch check
 * gets an answer), stopped and removed when test `t` ends.
 */
export async function runningPair(t: { after(fn: () => Promise<void>): void }, opts: PairOptions = {}): Promise<Pair> {
  const pair = await provisionPair(opts);
  t.after(() => pair.stop());
  await pair.backup.start();
  await pair.primary.start();
  return pair;
}

/**
 * Like `runningPair`, with a TCP fault proxy on the primary → backup replication link (the
 * primary's `backup_pop.url` points at the proxy). Both are stopped when test `t` ends.
 */
export async function runningPairBehindProxy(t: { after(fn: () => Promise<void>): void }, opts: Omit<PairOptions, 'backupReachPort'> = {}): Promise<{ pair: Pair; proxy: TcpProxy }> {
  const reach = await freePort();
  const pair = await provisionPair({ ...opts, backupReachPort: reach });
  const proxy = await startProxy(pair.backup.port, reach);
  t.after(async () => {
    await pair.stop();
    await proxy.close();
  });
  await pair.backup.start();
  await pair.primary.start();
  return { pair, proxy };
}
