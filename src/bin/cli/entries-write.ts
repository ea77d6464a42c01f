/**
 * Write commands of `clavitor-cli` (issue 6 item 6): `put` (create, or update by id or title with
 * If-Match, merging fields by label) and `rm`. Sealed values are encrypted before the request is
 * built (fields.ts), so the server never receives their plaintext. On a backup POP the write is
 * refused (503) and the error names the primary (exit status 5).
 */
import type { Command } from 'commander';
import { cvError } from '../../lib/errors.js';
import { ENTRY_TYPES } from '../../vault/revision.js';
import { contextOf, resolveEntryId } from './context.js';
import { mergeFields, splitPair, type FieldArg, type WireField } from './fields.js';
import type { EntryOut } from './entries-read.js';

/** Options of `put`. */
interface PutOptions {
  title?: string;
  type?: string;
  parent?: string;
  kind: string[];
  removeField: string[];
  tag: string[];
  clearTags?: boolean;
}

const collect = (v: string, prev: string[]): string[] => [...prev, v];

/** `label=value` options in command-line order, with the tier of the option that carried each. */
function fieldArgs(ordered: readonly { tier: WireField['tier']; text: string }[]): FieldArg[] {
  return ordered.map(({ tier, text }) => {
    const { label, value } = splitPair(text, tier === 'owner' ? '--field' : `--${tier}-field`);
    return { label, raw: value, tier };
  });
}

async function putCmd(target: string | undefined, o: PutOptions, cmd: Command, ordered: readonly { tier: WireField['tier']; text: string }[]): Promise<void> {
  const ctx = contextOf(cmd);
  if (o.type !== undefined && !(ENTRY_TYPES as readonly string[]).includes(o.type)) throw cvError('CLI_BAD_INPUT', `--type must be one of ${ENTRY_TYPES.join(', ')}`);
  const kinds = new Map(o.kind.map((k) => {
    const { label, value } = splitPair(k, '--kind');
    return [label, value] as const;
  }));
  const args = fieldArgs(ordered);
  const client = ctx.client();
  let view: EntryOut;
  if (target === undefined) {
    if (!o.title) throw cvError('CLI_BAD_INPUT', 'put without an entry needs --title to create one');
    const fields = mergeFields([], args, kinds, o.removeField, () => ctx.sealer());
    view = await client.call<EntryOut>('POST', '/api/entries', { body: { title: o.title, type: o.type ?? 'credential', parent: o.parent ?? null, fields, tags: o.tag } });
    ctx.note(`created ${view.id} (version ${view.version})`);
  } else {
    const id = await resolveEntryId(ctx, target);
    const cur = await client.call<EntryOut>('GET', `/api/entries/${id}`);
    if (cur.fields.some((f) => f.redacted)) throw cvError('FORBIDDEN', 'this token cannot read every field of the entry, so it cannot rewrite it');
    const existing = cur.fields.map((f) => ({ label: f.label, value: f.value ?? '', kind: f.kind, tier: f.tier }));
    const fields = mergeFields(existing, args, kinds, o.removeField, () => ctx.sealer());
    view = await client.call<EntryOut>('PUT', `/api/entries/${id}`, {
      headers: { 'if-match': `"${cur.version}"` },
      body: { title: o.title ?? cur.title, type: o.type ?? cur.type, parent: o.parent ?? cur.parent, fields, tags: o.clearTags ? [] : o.tag.length > 0 ? o.tag : cur.tags ?? [] },
    });
    ctx.note(`updated ${view.id} (version ${cur.version} → ${view.version})`);
  }
  if (ctx.json) ctx.emit({ id: view.id, version: view.version, title: view.title });
  else ctx.line(view.id);
}

async function rmCmd(target: string, _o: unknown, cmd: Command): Promise<void> {
  const ctx = contextOf(cmd);
  const id = await resolveEntryId(ctx, target);
  await ctx.client().call('DELETE', `/api/entries/${id}`);
  if (ctx.json) ctx.emit({ deleted: id });
  else ctx.note(`deleted ${id}`);
}

/** Adds `put` and `rm` to `program`. */
export function registerWriteCommands(program: Command): void {
  const ordered: { tier: WireField['tier']; text: string }[] = [];
  const field = (tier: WireField['tier']) => (v: string): string => {
    ordered.push({ tier, text: v });
    return v;
  };
  program.command('put').argument('[id|title]', 'entry to update; omit to create one')
    .description('create an entry, or update one (fields merge by label; If-Match guards against lost updates)')
    .option('--title <title>', 'title (required to create)')
    .option('--type <type>', `entry type: ${ENTRY_TYPES.join(', ')}`)
    .option('--parent <id>', 'parent (folder) entry id')
    .option('--field <label=value>', 'owner-tier field (value, @FILE, or - for stdin); repeatable', field('owner'))
    .option('--agent-field <label=value>', 'agent-tier field, readable by agents in scope; repeatable', field('agent'))
    .option('--sealed-field <label=value>', 'sealed field, encrypted here with the seal key; repeatable', field('sealed'))
    .option('--kind <label=kind>', 'set a field\'s kind (e.g. otp=totp); repeatable', collect, [])
    .option('--remove-field <label>', 'drop a field when updating; repeatable', collect, [])
    .option('--tag <tag>', 'tag (in clear; agents can be scoped by tag); repeatable; replaces the tags when updating', collect, [])
    .option('--clear-tags', 'remove every tag when updating')
    .action((target: string | undefined, o: PutOptions, cmd: Command) => putCmd(target, o, cmd, ordered));
  program.command('rm').argument('<id|title>').description('delete an entry (a tombstone revision)').action(rmCmd);
}
