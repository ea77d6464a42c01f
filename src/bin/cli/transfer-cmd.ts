/**
 * `clavitor-cli export` and `clavitor-cli import` (issue 15 items 2 and 3; docs/cli.md).
 *
 * Export reads every live entry with the owner token and writes either the encrypted Clavitor
 * format (export-file.ts: scrypt + AES-256-GCM, sealed fields stay sealed) or an unencrypted
 * Bitwarden JSON file for people who leave. The file is created with mode 0600 and never
 * overwrites an existing one.
 *
 * Import reads a file (import-formats.ts), checks every entry it would create against the same
 * rules the server applies (request schema, totp and sealed values) before writing anything, so a
 * malformed file imports nothing; `--dry-run` prints the plan. The entries are then sent in ONE
 * request, `POST /api/import`, which the server writes in one transaction or not at all (a refusal
 * of any entry leaves the vault as it was). A report lists what could not be mapped.
 */
import { openSync, readFileSync, writeSync, closeSync } from 'node:fs';
import type { Command } from 'commander';
import { cvError, Errors } from '../../lib/errors.js';
import { EntryBodySchema } from '../../http/routes/entries.js';
import { checkEntryInput } from '../../vault/entry-codec.js';
import { TOTP_KIND } from '../../vault/totp.js';
import { parseToken } from '../../vault/tokens.js';
import { contextOf, type Ctx } from './context.js';
import type { EntrySummary } from '../../vault/entries-service.js';
import { readPrivateFile } from './config.js';
import type { EntryOut } from './entries-read.js';
import { HttpError } from '../../lib/http-client.js';
import { MIN_EXPORT_PASSPHRASE_CHARS, openExport, sealExport, type ExportEntry } from '../../vault/export-file.js';
import { BW_CARD_KEYS, BW_IDENTITY_KEYS, BW_SSH_KEYS, IMPORT_FORMATS, planOfClavitor, readImport, type ImportFormat, type ImportPlan, type PlanItem } from '../../vault/import-formats.js';

/** Reads a passphrase from `file` (mode 0600), else from the terminal (twice when `confirm`). */
async function passphraseOf(file: string | undefined, confirm: boolean): Promise<string> {
  let pass: string;
  if (file !== undefined) {
    pass = readPrivateFile(file, 'passphrase file').replace(/\r?\n$/, '');
  } else {
    if (!process.stdin.isTTY) throw cvError('CLI_BAD_INPUT', 'no passphrase: pass --passphrase-file FILE (mode 0600), or run in a terminal to be asked');
    pass = await promptHidden('Export passphrase: ');
    if (confirm && (await promptHidden('Repeat passphrase: ')) !== pass) throw cvError('CLI_BAD_INPUT', 'the two passphrases differ');
  }
  if (pass.length < MIN_EXPORT_PASSPHRASE_CHARS) throw cvError('CLI_BAD_INPUT', `the export passphrase must have at least ${MIN_EXPORT_PASSPHRASE_CHARS} characters`);
  return pass;
}

/** Asks on the terminal without echoing what is typed. */
function promptHidden(question: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    process.stderr.write(question);
    let text = '';
    stdin.setRawMode(true);
    stdin.resume();
    const done = (err?: Error): void => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(text);
    };
    const onData = (d: Buffer): void => {
      for (const ch of d.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003') return done(cvError('CLI_BAD_INPUT', 'interrupted'));
        if (ch === '\u007f') text = text.slice(0, -1);
        else text += ch;
      }
    };
    stdin.on('data', onData);
  });
}

/** Writes `text` to a new file `path` with mode 0600; never overwrites. Throws EXPORT_FILE (CV-6042). */
function writeNewPrivateFile(path: string, text: string): void {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw cvError('EXPORT_FILE', code === 'EEXIST' ? `${path} exists; choose a new file name (an export never overwrites)` : `${path}: ${code ?? (e as Error).message}`);
  }
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
}

