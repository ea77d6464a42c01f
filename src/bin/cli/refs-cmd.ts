/**
 * Secret references in `clavitor-cli` (issue 14 item 1), named and behaving like 1Password's
 * `op read`, `op run` and `op inject` (docs/cli.md):
 *
 * - `read REF`: prints the value of `clavitor://<vault>/<entry>/<field>` (or `?totp`: the code).
 * - `run [--env-file F] [--no-masking] -- CMD…`: environment values that are references are
 *   resolved and given to the child only (this process's own environment and argv keep the
 *   reference, never the value); the child's stdout and stderr are masked for those values; the
 *   child's exit status is passed through (128 + N when killed by signal N); SIGINT, SIGTERM,
 *   SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 and SIGWINCH are forwarded to it.
 * - `inject [-i TEMPLATE] [-o FILE] [--force]`: `{{ clavitor://… }}` placeholders filled; the
 *   output file is created with mode 0600 (never readable by others, not even for a moment: a new
 *   file opened 0600 then renamed over the target).
 *
 * References are resolved by the server (`GET /api/read`), so an agent token resolves titles within
 * its scope; each distinct reference is fetched once. Sealed fields are opened with the seal key.
 */
import type { Command } from 'commander';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fchmodSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { constants } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { cvError, Errors } from '../../lib/errors.js';
import { fillPlaceholders, looksLikeRef, parseRef, placeholdersOf } from '../../lib/secret-ref.js';
import { contextOf, type Ctx } from './context.js';
import { maskingStream } from './mask.js';

/** What `GET /api/read` answers. */
export interface ReadAnswer {
  vault_id: string;
  entry_id: string;
  field: string | null;
  kind?: string;
  tier?: 'agent' | 'owner' | 'sealed';
  value?: string;
  code?: string;
  seconds_left?: number;
}

/** Resolves one reference to its text (the value, opened when sealed; or the TOTP code). Throws REF_INVALID before any request. */
export async function resolveRef(ctx: Ctx, ref: string): Promise<{ text: string; answer: ReadAnswer }> {
  parseRef(ref);
  const a = await ctx.client().call<ReadAnswer>('GET', `/api/read?ref=${encodeURIComponent(ref.trim())}`);
  if (a.code !== undefined) return { text: a.code, answer: a };
  const value = a.tier === 'sealed' ? ctx.sealer().open(a.field!, a.value!) : a.value!;
  return { text: value, answer: a };
}

/** Resolves each distinct reference once, in order; the map is keyed by the reference as written. */
async function resolveAll(ctx: Ctx, refs: readonly string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const r of refs) if (!out.has(r)) out.set(r, (await resolveRef(ctx, r)).text);
  return out;
}

async function readCmd(ref: string, o: { newline: boolean }, cmd: Command): Promise<void> {
  const ctx = contextOf(cmd);
  const { text, answer } = await resolveRef(ctx, ref);
  if (ctx.json) return ctx.emit(answer.code !== undefined ? answer : { ...answer, value: text });
  process.stdout.write(o.newline ? `${text}\n` : text);
}

const ENV_LINE = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/;

/**
 * Parses a dotenv file: `KEY=VALUE` lines (optional `export `, values optionally in single or
 * double quotes), blank lines and `#` comments. Throws CLI_ENV_FILE naming the line, never its value.
 */
