/**
 * Real `clavitor-control` processes (and a real etcd) for integration tests, driven by scripted
 * heartbeats over HTTP: no POP process is needed, a {@link SimPop} reports what a POP would and
 * applies directives the way the POP side does (role and epoch taken from the directive).
 * The built entry point is used (`npm run build --silent` first, as `npm test` does).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'undici';
import { join } from 'node:path';
import { writeKeyFile } from '../../src/config/keygen.js';
import { readTokenFile } from '../../src/config/token-file.js';
import type { Directive, HeartbeatRequest, HeartbeatResponse } from '../../src/controlplane/protocol.js';
import type { ControlStatus } from '../../src/controlplane/server/status.js';
import { api, sleep, tempDir, type ApiResponse } from './pop.js';
import { BIN, NodeProc, runNode } from './proc.js';
import { freePort } from './ports.js';

/** The built control-plane entry point. */
export const CONTROL_BIN = BIN.control;

/** Fast settings for tests: lease 2 s (a 1 s heartbeat satisfies the timing rule), 2 missed, margin 500 ms. */
export const FAST_CONFIG = { lease_ttl_seconds: 2, failover_after_missed_heartbeats: 2, max_lag_on_failover: 0, safety_margin_ms: 500 };
/** Lease + margin of {@link FAST_CONFIG}, in ms: no promotion may happen sooner after the primary's last heartbeat. */
export const FAST_EXPIRY_MS = FAST_CONFIG.lease_ttl_seconds * 1000 + FAST_CONFIG.safety_margin_ms;

/** A temp directory with a token file and a config file. */
export interface ControlFixture {
  readonly dir: string;
  readonly tokenFile: string;
  readonly configFile: string;
  cleanup(): void;
}

/** Creates the fixture; `config` keys are written as YAML. */
export function controlFixture(config: Record<string, number> = FAST_CONFIG): ControlFixture {
  if (!existsSync(CONTROL_BIN)) throw new Error(`${CONTROL_BIN} is missing: run npm run build --silent first`);
  const { dir, cleanup } = tempDir('clavitor-control-');
  const tokenFile = join(dir, 'control.token');
  writeKeyFile(tokenFile);
  const configFile = join(dir, 'control.yaml');
  writeFileSync(configFile, Object.entries(config).map(([k, v]) => `${k}: ${v}`).join('\n') + '\n');
  return { dir, tokenFile, configFile, cleanup };
}

/** One clavitor-control process: the kit's `NodeProc`, ready at its listening line. */
export class ControlProc extends NodeProc {
  protected override pollMs = 20;

  constructor(name: string, port: number, args: string[], readonly token: string) {
    super(name, CONTROL_BIN, args, port, /clavitor-control listening on/);
  }

  /** POST /v1/heartbeat. */
  heartbeat(hb: HeartbeatRequest, token = this.token): Promise<ApiResponse> {
    return api(this.url, 'POST', '/v1/heartbeat', { token, body: hb });
  }

  /** GET /v1/status (throws unless 200). */
  async status(): Promise<ControlStatus> {
    const r = await api(this.url, 'GET', '/v1/status', { token: this.token });
    if (r.status !== 200) throw new Error(`status ${r.status}: ${JSON.stringify(r.json)}`);
    return r.json as ControlStatus;
  }
}

/** A control-plane process over `fx` on a free port; `extra` args appended (e.g. `--etcd`). */
export async function controlProc(name: string, fx: ControlFixture, token: string, extra: string[] = []): Promise<ControlProc> {
  const port = await freePort();
  const data = join(fx.dir, `${name}-data`);
  return new ControlProc(name, port, ['serve', '--data', data, '--listen', `127.0.0.1:${port}`, '--token-file', fx.tokenFile, '--config', fx.configFile, '--log-level', 'debug', ...extra], token);
}

/**
 * A control fixture and a real etcd on it, or undefined after `t.skip()` when CLAVITOR_NO_ETCD=1
 * (see `startEtcd`); `token` is the fixture's control-plane token. The caller stops etcd and
 * removes the fixture.
 */
