/**
 * Read commands of `clavitor-cli` (issue 6 item 6): `get`, `list`, `totp` (`history`: history-cmd.ts). Sealed
 * fields are opened here with the seal key; without one they are shown as sealed, never as
 * ciphertext. An agent token works with `get` and `totp` by entry id (agents cannot list).
 */
import type { Command } from 'commander';
import { cvError, Errors } from '../../lib/errors.js';
import { totpCode, TOTP_KIND } from '../../vault/totp.js';
import { HttpError } from '../../lib/http-client.js';
import { contextOf, resolveEntryId, type Ctx } from './context.js';
import type { EntrySummary } from '../../vault/entries-service.js';
import type { EntryView } from '../../vault/entry-codec.js';

/** A field as the server returns it. */
export interface FieldOut {
  label: string;
  kind: string;
  tier: 'agent' | 'owner' | 'sealed';
  value?: string;
  redacted?: true;
  /** Set by the CLI: a sealed value left closed (no seal key). */
  sealed?: true;
}

/** An entry as the server returns it (the server's EntryView), with the CLI's view of its fields. */
export type EntryOut = Omit<EntryView, 'fields'> & { fields: FieldOut[] };

/** Opens the sealed fields of `e` when a seal key is available; otherwise marks them `sealed`. */
export function openSealed(ctx: Ctx, e: EntryOut, required: boolean): EntryOut {
  if (!e.fields.some((f) => f.tier === 'sealed' && f.value !== undefined)) return e;
  const sealer = ctx.sealer();
  return {
    ...e,
    fields: e.fields.map((f) => {
      if (f.tier !== 'sealed' || f.value === undefined) return f;
      if (!sealer.available && !required) return { label: f.label, kind: f.kind, tier: f.tier, sealed: true as const };
      return { ...f, value: sealer.open(f.label, f.value) };
    }),
  };
}

/** Renders a field value for the terminal. */
export const shown = (f: FieldOut): string => (f.redacted ? '<redacted>' : f.sealed ? '<sealed: pass --seal-key-file to open>' : f.value ?? '');

async function getCmd(target: string, o: { field?: string }, cmd: Command): Promise<void> {
  const ctx = contextOf(cmd);
  const id = await resolveEntryId(ctx, target);
  const raw = await ctx.client().call<EntryOut>('GET', `/api/entries/${id}`);
  if (o.field !== undefined) {
    const f = raw.fields.find((x) => x.label === o.field);
    if (!f) throw cvError('NOT_FOUND', `entry has no field "${o.field}"`);
    const opened = openSealed(ctx, { ...raw, fields: [f] }, true).fields[0]!;
    if (opened.redacted) throw cvError('FORBIDDEN', `field "${o.field}" is redacted for this token`);
    if (ctx.json) ctx.emit(opened);
    else ctx.line(opened.value ?? '');
    return;
  }
  const e = openSealed(ctx, raw, false);
  if (ctx.json) return ctx.emit(e);
  ctx.line(`${e.title}  (${e.id}, ${e.type}, version ${e.version}, updated ${e.updated_at})`);
  for (const f of e.fields) ctx.line(`  ${f.label} [${f.tier}${f.kind !== 'text' ? `, ${f.kind}` : ''}]: ${shown(f)}`);
}

async function listCmd(_o: unknown, cmd: Command): Promise<void> {
  const ctx = contextOf(cmd);
  const { entries } = await ctx.client().call<{ entries: EntrySummary[] }>('GET', '/api/entries');
  if (ctx.json) return ctx.emit(entries);
  for (const e of entries) ctx.line(`${e.id}\t${e.type}\t${e.version}\t${e.title}`);
  if (entries.length === 0) ctx.note('the vault has no entries');
}

async function totpCmd(target: string, o: { field?: string }, cmd: Command): Promise<void> {
  const ctx = contextOf(cmd);
  const id = await resolveEntryId(ctx, target);
  const q = o.field !== undefined ? `?field=${encodeURIComponent(o.field)}` : '';
  let out: { code: string; seconds_left: number };
  try {
    out = await ctx.client().call('GET', `/api/entries/${id}/totp${q}`);
  } catch (e) {
    if (!(e instanceof HttpError) || e.code !== Errors.TOTP_SEALED.code) throw e;
    // Sealed TOTP secret: the server cannot compute it; open it here and compute locally.
    const raw = await ctx.client().call<EntryOut>('GET', `/api/entries/${id}`);
    const f = raw.fields.find((x) => x.kind === TOTP_KIND && x.tier === 'sealed' && (o.field === undefined || x.label === o.field));
    if (!f?.value) throw cvError('NOT_FOUND', 'entry has no sealed totp field');
    out = totpCode(ctx.sealer().open(f.label, f.value), Date.now());
  }
  if (ctx.json) return ctx.emit(out);
  ctx.line(out.code);
  ctx.note(`valid for ${out.seconds_left} s`);
}

/** Adds `get`, `list` and `totp` to `program`. */
export function registerReadCommands(program: Command): void {
  program.command('get').argument('<id|title>', 'entry id, or exact title (owner token)')
    .description('show an entry (sealed fields opened with the seal key)')
    .option('--field <label>', 'print only this field\'s value')
    .action(getCmd);
  program.command('list').description('list entries without values: the owner sees all, an agent the entries in its scope').action(listCmd);
  program.command('totp').argument('<id|title>').description('print the current TOTP code of an entry')
    .option('--field <label>', 'which totp field (default: the first)')
    .action(totpCmd);
}
