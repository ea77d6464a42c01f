/**
 * What every `clavitor-cli` command shares: the global options, the HTTP client for the configured
 * server and token, the sealer, and output rules (issue 6 item 6): data on stdout, messages on
 * stderr, `--json` makes stdout one JSON document.
 */
import type { Command } from 'commander';
import { cvError } from '../../lib/errors.js';
import { isEntryId } from '../../lib/ids.js';
import { resolveConnection } from './config.js';
import { createClient, type Client } from './http.js';
import { createSealer, type Sealer } from './seal-key.js';
import type { EntrySummary } from '../../vault/entries-service.js';

/** Options accepted before or after any command. */
export interface GlobalOptions {
  server?: string;
  tokenFile?: string;
  caFile?: string;
  sealKeyFile?: string;
  json?: boolean;
}

/** Per-command context; see `contextOf`. */
export interface Ctx {
  readonly json: boolean;
  readonly opts: GlobalOptions;
  /** The client for the configured server and token (throws CLI_NOT_CONFIGURED when missing). */
  client(): Client;
  /** A client for another server (e.g. the primary) with the same token and CA bundle. */
  clientAt(server: string): Client;
  /** The sealer for the token's vault. */
  sealer(): Sealer;
  /** Writes one line of data to stdout. */
  line(text: string): void;
  /** Writes `value` as JSON to stdout. */
  emit(value: unknown): void;
  /** Writes a message for the person at the terminal to stderr. */
  note(text: string): void;
}

/** Builds the context of `cmd` from its options and its parents' (global) options. */
export function contextOf(cmd: Command, env: NodeJS.ProcessEnv = process.env): Ctx {
  const opts = cmd.optsWithGlobals<GlobalOptions>();
  let client: Client | undefined;
  let caFile: string | undefined;
  let sealer: Sealer | undefined;
  return {
    json: opts.json === true,
    opts,
    client() {
      if (!client) {
        const c = resolveConnection(opts, env);
        caFile = c.caFile;
        client = createClient(c.server, c.token, c.caFile);
      }
      return client;
    },
    clientAt(server) {
      // The same CA as the configured server (flag, environment or the saved ca_file): the other POP
      // of a pair is signed by the same private CA.
      const token = this.client().token;
      return createClient(server.replace(/\/+$/, ''), token, caFile);
    },
    sealer() {
      sealer ??= createSealer(this.client().token, opts.sealKeyFile, env);
      return sealer;
    },
    line: (text) => void process.stdout.write(`${text}\n`),
    emit: (value) => void process.stdout.write(`${JSON.stringify(value, null, 2)}\n`),
    note: (text) => void process.stderr.write(`${text}\n`),
  };
}

/**
 * The entry id for `target`: an entry id as is, otherwise the one live entry with exactly that
 * title (needs the owner token: agents cannot list). NOT_FOUND (CV-3004) or CLI_AMBIGUOUS.
 */
export async function resolveEntryId(ctx: Ctx, target: string): Promise<string> {
  if (isEntryId(target)) return target;
  const { entries } = await ctx.client().call<{ entries: EntrySummary[] }>('GET', '/api/entries');
  const hits = entries.filter((e) => e.title === target);
  if (hits.length === 0) throw cvError('NOT_FOUND', `no entry titled "${target}"`);
  if (hits.length > 1) throw cvError('CLI_AMBIGUOUS', `${hits.length} entries are titled "${target}": ${hits.map((h) => h.id).join(', ')}; use the entry id`);
  return hits[0]!.id;
}