export async function etcdFixture(t: { skip(message: string): void }): Promise<{ fx: ControlFixture; etcd: EtcdServer; token: string } | undefined> {
  const fx = controlFixture();
  const etcd = await startEtcd(fx.dir);
  if (etcd === undefined) {
    fx.cleanup();
    t.skip('CLAVITOR_NO_ETCD=1: etcd tests skipped');
    return undefined;
  }
  return { fx, etcd, token: readTokenFile(fx.tokenFile)[0]! };
}

/** A fresh fixture with `config` and its control-plane process ('control', token from the fixture's file), started. `extra` as for `controlProc`. */
export async function startedControl(config: Record<string, number> = FAST_CONFIG, extra: string[] = []): Promise<{ fx: ControlFixture; cp: ControlProc }> {
  const fx = controlFixture(config);
  const cp = await controlProc('control', fx, readFileSync(fx.tokenFile, 'utf8').trim(), extra);
  try {
    await cp.start();
  } catch (e) {
    // A control plane that did not start in time is not left running (it would keep the test file alive).
    await cp.kill();
    fx.cleanup();
    throw e;
  }
  return { fx, cp };
}

/** The `control_plane` block of a POP's replication.yaml for the control plane of `fx` reached at loopback `port` (heartbeat every second). */
export function controlPlaneBlock(fx: ControlFixture, port: number): string {
  return `control_plane:\n  url: "http://127.0.0.1:${port}"\n  token_file: "${fx.tokenFile}"\n  heartbeat_interval: 1\n`;
}

/** Runs `clavitor-control ARGS…` without blocking the event loop (scripted heartbeats go on meanwhile). */
export async function controlCli(...args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  const r = await runNode(CONTROL_BIN, args);
  return { status: r.code, stdout: r.stdout, stderr: r.stderr };
}

/** Beats `pop` to `cp` every `everyMs` in the background until the returned function is called. */
export function keepBeating(pop: SimPop, cp: ControlProc, everyMs = 150): () => Promise<void> {
  let on = true;
  const loop = (async () => {
    while (on) {
      await pop.beat(cp);
      await sleep(everyMs);
    }
  })();
  return async () => {
    on = false;
    await loop;
  };
}

/** One answered heartbeat: when it was sent and answered (this process's clock, ms) and the answer. */
export interface Beat {
  readonly sentMs: number;
  readonly answeredMs: number;
  readonly answer: HeartbeatResponse;
}

/** A scripted POP: reports its state and applies directives like the POP side does. */
export class SimPop {
  role: HeartbeatRequest['role'];
  epoch = 1;
  position = 100;
  backlog = 0;
  healthy = true;
  /** Region reported in heartbeats (a test may make it hostile). */
  region = 'test';
  readonly beats: Beat[] = [];
  readonly directives: Directive[] = [];

  constructor(readonly popId: string, public peerId: string, role: HeartbeatRequest['role'], readonly intervalSeconds = 1) {
    this.role = role;
  }

  /** What this POP reports now. */
  report(): HeartbeatRequest {
    return {
      pop_id: this.popId, region: this.region, role: this.role, epoch: this.epoch, peer_id: this.peerId, position: this.position,
      backlog: this.backlog, lag_seconds: this.backlog > 0 ? 1.5 : 0, healthy: this.healthy, heartbeat_interval_seconds: this.intervalSeconds,
    };
  }

  /** Sends one heartbeat to `cp`; applies a directive if `apply`. Throws unless 200. */
  async beat(cp: ControlProc, apply = true): Promise<Beat> {
    const sentMs = Date.now();
    const r = await cp.heartbeat(this.report());
    if (r.status !== 200) throw new Error(`${this.popId} heartbeat → ${r.status} ${JSON.stringify(r.json)}`);
    const beat: Beat = { sentMs, answeredMs: Date.now(), answer: r.json as HeartbeatResponse };
    this.beats.push(beat);
    const d = beat.answer.directive;
    if (d) this.directives.push(d);
    if (d && apply) {
      this.role = d.action === 'promote' ? 'primary' : 'backup';
      this.epoch = d.epoch;
      if (d.action === 'demote') this.peerId = d.primary_id;
    }
    return beat;
  }

