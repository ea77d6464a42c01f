/**
 * Real POP processes for end-to-end tests: provisioning (keys from keygen, YAML shaped like the
 * seed's provisioning example), spawning the built `clavitor-commercial`/`clavitor` binaries on
 * loopback, HTTP calls, SIGKILL and restart. Nothing here mocks storage or network.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeKeyFile } from '../../src/config/keygen.js';
import { writeSigningKeyFile } from '../../src/config/signing-key.js';
import { freePort } from './ports.js';
import { BIN, NodeProc, runNode, sleep, type RunResult } from './proc.js';
import { startProxy, type TcpProxy } from './tcp-proxy.js';
import { popYaml } from './yaml.js';
import type { Dispatcher } from 'undici';
import { api } from './http.js';

export { BIN, sleep };
export { api, slowWrite, type ApiResponse } from './http.js';

/** A fresh temporary directory removed by `cleanup()`. */
export function tempDir(prefix = 'clavitor-test-'): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A POP (or community vault) process under test: `NodeProc` with the POP's admin token and status. */
export class ServerProc extends NodeProc {
  /** HTTPS: the scheme and an undici dispatcher trusting the test CA. */
  https: { dispatcher: Dispatcher } | undefined;

  constructor(name: string, bin: string, args: string[], port: number, readonly dataDir: string) {
    super(name, bin, args, port);
  }

  /** Base URL of the client API. */
  override get url(): string {
    return `${this.https ? 'https' : 'http'}://127.0.0.1:${this.port}`;
  }

  /** The admin token the server created in its data directory. */
  adminToken(): string {
    return readFileSync(join(this.dataDir, 'admin.token'), 'utf8').trim();
  }

  /** Starts the process and resolves once it printed its startup line on stdout (a commercial primary: once it accepts writes). */
  override async start(timeoutMs = 15000): Promise<string> {
    const started = performance.now();
    const line = await super.start(timeoutMs);
    if (this.bin === BIN.commercial) {
      // A starting primary confirms its epoch with its peer before taking writes (CV-5012).
      await waitFor(`${this.name} accepting writes`, async () => {
        const s = await this.status();
        return s.role !== 'primary' || s.accepting_writes === true;
      }, Math.max(0, timeoutMs - (performance.now() - started)));
    }
    return line;
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
  const base = { tokenFile: keyFile, replication: { batchSize: opts.batchSize ?? 100, maxRetries: opts.maxRetries ?? 5 } };
  const knowsPeer = opts.backupKnowsPrimary ?? true;
  const reach = opts.backupReachPort ?? bPort;
  const peerIf = (role: 'primary' | 'backup', peer: { id: string; url: string }) => (role === 'primary' || knowsPeer ? { peer } : {});
  const yamlFor = (which: 'primary' | 'backup', role: 'primary' | 'backup'): string => which === 'primary'
    ? popYaml({ ...base, popId: 'calgary-01', region: 'north-america', role, ...peerIf(role, { id: 'zurich-01', url: `http://127.0.0.1:${role === 'primary' ? reach : bPort}` }), signingKeyFile: signing.primary.file, peerPublicKey: signing.backup.publicKey })
    : popYaml({ ...base, popId: 'zurich-01', region: 'europe', role, ...peerIf(role, { id: 'calgary-01', url: `http://127.0.0.1:${pPort}` }), signingKeyFile: signing.backup.file, peerPublicKey: signing.primary.publicKey });
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
export type CliResult = RunResult;

/** Runs the built `clavitor-commercial` with `args` (operator commands) and resolves with its exit code and output; never blocks the event loop. */
export function runCommercial(args: string[], timeoutMs = 60000): Promise<CliResult> {
  return runNode(BIN.commercial, args, { timeoutMs });
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