/** Every live entry with its values (owner token). */
async function readAll(ctx: Ctx): Promise<EntryOut[]> {
  const { entries } = await ctx.client().call<{ entries: EntrySummary[] }>('GET', '/api/entries');
  const out: EntryOut[] = [];
  for (const e of entries) out.push(await ctx.client().call<EntryOut>('GET', `/api/entries/${e.id}`));
  return out;
}

/** Bitwarden's unencrypted JSON export for `entries`; sealed values opened with the seal key when available. */
function toBitwarden(ctx: Ctx, entries: readonly EntryOut[]): { doc: unknown; closedSealed: number } {
  const byId = new Map(entries.map((e) => [e.id, e]));
  const folderPath = (id: string | null): string | null => {
    const seen = new Set<string>();
    const names: string[] = [];
    for (let cur = id === null ? undefined : byId.get(id); cur && cur.type === 'folder' && !seen.has(cur.id); cur = cur.parent === null ? undefined : byId.get(cur.parent)) {
      seen.add(cur.id);
      names.unshift(cur.title);
    }
    return names.length > 0 ? names.join('/') : null;
  };
  const folders = entries.filter((e) => e.type === 'folder').map((f) => ({ id: f.id, name: folderPath(f.id)! }));
  let closedSealed = 0;
  const sealer = ctx.sealer();
  const valueOf = (f: EntryOut['fields'][number]): string => {
    if (f.tier !== 'sealed' || f.value === undefined) return f.value ?? '';
    if (sealer.available) return sealer.open(f.label, f.value);
    closedSealed++;
    return f.value;
  };
  const items = entries.filter((e) => e.type !== 'folder').map((e) => {
    const type = e.type === 'note' ? 2 : e.type === 'card' ? 3 : e.type === 'identity' ? 4 : e.type === 'ssh_key' ? 5 : 1;
    const take = new Set<string>();
    const get = (label: string): string | null => {
      const f = e.fields.find((x) => x.label === label && !take.has(x.label));
      if (!f) return null;
      take.add(label);
      return valueOf(f);
    };
    const item: Record<string, unknown> = { id: e.id, organizationId: null, folderId: e.parent !== null && byId.get(e.parent)?.type === 'folder' ? e.parent : null, type, reprompt: 0, name: e.title, favorite: false, collectionIds: null };
    item.notes = get('notes');
    if (type === 1) {
      const totp = e.fields.find((f) => f.kind === TOTP_KIND && f.label === 'totp') ?? e.fields.find((f) => f.kind === TOTP_KIND);
      const uris = e.fields.filter((f) => /^url( \d+)?$/.test(f.label)).map((f) => {
        take.add(f.label);
        return { match: null, uri: valueOf(f) };
      });
      item.login = { username: get('username'), password: get('password'), totp: totp ? get(totp.label) : null, uris };
    }
    if (type === 2) item.secureNote = { type: 0 };
    const group = (keys: readonly string[]): Record<string, string | null> => Object.fromEntries(keys.map((k) => [k, get(k)]));
    if (type === 3) item.card = group(BW_CARD_KEYS);
    if (type === 4) item.identity = group(BW_IDENTITY_KEYS);
    if (type === 5) item.sshKey = group(BW_SSH_KEYS);
    item.fields = e.fields.filter((f) => !take.has(f.label)).map((f) => ({ name: f.label, value: valueOf(f), type: f.kind === 'hidden' || f.tier === 'sealed' ? 1 : f.kind === 'boolean' ? 2 : 0, linkedId: null }));
    return item;
  });
  return { doc: { encrypted: false, folders, items }, closedSealed };
}

/**
 * Refuses a token that is not the owner's (EXPORT_NEEDS_OWNER, CV-6035) before any request that
 * reads values: asks `GET /api/audit?limit=1`, owner only and value-free (docs/api.md), which an
 * agent gets 403 for (audited there as `audit.read` denied). Other errors pass through unchanged.
 * Found by a newcomer's try-out: export ran with an agent token and wrote the agent's scope.
 */