  /** Last beat answered with a lease, or undefined. */
  lastLeased(): Beat | undefined {
    return [...this.beats].reverse().find((b) => b.answer.lease_ttl_ms > 0);
  }
}

/** Beats every `everyMs` until `until()` is true or `timeoutMs` passes (then throws). Returns the beat that satisfied it. */
export async function beatUntil(pop: SimPop, cp: ControlProc, until: (b: Beat) => boolean, timeoutMs: number, everyMs = 100): Promise<Beat> {
  const t0 = performance.now();
  for (;;) {
    const b = await pop.beat(cp);
    if (until(b)) return b;
    if (performance.now() - t0 > timeoutMs) throw new Error(`${pop.popId}: condition not met within ${timeoutMs} ms; last answer ${JSON.stringify(b.answer)}`);
    await sleep(everyMs);
  }
}

/** A real etcd server on loopback with a temp data dir. */
export interface EtcdServer {
  readonly endpoint: string;
  stop(): Promise<void>;
}

/**
 * Files for an etcd that serves `https://` (its certificate and key) and requires client
 * certificates signed by `ca` (`--client-cert-auth`); `client` is the pair the health check uses.
 */
export interface EtcdServerTls {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
  readonly client: { readonly cert: string; readonly key: string };
}

/**
 * Starts Debian's `etcd` (package etcd-server), with TLS and client-certificate authentication
 * when `tls` is given. When the binary is absent this throws — the tests
 * fail — unless CLAVITOR_NO_ETCD=1, in which case it returns undefined and the caller skips.
 */
export async function startEtcd(dir: string, tls?: EtcdServerTls): Promise<EtcdServer | undefined> {
  const probe = spawnSync('etcd', ['--version'], { encoding: 'utf8' });
  if (probe.error) {
    if (process.env.CLAVITOR_NO_ETCD === '1') return undefined;
    throw new Error('etcd not found: install Debian\'s etcd-server (apt-get install -y etcd-server), or set CLAVITOR_NO_ETCD=1 to skip the etcd tests');
  }
  const [client, peer] = [await freePort(), await freePort()];
  const data = join(dir, 'etcd');
  mkdirSync(data, { recursive: true, mode: 0o700 });
  const endpoint = `${tls ? 'https' : 'http'}://127.0.0.1:${client}`;
  const proc = spawn('etcd', [
    '--name', 'test', '--data-dir', data,
    '--listen-client-urls', endpoint, '--advertise-client-urls', endpoint,
    '--listen-peer-urls', `http://127.0.0.1:${peer}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${peer}`,
    '--initial-cluster', `test=http://127.0.0.1:${peer}`, '--log-level', 'error',
    ...(tls ? ['--cert-file', tls.cert, '--key-file', tls.key, '--client-cert-auth', '--trusted-ca-file', tls.ca] : []),
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  const dispatcher = tls ? new Agent({ connect: { ca: readFileSync(tls.ca), cert: readFileSync(tls.client.cert), key: readFileSync(tls.client.key) } }) : undefined;
  let stderr = '';
  let exited = false;
  proc.stderr!.on('data', (d) => (stderr += d));
  proc.on('exit', () => (exited = true));
  const t0 = performance.now();
  for (;;) {
    if (exited) throw new Error(`etcd exited: ${stderr.slice(-2000)}`);
    try {
      const r = await request(`${endpoint}/health`, dispatcher ? { dispatcher } : {});
      if (r.statusCode === 200 && ((await r.body.json()) as { health?: string }).health === 'true') break;
    } catch { /* not up yet */ }
    if (performance.now() - t0 > 20_000) throw new Error(`etcd did not become healthy: ${stderr.slice(-2000)}`);
    await sleep(100);
  }
  return {
    endpoint,
    async stop() {
      if (exited) return;
      await dispatcher?.close();
      const done = new Promise<void>((r) => proc.once('exit', () => r()));
      proc.kill('SIGKILL');
      await done;
    },
  };
}
