/**
 * `clavitor-cli quarantine list|show|restore` (issue 11 item 8), owner token. Quarantine lives on
 * the POP that set it aside — a demoted former primary, now a backup that refuses writes — so
 * `--server` names that POP for reading, and `restore` writes the entry on the primary: `--primary
 * URL`, else the `primary_location` the holding POP announces, else `--server` itself (a POP that
 * takes writes). A restore is an ordinary write (If-Match on the entry's current version), so it
 * is audited and replicated like any other; when it replicates back, the holding POP reports the
 * item `restored`.
 */
import type { Command } from 'commander';
import { cvError } from '../../lib/errors.js';
import type { QuarantineItem } from '../../vault/quarantine-service.js';
import { contextOf, type Ctx } from './context.js';
import { HttpError } from '../../lib/http-client.js';
import { openSealed, type EntryOut, type FieldOut } from './entries-read.js';

/** An item as the server sends it, with where writes go. */
type ItemOut = Omit<QuarantineItem, 'entry'> & { entry: (Omit<EntryOut, 'id' | 'version' | 'created_at' | 'updated_at' | 'tags'> & { tags?: string[] }) | null; primary_location: string | null };

const summary = (q: ItemOut): string => [q.id, q.seq, q.kind, q.subject ?? '-', q.status, q.entry?.title ?? '-', q.quarantined_at].join('\t');

/** The item's entry with sealed fields opened when a seal key is configured. */
function opened(ctx: Ctx, q: ItemOut): ItemOut {
  if (!q.entry) return q;
  const e = openSealed(ctx, { ...q.entry, tags: q.entry.tags ?? [], id: q.subject ?? '', version: q.seq, created_at: q.created_at, updated_at: q.created_at }, false);
  return { ...q, entry: { type: e.type, parent: e.parent, title: e.title, fields: e.fields, ...(q.entry.tags ? { tags: q.entry.tags } : {}) } };
}

async function listCmd(_o: unknown, cmd: Command): Promise<void> {
  const ctx = contextOf(cmd);
  const out = await ctx.client().call<{ quarantine: ItemOut[]; primary_location: string | null }>('GET', '/api/quarantine');
  if (ctx.json) return ctx.emit(out);
  for (const q of out.quarantine) ctx.line(summary(q));
  if (out.quarantine.length === 0) ctx.note('nothing of this vault is quarantined on this POP');
}

async function showCmd(id: string, _o: unknown, cmd: Command): Promise<void> {
  const ctx = contextOf(cmd);
  const q = opened(ctx, await ctx.client().call<ItemOut>('GET', `/api/quarantine/${encodeURIComponent(id)}`));
  if (ctx.json) return ctx.emit(q);
  ctx.line(`quarantined revision ${q.id}: ${q.kind} ${q.subject ?? ''} (seq ${q.seq}, epoch ${q.epoch}, written ${q.created_at} by ${q.origin_pop}) — ${q.status}`);
  ctx.line(`  set aside ${q.quarantined_at}: ${q.reason}`);
  if (q.entry) {
    ctx.line(`  ${q.entry.title} (${q.entry.type})`);
    for (const f of q.entry.fields as FieldOut[]) ctx.line(`  ${f.label} [${f.tier}${f.kind !== 'text' ? `, ${f.kind}` : ''}]: ${f.sealed ? '<sealed: pass --seal-key-file to open>' : f.value ?? ''}`);
  }
}

/** Current version of `entryId` on `client`'s POP, or undefined when it is absent or deleted there. */
async function currentVersion(client: ReturnType<Ctx['client']>, entryId: string): Promise<number | undefined> {
  try {
    return (await client.call<{ version: number }>('GET', `/api/entries/${entryId}`)).version;
  } catch (e) {
    if (e instanceof HttpError && e.status === 404) return undefined;
    throw e;
  }
}

async function restoreCmd(id: string, o: { primary?: string }, cmd: Command): Promise<void> {
  const ctx = contextOf(cmd);
  const q = await ctx.client().call<ItemOut>('GET', `/api/quarantine/${encodeURIComponent(id)}`);
  if (!q.restorable || !q.subject) throw cvError('CLI_NOT_RESTORABLE', `quarantined revision ${q.id} is ${q.kind}: ${cvError('CLI_NOT_RESTORABLE').message}`);
  const target = o.primary ?? q.primary_location ?? ctx.client().server;
  const primary = ctx.clientAt(target);
  const version = await currentVersion(primary, q.subject);
  let result: { id: string; version: number | null; action: string };
  if (q.status === 'restored') {
    result = { id: q.subject, version: version ?? null, action: 'already restored' };
  } else if (q.kind === 'entry.delete') {
    if (version !== undefined) await primary.call('DELETE', `/api/entries/${q.subject}`, { headers: { 'if-match': `"${version}"` } });
    result = { id: q.subject, version: null, action: version !== undefined ? 'deleted' : 'already absent' };
  } else {
    const e = q.entry!;
    const body = { type: e.type, parent: e.parent, title: e.title, fields: e.fields.map((f) => ({ label: f.label, value: f.value ?? '', kind: f.kind, tier: f.tier })), tags: e.tags ?? [] };
    const view = version !== undefined
      ? await primary.call<{ id: string; version: number }>('PUT', `/api/entries/${q.subject}`, { headers: { 'if-match': `"${version}"` }, body })
      : await primary.call<{ id: string; version: number }>('POST', '/api/entries', { body });
    result = { id: view.id, version: view.version, action: version !== undefined ? 'updated' : 'created as a new entry' };
  }
  if (ctx.json) return ctx.emit({ quarantine_id: q.id, primary: target, ...result });
  ctx.line(result.id);
  ctx.note(`quarantined revision ${q.id} restored on ${target}: ${result.action}${result.version !== null ? ` (${result.id}, version ${result.version})` : ''}`);
}

/** Adds `quarantine list|show|restore` to `program`. */
export function registerQuarantineCommands(program: Command): void {
  const q = program.command('quarantine').description('revisions of this vault a demoted primary set aside (owner token; --server is the POP holding them)');
  q.command('list').description('id TAB seq TAB kind TAB entry TAB status TAB title TAB quarantined_at').action(listCmd);
  q.command('show').argument('<id>', 'quarantine id from list').description('show one quarantined revision, decrypted').action(showCmd);
  q.command('restore').argument('<id>', 'quarantine id from list')
    .description('write the quarantined entry (or delete) on the primary as a new revision')
    .option('--primary <url>', 'the primary to write to (default: the location the POP announces, else --server)')
    .action(restoreCmd);
}