async function requireOwnerToken(ctx: Ctx): Promise<void> {
  try {
    await ctx.client().call('GET', '/api/audit?after=0&limit=1');
  } catch (e) {
    if (e instanceof HttpError && e.status === 403) throw cvError('EXPORT_NEEDS_OWNER', `${Errors.EXPORT_NEEDS_OWNER.message}; nothing was read or written (the refusal is in the vault's audit trail)`);
    throw e;
  }
}

async function exportCmd(o: { out: string; format: string; passphraseFile?: string }, cmd: Command): Promise<void> {
  const ctx = contextOf(cmd);
  if (o.format !== 'clavitor' && o.format !== 'bitwarden-json') throw cvError('CLI_BAD_INPUT', '--format must be clavitor or bitwarden-json');
  await requireOwnerToken(ctx);
  const pass = o.format === 'clavitor' ? await passphraseOf(o.passphraseFile, true) : undefined;
  const entries = await readAll(ctx);
  if (entries.some((e) => e.fields.some((f) => f.redacted))) throw cvError('FORBIDDEN', 'export needs the owner token (this token cannot read every field)');
  let text: string;
  if (pass !== undefined) {
    const exported: ExportEntry[] = entries.map((e) => ({ id: e.id, type: e.type as ExportEntry['type'], parent: e.parent, title: e.title, fields: e.fields.map((f) => ({ label: f.label, kind: f.kind, tier: f.tier, value: f.value ?? '' })), tags: e.tags ?? [] }));
    text = sealExport({ exported_at: new Date().toISOString(), vault_id: parseToken(ctx.client().token)?.vaultId ?? '', entries: exported }, pass);
  } else {
    const { doc, closedSealed } = toBitwarden(ctx, entries);
    if (closedSealed > 0) ctx.note(`${closedSealed} sealed value(s) exported as ciphertext: pass --seal-key-file to export them opened`);
    text = `${JSON.stringify(doc, null, 2)}\n`;
  }
  writeNewPrivateFile(o.out, text);
  if (ctx.json) return ctx.emit({ file: o.out, format: o.format, entries: entries.length });
  ctx.note(`exported ${entries.length} entries to ${o.out} (${o.format}, mode 0600)${o.format === 'bitwarden-json' ? ': the file is NOT encrypted; delete it once imported' : ''}`);
}

/** Checks every item against the server's rules before anything is written; throws IMPORT_INVALID naming the item. */
function checkPlan(plan: ImportPlan): void {
  plan.items.forEach((it, i) => {
    const where = `entry ${i + 1} ("${it.title}")`;
    const body = EntryBodySchema.safeParse({ type: it.type, parent: null, title: it.title, fields: it.fields });
    if (!body.success) throw cvError('IMPORT_INVALID', `${where}: ${body.error.issues[0]?.path.join('.')}: ${body.error.issues[0]?.message}`);
    try {
      checkEntryInput(body.data);
    } catch (e) {
      throw cvError('IMPORT_INVALID', `${where}: ${(e as Error).message}`);
    }
  });
}

const describeItem = (it: PlanItem, titles: ReadonlyMap<string, string>): string =>
  `${it.type}\t${it.title}${it.parentRef ? `\t(in ${titles.get(it.parentRef) ?? it.parentRef})` : ''}\t${it.fields.map((f) => `${f.label}${f.kind === TOTP_KIND ? ' [totp]' : ''}`).join(', ')}`;

