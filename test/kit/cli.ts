/**
 * Runs the built `clavitor-cli` (dist/src/bin/clavitor-cli.js) as a child process, asynchronously
 * (an in-process server under test keeps serving meanwhile), with its own config directory and
 * optional stdin. Also a recording HTTP proxy, to inspect exactly what the CLI sends.
 */
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { BIN, provisionPair, tempDir, type Pair } from './pop.js';
import { runNode, type RunResult } from './proc.js';

/** Result of one CLI run. */
export type CliResult = RunResult;

/** Runs the CLI with `args`; `env` is added to a clean environment (PATH and HOME kept). */
export function runCli(args: string[], opts: { env?: Record<string, string>; input?: string } = {}): Promise<CliResult> {
  const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...(opts.env ?? {}) };
  return runNode(BIN.cli, args, { env, ...(opts.input !== undefined ? { input: opts.input } : {}) });
}

/** One request that passed through the recording proxy. */
export interface Recorded {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A plain HTTP proxy to `target` that records every request body; `url` is its base URL. */
export async function recordingProxy(target: string): Promise<{ url: string; requests: Recorded[]; close(): Promise<void> }> {
  const requests: Recorded[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks).toString('utf8');
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && k !== 'host' && k !== 'content-length') headers[k] = v;
      try {
        const r = await fetch(`${target}${req.url}`, { method: req.method!, headers, ...(body ? { body } : {}) });
        const out = Buffer.from(await r.arrayBuffer());
        const h: Record<string, string> = {};
        r.headers.forEach((v, k) => { if (k !== 'content-length' && k !== 'transfer-encoding' && k !== 'content-encoding') h[k] = v; });
        res.writeHead(r.status, h).end(out);
      } catch {
        res.writeHead(502).end();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address() as { port: number };
  return { url: `http://127.0.0.1:${addr.port}`, requests, close: () => new Promise((r) => server.close(() => r())) };
}

/** A running POP pair and an owner's `clavitor-cli` with its own config directory; see `ownerCliOnPair`. */
export interface OwnerCliPair {
  readonly pair: Pair;
  /** Client API URLs of the primary and the backup. */
  readonly P: string;
  readonly B: string;
  /** The owner's XDG_CONFIG_HOME (the CLI saves `clavitor/config.json` there). */
  readonly ownerConfigHome: string;
  /** Runs the CLI as the owner. */
  owner(...args: string[]): Promise<CliResult>;
  /** Asserts exit status 0 (showing stderr otherwise) and returns stdout. */
  ok(r: CliResult): string;
}

/**
 * Provisions and starts a POP pair (backup first) for a CLI-driven e2e test, with a temporary
 * config home for the owner; both are stopped and removed after the test.
 */
export async function ownerCliOnPair(t: { after(fn: () => Promise<void>): void }, prefix: string): Promise<OwnerCliPair> {
  const pair = await provisionPair();
  const home = tempDir(prefix);
  t.after(async () => {
    await pair.stop();
    home.cleanup();
  });
  await pair.backup.start();
  await pair.primary.start();
  const ownerConfigHome = join(home.dir, 'owner');
  return {
    pair, P: pair.primary.url, B: pair.backup.url, ownerConfigHome,
    owner: (...args) => runCli(args, { env: { XDG_CONFIG_HOME: ownerConfigHome } }),
    ok(r) {
      assert.equal(r.code, 0, r.stderr);
      return r.stdout;
    },
  };
}
