/**
 * The POP pair a chaos run attacks: calgary-01 and zurich-01 as real `clavitor-commercial`
 * processes on loopback, each behind its own TCP fault proxy. Every peer URL in both YAML files
 * points at the *proxy* of the other POP, so the replication link (and hellos and epoch checks)
 * crosses a proxy whichever way round the roles are. Each POP has its own token file (rotation is
 * done per file, as an operator would). Clients talk to the POPs directly.
 *
 * Logs go to `<dir>/<pop>.log`; the JSON `event` lines are also kept in memory (`events`), so that a
 * SIGHUP can be confirmed by its `pop.reloaded` line without keeping all of stderr in memory.
 */
import { createWriteStream, mkdirSync, readFileSync, writeFileSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { writeKeyFile } from '../../src/config/keygen.js';
import { writeSigningKeyFile } from '../../src/config/signing-key.js';
import { BIN, ServerProc, tempDir } from '../../test/kit/pop.js';
import { freePort } from '../../test/kit/ports.js';
import { startProxy, type TcpProxy } from '../../test/kit/tcp-proxy.js';
import { popYaml } from '../../test/kit/yaml.js';
import { otherPop, POPS, type PopName } from './types.js';

/** A JSON log line with an `event`, as seen by the harness. */
export interface PopEvent {
  t: number;
  event: string;
  level: number;
  msg: string;
}

/** Status fields the harness reads from `GET /api/status`. */
export interface PopStatus {
  role: 'primary' | 'backup' | 'fenced';
  epoch: number;
  accepting_writes: boolean;
  draining: boolean;
  replication: { backlog: number; state: string; last_error: string | null };
}

/** A process exit the nemesis did not cause. */
export interface UnexpectedExit {
  pop: PopName;
  t: number;
  code: number | null;
  signal: string | null;
  stderrTail: string;
}

/** The provisioned pair; see `createCluster`. */
export type Cluster = Awaited<ReturnType<typeof createCluster>>;

const REGION: Record<PopName, string> = { 'calgary-01': 'north-america', 'zurich-01': 'europe' };

/** Provisions the pair in a fresh temp dir (not started). `clock()` gives run time in ms. */
export async function createCluster(opts: { clock: () => number; maxRetries?: number }) {
  const { dir, cleanup } = tempDir('clavitor-chaos-');
  const ports = {} as Record<PopName, number>;
  const proxies = {} as Record<PopName, TcpProxy>;
  const tokenFiles = {} as Record<PopName, string>;
  const configFiles = {} as Record<PopName, string>;
  const procs = {} as Record<PopName, ServerProc>;
  const events: Record<PopName, PopEvent[]> = { 'calgary-01': [], 'zurich-01': [] };
  const logs = {} as Record<PopName, WriteStream>;
  const unexpectedExits: UnexpectedExit[] = [];
  /** Processes the nemesis is stopping on purpose (their exit is expected). */
  const expectingExit = new Set<PopName>();

  for (const pop of POPS) {
    ports[pop] = await freePort();
    proxies[pop] = await startProxy(ports[pop]);
    const etc = join(dir, pop, 'etc');
    mkdirSync(etc, { recursive: true });
    tokenFiles[pop] = join(etc, 'replication.key');
    configFiles[pop] = join(etc, 'replication.yaml');
    const data = join(dir, pop, 'data');
    procs[pop] = new ServerProc(pop, BIN.commercial, ['serve', '--data', data, '--listen', `127.0.0.1:${ports[pop]}`, '--replication-config', configFiles[pop], '--log-level', 'info'], ports[pop], data);
    logs[pop] = createWriteStream(join(dir, `${pop}.log`), { flags: 'a' });
  }
  // One keygen token, copied to the other POP's file (mode 0600), as in the seed's provisioning.
  writeKeyFile(tokenFiles['calgary-01']);
  writeFileSync(tokenFiles['zurich-01'], readFileSync(tokenFiles['calgary-01']), { mode: 0o600 });
  // Each POP's own Ed25519 signing key; each pins the other's public key (issue 13 §1).
  const publicKeys = {} as Record<PopName, string>;
  for (const pop of POPS) publicKeys[pop] = writeSigningKeyFile(join(dir, pop, 'etc', 'signing.key'));

  /** Role each YAML file currently says (the harness's view of who is primary). */
  const fileRole: Record<PopName, 'primary' | 'backup'> = { 'calgary-01': 'primary', 'zurich-01': 'backup' };

  /** YAML for `pop` in `role`; the peer is reached through the other POP's proxy. */
  function yamlFor(pop: PopName, role: 'primary' | 'backup'): string {
    const peer = otherPop(pop);
    return popYaml({
      popId: pop, region: REGION[pop], role, peer: { id: peer, url: `http://127.0.0.1:${proxies[peer].port}` }, tokenFile: tokenFiles[pop],
      signingKeyFile: join(dir, pop, 'etc', 'signing.key'), peerPublicKey: publicKeys[peer], replication: { batchSize: 100, maxRetries: opts.maxRetries ?? 8 },
    });
  }

  function writeYaml(pop: PopName, role: 'primary' | 'backup'): void {
    writeFileSync(configFiles[pop], yamlFor(pop, role));
    fileRole[pop] = role;
  }
  writeYaml('calgary-01', 'primary');
  writeYaml('zurich-01', 'backup');

  /** Tees a freshly started process's stderr into its log file and the event list. */
  function attach(pop: PopName): void {
    const proc = procs[pop].proc!;
    let partial = '';
    proc.stderr!.on('data', (d: Buffer) => {
      logs[pop].write(d);
      const text = partial + d.toString('utf8');
      const lines = text.split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) {
        if (!l.startsWith('{')) continue;
        try {
          const j = JSON.parse(l) as { event?: string; level?: number; msg?: string };
          if (j.event) events[pop].push({ t: opts.clock(), event: j.event, level: j.level ?? 30, msg: String(j.msg ?? '') });
        } catch {
          // not a JSON line
        }
      }
      // ServerProc keeps all stderr in memory; the file has it, so keep only a tail.
      if (procs[pop].stderr.length > 1_000_000) procs[pop].stderr = procs[pop].stderr.slice(-100_000);
    });
    proc.stdout!.on('data', (d: Buffer) => logs[pop].write(d));
    proc.once('exit', (code, signal) => {
      logs[pop].write(`\n--- ${pop} exited code=${code} signal=${signal} at ${opts.clock()} ms ---\n`);
      if (expectingExit.has(pop)) return;
      unexpectedExits.push({ pop, t: opts.clock(), code, signal, stderrTail: procs[pop].stderr.slice(-2000) });
    });
  }

  const cluster = {
    dir,
    procs,
    proxies,
    tokenFiles,
    configFiles,
    events,
    unexpectedExits,
    fileRole,
    yamlFor,
    writeYaml,
    /** The POP whose file says primary. */
    primary: (): PopName => (fileRole['calgary-01'] === 'primary' ? 'calgary-01' : 'zurich-01'),
    /** Client base URL of a POP (direct, not through its proxy). */
    url: (pop: PopName): string => procs[pop].url,
    /** Which POP a URL names (direct or proxy port), for following X-Primary-Location. */
    popOfUrl(url: string): PopName | undefined {
      const port = Number(/:(\d+)/.exec(url.replace(/^[a-z]+:\/\//, ''))?.[1]);
      return POPS.find((p) => ports[p] === port || proxies[p].port === port);
    },
    running: (pop: PopName): boolean => procs[pop].proc !== undefined && procs[pop].exitCode === null,
    /** Starts a POP and waits until it serves (a primary: until it decided on its epoch). */
    async start(pop: PopName): Promise<void> {
      expectingExit.delete(pop);
      const started = procs[pop].start(90_000); // spawns synchronously, before its first await
      attach(pop);
      await started;
    },
    /** Stops a POP on purpose with `signal` and waits for the exit. */
    async stop(pop: PopName, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
      expectingExit.add(pop);
      await procs[pop].kill(signal);
    },
    /** Sends a signal that does not end the process (SIGSTOP, SIGCONT, SIGHUP). */
    signal(pop: PopName, signal: NodeJS.Signals): void {
      procs[pop].signal(signal);
    },
    /** Sends SIGHUP and waits for the reload to be logged; throws when it was refused. */
    async reload(pop: PopName, timeoutMs = 30_000): Promise<void> {
      const n = events[pop].length;
      procs[pop].signal('SIGHUP');
      const started = Date.now();
      for (;;) {
        const fresh = events[pop].slice(n);
        if (fresh.some((e) => e.event === 'pop.reload_refused')) throw new Error(`${pop} refused the reload: ${fresh.find((e) => e.event === 'pop.reload_refused')!.msg}`);
        if (fresh.some((e) => e.event === 'pop.reloaded')) return;
        if (Date.now() - started > timeoutMs) throw new Error(`${pop} did not log a reload within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    /** `GET /api/status` with the admin token, or undefined when the POP does not answer in time. */
    async status(pop: PopName, timeoutMs = 5000): Promise<PopStatus | undefined> {
      try {
        const token = procs[pop].adminToken();
        const res = await request(`${procs[pop].url}/api/status`, { headers: { authorization: `Bearer ${token}` }, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
        const json = (await res.body.json()) as PopStatus;
        return res.statusCode === 200 ? json : undefined;
      } catch {
        return undefined;
      }
    },
    /** Polls status until `pred` holds; returns the last status, or throws after `timeoutMs`. */
    async waitStatus(pop: PopName, what: string, pred: (s: PopStatus) => boolean, timeoutMs = 60_000): Promise<PopStatus> {
      const started = Date.now();
      for (;;) {
        const s = await cluster.status(pop);
        if (s && pred(s)) return s;
        if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${pop}: ${what} (last status: ${s ? `${s.role} epoch ${s.epoch} accepting ${s.accepting_writes} backlog ${s.replication.backlog}` : 'none'})`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    /** Kills both POPs, closes the proxies and log files; removes the directory unless `keep`. */
    async close(keep: boolean): Promise<void> {
      for (const pop of POPS) {
        expectingExit.add(pop);
        await procs[pop].kill('SIGKILL').catch(() => {});
      }
      for (const pop of POPS) await proxies[pop].close();
      await Promise.all(POPS.map((pop) => new Promise<void>((r) => logs[pop].end(() => r()))));
      if (!keep) cleanup();
    },
  };
  return cluster;
}