async function importCmd(file: string, o: { from: string; dryRun?: boolean; map: string[]; passphraseFile?: string }, cmd: Command): Promise<void> {
  const ctx = contextOf(cmd);
  if (!(IMPORT_FORMATS as readonly string[]).includes(o.from)) throw cvError('CLI_BAD_INPUT', `--from must be one of ${IMPORT_FORMATS.join(', ')}`);
  const format = o.from as ImportFormat;
  let data: Buffer;
  try {
    data = readFileSync(file);
  } catch (e) {
    throw cvError('IMPORT_INVALID', `${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const map = new Map(o.map.map((m) => {
    const at = m.lastIndexOf('=');
    if (at <= 0 || at === m.length - 1) throw cvError('CLI_BAD_INPUT', `--map needs COLUMN=FIELD, got "${m}"`);
    return [m.slice(0, at), m.slice(at + 1)] as const;
  }));
  if (map.size > 0 && format !== 'csv') throw cvError('CLI_BAD_INPUT', '--map applies to --from csv only');
  const plan = format === 'clavitor' ? planOfClavitor(openExport(data.toString('utf8'), await passphraseOf(o.passphraseFile, false))) : readImport(format, data, map);
  checkPlan(plan);
  const titles = new Map(plan.items.map((i) => [i.ref, i.title]));
  if (o.dryRun) {
    if (ctx.json) return ctx.emit({ dry_run: true, would_create: plan.items.map((i) => ({ type: i.type, title: i.title, parent: i.parentRef ? titles.get(i.parentRef) : null, fields: i.fields.map((f) => ({ label: f.label, kind: f.kind, tier: f.tier })) })), unmapped: plan.unmapped });
    for (const it of plan.items) ctx.line(describeItem(it, titles));
    ctx.note(`dry run: would create ${plan.items.length} entries; nothing was written`);
  } else {
    // One request: the server checks every entry, then writes all of them in one transaction, or
    // none (POST /api/import; issue 15 "nothing is half-imported").
    let created: { ref: string | null; id: string; title: string }[] = [];
    if (plan.items.length > 0) {
      try {
        ({ created } = await ctx.client().call<{ created: { ref: string | null; id: string; version: number; title: string }[] }>('POST', '/api/import', {
          body: { entries: plan.items.map((it) => ({ ref: it.ref, parent_ref: it.parentRef, type: it.type, title: it.title, fields: it.fields, ...(it.tags ? { tags: it.tags } : {}) })) },
        }));
      } catch (e) {
        // The server names the refused entry by its index; add its place and title in the file.
        const at = e instanceof HttpError ? /^entries\.(\d+)/.exec(e.message) : null;
        const it = at ? plan.items[Number(at[1])] : undefined;
        if (e instanceof HttpError && at && it) {
          e.message = `${e.message} (entry ${Number(at[1]) + 1} of the file, "${it.title}")`;
          throw e;
        }
        throw e;
      }
    }
    if (ctx.json) return ctx.emit({ created, unmapped: plan.unmapped });
    for (const c of created) ctx.line(`${c.id}\t${c.title}`);
    ctx.note(`imported ${created.length} entries from ${file} (${format})`);
  }
  if (plan.unmapped.length > 0) {
    ctx.note(`not mapped (${plan.unmapped.length}):`);
    for (const u of plan.unmapped) ctx.note(`  ${u}`);
  }
}

/** Adds `export` and `import` to `program`. */
export function registerTransferCommands(program: Command): void {
  program.command('export').description('export every entry to a file (owner token): encrypted Clavitor JSON, or Bitwarden JSON to leave')
    .requiredOption('--out <file>', 'file to create (mode 0600; never overwritten)')
    .option('--format <format>', 'clavitor (encrypted: scrypt + AES-256-GCM) or bitwarden-json (NOT encrypted)', 'clavitor')
    .option('--passphrase-file <file>', 'read the export passphrase from this file (mode 0600) instead of asking')
    .action(exportCmd);
  program.command('import').argument('<file>').description('import entries from another password manager\'s export, or a Clavitor export (owner token)')
    .requiredOption('--from <format>', IMPORT_FORMATS.join(', '))
    .option('--dry-run', 'print what would be created; write nothing')
    .option('--map <column=field>', 'generic csv: what a column is (title, folder, type, notes, totp, skip, or a field label); repeatable', (v: string, prev: string[]) => [...prev, v], [])
    .option('--passphrase-file <file>', 'clavitor format: the export passphrase file (mode 0600) instead of asking')
    .action(importCmd);
}