export function parseEnvFile(file: string): Map<string, string> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw cvError('CLI_ENV_FILE', `${file}: cannot read the env file`);
  }
  const out = new Map<string, string>();
  text.split(/\r?\n/).forEach((line, i) => {
    if (/^\s*(#.*)?$/.test(line)) return;
    const m = ENV_LINE.exec(line);
    if (!m) throw cvError('CLI_ENV_FILE', `${file}:${i + 1}: not KEY=VALUE`);
    let v = m[2]!;
    if (v.length >= 2 && ((v.startsWith('"') && v.endsWith('"')) || (v.startsWith('\'') && v.endsWith('\'')))) v = v.slice(1, -1);
    out.set(m[1]!, v);
  });
  return out;
}

const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'];

async function runCmd(argv: string[], o: { envFile?: string[]; masking: boolean }, cmd: Command): Promise<void> {
  const ctx = contextOf(cmd);
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  for (const f of o.envFile ?? []) for (const [k, v] of parseEnvFile(f)) env[k] = v;
  const keys = Object.keys(env).filter((k) => looksLikeRef(env[k]!));
  const values = await resolveAll(ctx, keys.map((k) => env[k]!));
  for (const k of keys) env[k] = values.get(env[k]!)!;
  const secrets = [...values.values()];

  const [file, ...args] = argv;
  const child = spawn(file!, args, { env, stdio: ['inherit', o.masking ? 'pipe' : 'inherit', o.masking ? 'pipe' : 'inherit'] });
  if (o.masking) {
    child.stdout!.pipe(maskingStream(secrets)).pipe(process.stdout);
    child.stderr!.pipe(maskingStream(secrets)).pipe(process.stderr);
  }
  const forward = (sig: NodeJS.Signals) => () => void child.kill(sig);
  const handlers = FORWARDED.map((sig) => [sig, forward(sig)] as const);
  for (const [sig, h] of handlers) process.on(sig, h);
  const status = await new Promise<number>((resolveStatus) => {
    child.once('error', (e: NodeJS.ErrnoException) => {
      process.stderr.write(`clavitor-cli: ${Errors.CLI_CHILD_START.code}: ${file}: ${e.code === 'ENOENT' ? 'command not found' : e.code === 'EACCES' ? 'permission denied' : 'cannot be started'}\n`);
      resolveStatus(127);
    });
    child.once('close', (code, signal) => resolveStatus(code ?? 128 + (signal ? constants.signals[signal] : 0)));
  });
  for (const [sig, h] of handlers) process.off(sig, h);
  process.exitCode = status;
}

/** Writes `text` to `file` as a new file with mode 0600 (written beside it, then renamed over it). */
export function writePrivateFile(file: string, text: string, force: boolean): void {
  if (existsSync(file) && !force) throw cvError('CLI_OUTPUT_EXISTS', `${file}: the output file exists; pass --force to replace it`);
  const tmp = join(dirname(file), `.${basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  let fd: number;
  try {
    fd = openSync(tmp, 'wx', 0o600);
  } catch (e) {
    throw cvError('CLI_BAD_INPUT', `${file}: cannot create the output file (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  try {
    fchmodSync(fd, 0o600);
    writeSync(fd, text);
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, file);
  } catch (e) {
    try { closeSync(fd); } catch { /* already closed */ }
    try { unlinkSync(tmp); } catch { /* gone */ }
    throw cvError('CLI_BAD_INPUT', `${file}: cannot write the output file (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

async function injectCmd(o: { inFile?: string; outFile?: string; force?: boolean }, cmd: Command): Promise<void> {
  const ctx = contextOf(cmd);
  let template: string;
  try {
    template = readFileSync(o.inFile ?? 0, 'utf8');
  } catch {
    throw cvError('CLI_BAD_INPUT', `${o.inFile ?? 'stdin'}: cannot read the template`);
  }
  const refs = placeholdersOf(template);
  const values = await resolveAll(ctx, refs);
  const out = fillPlaceholders(template, values);
  if (o.outFile === undefined) return void process.stdout.write(out);
  writePrivateFile(o.outFile, out, o.force === true);
  ctx.note(`wrote ${o.outFile} (mode 0600, ${refs.length} reference${refs.length === 1 ? '' : 's'})`);
}

/** Adds `read`, `run` and `inject` to `program`. */
export function registerRefCommands(program: Command): void {
  program.command('read').argument('<reference>', 'clavitor://<vault>/<entry title or id>/<field label>[?totp]')
    .description('print the value a secret reference names (or ?totp: the current code)')
    .option('-n, --no-newline', 'do not print a newline after the value')
    .action(readCmd);
  program.command('run').argument('<command...>', 'the command and its arguments, after --')
    .description('run a command with references in its environment resolved for it alone; its output is masked')
    .option('--env-file <file>', 'also load KEY=VALUE lines from this file (repeatable)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--no-masking', 'do not mask the resolved values in the command\'s output')
    .action(runCmd);
  program.command('inject')
    .description('fill {{ clavitor://… }} placeholders of a template; the output file gets mode 0600')
    .option('-i, --in-file <file>', 'template file (default: stdin)')
    .option('-o, --out-file <file>', 'output file, created with mode 0600 (default: stdout)')
    .option('-f, --force', 'replace the output file if it exists')
    .action(injectCmd);
}
