/**
 * History, restore and trash commands of `clavitor-cli` (issue 15 item 4): `history` (old values,
 * masked unless `--reveal`), `restore <id> --version N` (a new revision equal to version N, with
 * If-Match), `trash` (deleted entries) and `undelete <id>`. All need the owner token; restore and
 * undelete are writes, refused by a backup like every write (exit status 5, the primary named).
 */
import type { Command } from 'commander';
import { cvError } from '../../lib/errors.js';
import { isEntryId } from '../../lib/ids.js';
import { contextOf, resolveEntryId, type Ctx } from './context.js';
import { openSealed, shown, type EntryOut, type FieldOut } from './entries-read.js';
import type { TrashItem } from '../../vault/entries-service.js';

/** One revision as `GET /api/entries/{id}/revisions` returns it. */
interface RevisionOut {
  seq: number;
  kind: string;
  epoch: number;
  origin_pop: string;
  created_at: string;
  /** `tags` is absent from servers older than this CLI. */
  entry?: { type: string; parent: string | null; title: string; tags?: string[]; fields: FieldOut[] };
}

/**
 * The tags line of a version, or undefined when there is nothing to say: `tags: a, b` for a
 * version with tags, `tags: (none)` for one whose tags were removed since the version before.
 */
export function tagsLine(tags: readonly string[] | undefined, before: readonly string[] | undefined): string | undefined {
  if (tags === undefined) return undefined;
  if (tags.length > 0) return `  tags: ${tags.join(', ')}`;
  return before !== undefined && before.length > 0 ? '  tags: (none)' : undefined;
}

/** Mask shown instead of a value without `--reveal`. */
const MASK = '********';

/** The id of a live or deleted entry: an entry id as is, else a title of a live entry, else a title in the trash. */
async function resolveAnyEntry(ctx: Ctx, target: string): Promise<string> {
  if (isEntryId(target)) return target;
  try {
    return await resolveEntryId(ctx, target);
  } catch (e) {
    const { trash } = await ctx.client().call<{ trash: TrashItem[] }>('GET', '/api/trash');
    const hits = trash.filter((t) => t.title === target);
    if (hits.length === 1) return hits[0]!.id;
    if (hits.length > 1) throw cvError('CLI_AMBIGUOUS', `${hits.length} deleted entries are titled "${target}": ${hits.map((h) => h.id).join(', ')}; use the entry id`);
    throw e;
  }
}

async function historyCmd(target: string, o: { reveal?: boolean }, cmd: Command): Promise<void> {
  const ctx = contextOf(cmd);
  const id = await resolveAnyEntry(ctx, target);
  const { revisions } = await ctx.client().call<{ revisions: RevisionOut[] }>('GET', `/api/entries/${id}/revisions`);
  const out = revisions.map((r) => {
    if (!r.entry) return r;
    if (!o.reveal) return { ...r, entry: { ...r.entry, fields: r.entry.fields.map((f) => ({ label: f.label, kind: f.kind, tier: f.tier, masked: true as const })) } };
    const opened = openSealed(ctx, { id, version: r.seq, created_at: r.created_at, updated_at: r.created_at, ...r.entry } as EntryOut, false);
    return { ...r, entry: { ...r.entry, fields: opened.fields } };
  });
  if (ctx.json) return ctx.emit(out);
  let tagsBefore: string[] | undefined;
  for (const r of out) {
    ctx.line(`${r.seq}\t${r.kind}\t${r.created_at}\t${r.origin_pop}\tepoch ${r.epoch}${r.entry ? `\t${r.entry.title}` : '\t(deleted)'}`);
    const tags = tagsLine(r.entry?.tags, tagsBefore);
    if (tags !== undefined) ctx.line(tags);
    if (r.entry) tagsBefore = r.entry.tags;
    for (const f of r.entry?.fields ?? []) {
      ctx.line(`  ${f.label} [${f.tier}${f.kind !== 'text' ? `, ${f.kind}` : ''}]: ${'masked' in f ? MASK : shown(f)}`);
    }
  }
  if (!o.reveal && out.some((r) => r.entry && r.entry.fields.length > 0)) ctx.note('values masked: pass --reveal to show them');
}

async function restoreCmd(target: string, o: { version?: string }, cmd: Command): Promise<void> {
  const ctx = contextOf(cmd);
  const version = o.version === undefined ? undefined : Number(o.version);
  if (version !== undefined && !(Number.isInteger(version) && version >= 1)) throw cvError('CLI_BAD_INPUT', '--version must be a revision number from clavitor-cli history');
  const id = await resolveAnyEntry(ctx, target);
  const { revisions } = await ctx.client().call<{ revisions: RevisionOut[] }>('GET', `/api/entries/${id}/revisions`);
  const current = revisions.at(-1)?.seq;
  const view = await ctx.client().call<EntryOut>('POST', `/api/entries/${id}/restore`, {
    body: version === undefined ? {} : { version },
    ...(current !== undefined ? { headers: { 'if-match': `"${current}"` } } : {}),
  });
  if (ctx.json) return ctx.emit({ id: view.id, version: view.version, title: view.title });
  ctx.note(version === undefined ? `undeleted ${view.id} (version ${view.version})` : `restored ${view.id} to the values of version ${version} (new version ${view.version})`);
  ctx.line(view.id);
}

async function trashCmd(_o: unknown, cmd: Command): Promise<void> {
  const ctx = contextOf(cmd);
  const { trash } = await ctx.client().call<{ trash: TrashItem[] }>('GET', '/api/trash');
  if (ctx.json) return ctx.emit(trash);
  for (const t of trash) ctx.line(`${t.id}\t${t.type}\t${t.deleted_at}\t${t.title}`);
  if (trash.length === 0) ctx.note('the trash is empty');
}

/** Adds `history`, `restore`, `trash` and `undelete` to `program`. */
export function registerHistoryCommands(program: Command): void {
  program.command('history').argument('<id|title>', 'entry id, or title of a live or deleted entry')
    .description('list an entry\'s revisions with their values (masked unless --reveal; owner token)')
    .option('--reveal', 'show the values (sealed ones opened with the seal key when available)')
    .action(historyCmd);
  program.command('restore').argument('<id|title>')
    .description('write a new revision equal to an old version (owner token); without --version, undelete')
    .option('--version <n>', 'the version to restore (a number from history)')
    .action(restoreCmd);
  program.command('trash').description('list deleted entries (owner token)').action(trashCmd);
  program.command('undelete').argument('<id|title>').description('restore a deleted entry to its last version (owner token)')
    .action((target: string, _o: unknown, cmd: Command) => restoreCmd(target, {}, cmd));
}
