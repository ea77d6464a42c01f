/**
 * Readers of other password managers' exports for `clavitor-cli import` and for the server's
 * `POST /api/import/parse` (the web vault's import page), issue 15 item 2: one module, in vault/,
 * that bin/ and http/ both import (test/unit/import-rules.md). Each
 * turns a file into an `ImportPlan`: the entries to create, in an order where every parent comes
 * before its children, and a report of what could not be mapped. Nothing is written here.
 *
 * Conventions shared by every format: folders (Bitwarden folders, 1Password vaults, KeePass groups)
 * become `folder` entries that are the parents of their items; a login's user name, password, URLs
 * and notes become fields labelled `username`, `password`, `url` (`url 2`, …) and `notes`; a TOTP
 * secret becomes a field labelled `totp` of kind `totp` (a value that is not a TOTP secret, e.g. a
 * Steam code, is kept as a text field and reported); custom fields keep their labels. Every field
 * is in the `owner` tier (agents read nothing until the owner moves a field to the agent tier).
 *
 * A malformed file throws IMPORT_INVALID (CV-6040) naming the line (CSV, XML) or the JSON path.
 * Parsers: csv-parse, fast-xml-parser, fflate (1PUX is a zip).
 */
import { parse as parseCsv } from 'csv-parse/sync';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { unzipSync, strFromU8 } from 'fflate';
import { cvError } from '../lib/errors.js';
import { ENTRY_TYPES, type Tier } from './revision.js';
import { isTotpSecret, TOTP_KIND } from './totp.js';
import type { ExportPayload } from './export-file.js';

/** An entry type. */
export type EntryType = (typeof ENTRY_TYPES)[number];

/** One field to create. */
export interface PlanField {
  label: string;
  value: string;
  kind: string;
  tier: Tier;
}

/** One entry to create. `ref` is its id inside the file; `parentRef` the `ref` of its parent. */
export interface PlanItem {
  ref: string;
  type: EntryType;
  parentRef: string | null;
  title: string;
  fields: PlanField[];
  /** Tags to give the entry (a Clavitor export carries them; the other formats have none). */
  tags?: string[];
}

/** What an import would create, and what it cannot map. */
export interface ImportPlan {
  items: PlanItem[];
  unmapped: string[];
}

/** Formats `import --from` reads. */
export const IMPORT_FORMATS = ['clavitor', 'bitwarden-json', 'bitwarden-csv', '1password-1pux', '1password-csv', 'keepassxc-xml', 'keepass-csv', 'csv'] as const;
/** One import format. */
export type ImportFormat = (typeof IMPORT_FORMATS)[number];

/** Collects items and folders for one file. */
class PlanBuilder {
  readonly items: PlanItem[] = [];
  readonly unmapped: string[] = [];
  private readonly folders = new Map<string, string>();
  private n = 0;

  /** The ref of folder `path` (segments), created with its ancestors on first use; null for the root. */
  folder(path: readonly string[]): string | null {
    let parent: string | null = null;
    for (let i = 0; i < path.length; i++) {
      const key = JSON.stringify(path.slice(0, i + 1));
      let ref = this.folders.get(key);
      if (!ref) {
        ref = `folder:${this.folders.size + 1}`;
        this.folders.set(key, ref);
        this.items.push({ ref, type: 'folder', parentRef: parent, title: path[i]!, fields: [] });
      }
      parent = ref;
    }
    return parent;
  }

  /** Adds an item; empty fields are dropped, a missing title is replaced and reported. */
  add(where: string, type: EntryType, parentRef: string | null, title: string | undefined, fields: PlanField[], ref?: string): void {
    const t = (title ?? '').trim();
    if (!t) this.unmapped.push(`${where}: no title; imported as "(untitled)"`);
    this.items.push({ ref: ref ?? `item:${++this.n}`, type, parentRef, title: t ? t.slice(0, 1024) : '(untitled)', fields: fields.filter((f) => f.value !== '') });
  }
}

/** A field in the owner tier. */
const field = (label: string, value: unknown, kind = 'text'): PlanField => ({ label, value: value === undefined || value === null ? '' : String(value), kind, tier: 'owner' });

/** A totp field, or a text field plus a report line when the value is not a TOTP secret. */
function totpField(b: PlanBuilder, where: string, value: unknown, label = 'totp'): PlanField {
  const v = value === undefined || value === null ? '' : String(value).trim();
  if (v === '' || isTotpSecret(v)) return field(label, v, TOTP_KIND);
  b.unmapped.push(`${where}: "${label}" is not an otpauth://totp/ URI or base32 secret; kept as a text field`);
  return field(label, v);
}

/** `url`, `url 2`, … for a list of URLs. */
const urlFields = (urls: readonly unknown[]): PlanField[] => urls.filter((u) => typeof u === 'string' && u !== '').map((u, i) => field(i === 0 ? 'url' : `url ${i + 1}`, u));

/** Parses JSON, naming the line and column of a syntax error. */
function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const pos = /position (\d+)/.exec((e as Error).message);
    if (!pos) throw cvError('IMPORT_INVALID', `${what}: not valid JSON`);
    const before = text.slice(0, Number(pos[1]));
    const line = before.split('\n').length;
    throw cvError('IMPORT_INVALID', `${what}: not valid JSON at line ${line}, column ${before.length - before.lastIndexOf('\n')}`);
  }
}

/** Parses CSV with a header row into records, naming the line of a malformed row. */
function parseCsvRecords(text: string, what: string): Record<string, string>[] {
  try {
    return parseCsv(text.replace(/^\uFEFF/, ''), { columns: true, skip_empty_lines: true, relax_column_count: false, trim: false }) as Record<string, string>[];
  } catch (e) {
    const err = e as Error & { lines?: number };
    throw cvError('IMPORT_INVALID', `${what}: line ${err.lines ?? '?'}: ${err.message.replace(/^Invalid Record Length: /, '')}`);
  }
}

/** A value at `path` must be an array (or absent when `optional`). */
function arrayAt(v: unknown, path: string, optional = false): unknown[] {
  if (v === undefined && optional) return [];
  if (!Array.isArray(v)) throw cvError('IMPORT_INVALID', `${path}: expected an array`);
  return v;
}

const obj = (v: unknown): Record<string, unknown> => (v !== null && typeof v === 'object' && !Array.isArray(v) ? v as Record<string, unknown> : {});

// ---- Bitwarden -------------------------------------------------------------------------------

/** Bitwarden card and identity keys, kept as field labels (so an export back to Bitwarden is lossless). */
export const BW_CARD_KEYS = ['cardholderName', 'brand', 'number', 'expMonth', 'expYear', 'code'] as const;
/** Bitwarden identity keys. */
export const BW_IDENTITY_KEYS = ['title', 'firstName', 'middleName', 'lastName', 'address1', 'address2', 'address3', 'city', 'state', 'postalCode', 'country',
  'company', 'email', 'phone', 'ssn', 'username', 'passportNumber', 'licenseNumber'] as const;
/** Bitwarden SSH key keys. */
export const BW_SSH_KEYS = ['privateKey', 'publicKey', 'keyFingerprint'] as const;
const BW_TYPES: Record<number, EntryType> = { 1: 'credential', 2: 'note', 3: 'card', 4: 'identity', 5: 'ssh_key' };

function bitwardenJson(text: string): ImportPlan {
  const root = obj(parseJson(text, 'bitwarden-json'));
  if (root.encrypted === true) throw cvError('IMPORT_INVALID', 'bitwarden-json: this is an encrypted Bitwarden export; export again as "JSON" (unencrypted)');
  const b = new PlanBuilder();
  const folderNames = new Map<string, string>();
  arrayAt(root.folders, 'folders', true).forEach((f, i) => {
    const o = obj(f);
    if (typeof o.id !== 'string' || typeof o.name !== 'string') throw cvError('IMPORT_INVALID', `folders[${i}]: needs "id" and "name"`);
    folderNames.set(o.id, o.name);
  });
  arrayAt(root.items, 'items').forEach((raw, i) => {
    const it = obj(raw);
    const where = `items[${i}]`;
    const type = BW_TYPES[Number(it.type)];
    if (!type) throw cvError('IMPORT_INVALID', `${where}.type: unknown Bitwarden item type ${JSON.stringify(it.type)}`);
    const folder = typeof it.folderId === 'string' ? folderNames.get(it.folderId) : undefined;
    if (typeof it.folderId === 'string' && folder === undefined) b.unmapped.push(`${where}: folder ${it.folderId} is not in the file; imported without a folder`);
    const fields: PlanField[] = [];
    const login = obj(it.login);
    if (type === 'credential') {
      fields.push(field('username', login.username), field('password', login.password, 'hidden'));
      if (login.totp) fields.push(totpField(b, where, login.totp));
      fields.push(...urlFields(arrayAt(login.uris, `${where}.login.uris`, true).map((u) => obj(u).uri)));
    }
    if (type === 'card') for (const k of BW_CARD_KEYS) fields.push(field(k, obj(it.card)[k]));
    if (type === 'identity') for (const k of BW_IDENTITY_KEYS) fields.push(field(k, obj(it.identity)[k]));
    if (type === 'ssh_key') for (const k of BW_SSH_KEYS) fields.push(field(k, obj(it.sshKey)[k]));
    arrayAt(it.fields, `${where}.fields`, true).forEach((cf, j) => {
      const c = obj(cf);
      if (typeof c.name !== 'string' || !c.name) return void b.unmapped.push(`${where}.fields[${j}]: custom field without a name`);
      if (c.type === 3) return void b.unmapped.push(`${where}.fields[${j}]: linked field "${c.name}" has no value of its own`);
      fields.push(field(c.name, c.value, c.type === 1 ? 'hidden' : c.type === 2 ? 'boolean' : 'text'));
    });
    if (it.notes) fields.push(field('notes', it.notes, 'note'));
    if (arrayAt(it.attachments, `${where}.attachments`, true).length > 0) b.unmapped.push(`${where}: attachments are not imported`);
    if (arrayAt(it.passwordHistory, `${where}.passwordHistory`, true).length > 0) b.unmapped.push(`${where}: password history is not imported`);
    b.add(where, type, folder !== undefined ? b.folder(folder.split('/').filter((x) => x)) : null, typeof it.name === 'string' ? it.name : undefined, fields);
  });
  return b;
}

/** Splits Bitwarden CSV's `fields` cell ("name: value" per line). */
function bwCsvFields(cell: string): PlanField[] {
  return cell.split(/\r?\n/).filter((l) => l.trim()).map((l) => {
    const at = l.indexOf(': ');
    return at < 0 ? field(l.trim(), '') : field(l.slice(0, at), l.slice(at + 2));
  });
}

function bitwardenCsv(text: string): ImportPlan {
  const rows = parseCsvRecords(text, 'bitwarden-csv');
  const b = new PlanBuilder();
  rows.forEach((r, i) => {
    const where = `line ${i + 2}`;
    if (r.name === undefined || r.type === undefined) throw cvError('IMPORT_INVALID', `bitwarden-csv: line 1: the header needs the columns "type" and "name"`);
    const type: EntryType = r.type === 'note' ? 'note' : r.type === 'login' ? 'credential' : 'any';
    if (type === 'any') b.unmapped.push(`${where}: Bitwarden type "${r.type}" imported as type any`);
    const fields = [field('username', r.login_username), field('password', r.login_password, 'hidden')];
    if (r.login_totp) fields.push(totpField(b, where, r.login_totp));
    fields.push(...urlFields((r.login_uri ?? '').split(',').map((u) => u.trim())), ...bwCsvFields(r.fields ?? ''));
    if (r.notes) fields.push(field('notes', r.notes, 'note'));
    b.add(where, type, b.folder((r.folder ?? '').split('/').filter((x) => x)), r.name, fields);
  });
  return b;
}

// ---- 1Password -------------------------------------------------------------------------------

const OP_CATEGORIES: Record<string, EntryType> = { '001': 'credential', '002': 'card', '003': 'note', '004': 'identity', '005': 'credential', '110': 'ssh_key' };

/** The text of a 1PUX field value object (`{"concealed":"…"}`, `{"email":{"email_address":"…"}}`, …), or undefined. */
function opValue(v: Record<string, unknown>): { text: string; kind: string } | undefined {
  const [k, x] = Object.entries(v)[0] ?? [];
  if (k === undefined || x === undefined || x === null || x === '') return undefined;
  if (k === 'totp') return { text: String(x), kind: TOTP_KIND };
  if (typeof x === 'string' || typeof x === 'number') return { text: String(x), kind: k === 'concealed' ? 'hidden' : 'text' };
  if (k === 'email') return { text: String(obj(x).email_address ?? ''), kind: 'text' };
  if (k === 'sshKey') return { text: String(obj(x).privateKey ?? ''), kind: 'hidden' };
  if (k === 'address') return { text: Object.values(obj(x)).filter((s) => s).join(', '), kind: 'text' };
  return undefined;
}

function onePassword1pux(data: Buffer): ImportPlan {
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(new Uint8Array(data));
  } catch (e) {
    throw cvError('IMPORT_INVALID', `1password-1pux: not a zip archive (${(e as Error).message})`);
  }
  const raw = files['export.data'];
  if (!raw) throw cvError('IMPORT_INVALID', '1password-1pux: the archive has no export.data');
  const root = obj(parseJson(strFromU8(raw), 'export.data'));
  const b = new PlanBuilder();
  arrayAt(root.accounts, 'accounts').forEach((acc, ai) => {
    arrayAt(obj(acc).vaults, `accounts[${ai}].vaults`).forEach((vault, vi) => {
      const v = obj(vault);
      const vaultName = String(obj(v.attrs).name ?? `vault ${vi + 1}`);
      arrayAt(v.items, `accounts[${ai}].vaults[${vi}].items`).forEach((item, ii) => {
        const where = `accounts[${ai}].vaults[${vi}].items[${ii}]`;
        const it = obj(item);
        if (it.state === 'archived') return void b.unmapped.push(`${where}: archived item not imported`);
        const ov = obj(it.overview);
        const d = obj(it.details);
        const cat = String(it.categoryUuid ?? '');
        const type = OP_CATEGORIES[cat] ?? 'any';
        if (!OP_CATEGORIES[cat]) b.unmapped.push(`${where}: 1Password category ${cat || '?'} imported as type any`);
        const fields: PlanField[] = [];
        for (const lf of arrayAt(d.loginFields, `${where}.details.loginFields`, true)) {
          const l = obj(lf);
          const label = l.designation === 'username' ? 'username' : l.designation === 'password' ? 'password' : String(l.name || l.designation || 'field');
          fields.push(field(label, l.value, l.designation === 'password' || l.fieldType === 'P' ? 'hidden' : 'text'));
        }
        if (typeof d.password === 'string') fields.push(field('password', d.password, 'hidden'));
        const urls = arrayAt(ov.urls, `${where}.overview.urls`, true).map((u) => obj(u).url);
        fields.push(...urlFields(urls.length > 0 ? urls : [ov.url]));
        arrayAt(d.sections, `${where}.details.sections`, true).forEach((sec, si) => {
          arrayAt(obj(sec).fields, `${where}.details.sections[${si}].fields`, true).forEach((f, fi) => {
            const fo = obj(f);
            const label = String(fo.title || fo.id || `field ${fi + 1}`);
            const val = opValue(obj(fo.value));
            if (!val) return void b.unmapped.push(`${where}.details.sections[${si}].fields[${fi}]: "${label}" has no value that maps to text (file, or empty)`);
            fields.push(val.kind === TOTP_KIND ? totpField(b, where, val.text, label === 'one-time password' ? 'totp' : label) : field(label, val.text, val.kind));
          });
        });
        if (d.notesPlain) fields.push(field('notes', d.notesPlain, 'note'));
        if (d.documentAttributes) b.unmapped.push(`${where}: document files are not imported`);
        b.add(where, type, b.folder([vaultName]), typeof ov.title === 'string' ? ov.title : undefined, fields);
      });
    });
  });
  return b;
}

function onePasswordCsv(text: string): ImportPlan {
  const rows = parseCsvRecords(text, '1password-csv');
  const b = new PlanBuilder();
  const known: Record<string, string> = { title: 'title', url: 'url', website: 'url', username: 'username', password: 'password', otpauth: 'totp', 'one-time password': 'totp', notes: 'notes', notesplain: 'notes' };
  const dropped = new Set(['favorite', 'archived', 'type']);
  rows.forEach((r, i) => {
    const where = `line ${i + 2}`;
    const fields: PlanField[] = [];
    let title: string | undefined;
    for (const [col, val] of Object.entries(r)) {
      const k = known[col.trim().toLowerCase()];
      if (dropped.has(col.trim().toLowerCase())) continue;
      if (k === 'title') title = val;
      else if (k === 'totp') fields.push(totpField(b, where, val));
      else if (k === 'notes') fields.push(field('notes', val, 'note'));
      else if (k === 'password') fields.push(field('password', val, 'hidden'));
      else fields.push(field(k ?? col, val));
    }
    if (title === undefined) throw cvError('IMPORT_INVALID', '1password-csv: line 1: the header needs a "Title" column');
    b.add(where, 'credential', null, title, fields);
  });
  if (rows.length > 0) {
    const cols = Object.keys(rows[0]!).filter((c) => dropped.has(c.trim().toLowerCase()));
    if (cols.length > 0) b.unmapped.push(`columns not imported: ${cols.join(', ')}`);
  }
  return b;
}

// ---- KeePass ---------------------------------------------------------------------------------

const KP_STANDARD: Record<string, { label: string; kind: string }> = {
  UserName: { label: 'username', kind: 'text' }, Password: { label: 'password', kind: 'hidden' }, URL: { label: 'url', kind: 'text' }, Notes: { label: 'notes', kind: 'note' },
};
const KP_TOTP_KEYS = new Set(['otp', 'TOTP Seed', 'TimeOtp-Secret-Base32']);

const list = (v: unknown): unknown[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const kpText = (v: unknown): string => (typeof v === 'object' && v !== null ? String(obj(v)['#text'] ?? '') : v === undefined ? '' : String(v));

function keepassXml(text: string): ImportPlan {
  const valid = XMLValidator.validate(text);
  if (valid !== true) throw cvError('IMPORT_INVALID', `keepassxc-xml: line ${valid.err.line}, column ${valid.err.col}: ${valid.err.msg}`);
  const doc = obj(new XMLParser({ ignoreAttributes: false, parseTagValue: false, trimValues: false }).parse(text));
  const root = obj(obj(doc.KeePassFile).Root);
  if (!root.Group) throw cvError('IMPORT_INVALID', 'keepassxc-xml: KeePassFile/Root/Group missing: not a KeePass XML export');
  const b = new PlanBuilder();
  const walk = (g: Record<string, unknown>, path: string[], xpath: string): void => {
    list(g.Entry).forEach((e, i) => {
      const where = `${xpath}/Entry[${i + 1}]`;
      const en = obj(e);
      let title: string | undefined;
      const fields: PlanField[] = [];
      for (const s of list(en.String)) {
        const key = kpText(obj(s).Key);
        const value = kpText(obj(s).Value);
        if (key === 'Title') title = value;
        else if (KP_STANDARD[key]) fields.push(field(KP_STANDARD[key].label, value, KP_STANDARD[key].kind));
        else if (KP_TOTP_KEYS.has(key)) fields.push(totpField(b, where, value));
        else if (key === 'TOTP Settings') continue;
        else fields.push(field(key, value, obj(obj(s).Value)['@_ProtectInMemory'] === 'True' ? 'hidden' : 'text'));
      }
      if (list(en.Binary).length > 0) b.unmapped.push(`${where}: attachments are not imported`);
      b.add(where, 'credential', b.folder(path), title, fields);
    });
    list(g.Group).forEach((c, i) => {
      const child = obj(c);
      const name = kpText(child.Name) || `group ${i + 1}`;
      if (name === 'Recycle Bin') return void b.unmapped.push(`${xpath}/Group[${i + 1}]: the Recycle Bin is not imported`);
      walk(child, [...path, name], `${xpath}/Group[${i + 1}]`);
    });
  };
  walk(obj(root.Group), [], '/KeePassFile/Root/Group');
  return b;
}

function keepassCsv(text: string): ImportPlan {
  const rows = parseCsvRecords(text, 'keepass-csv');
  const b = new PlanBuilder();
  const meta = new Set(['Icon', 'Last Modified', 'Created']);
  rows.forEach((r, i) => {
    const where = `line ${i + 2}`;
    if (r.Title === undefined) throw cvError('IMPORT_INVALID', 'keepass-csv: line 1: the header needs a "Title" column (KeePassXC CSV export)');
    const segs = (r.Group ?? '').split('/').filter((s) => s);
    const path = segs.slice(1);
    if (path[0] === 'Recycle Bin') return void b.unmapped.push(`${where}: in the Recycle Bin; not imported`);
    const fields: PlanField[] = [field('username', r.Username), field('password', r.Password, 'hidden'), field('url', r.URL)];
    if (r.TOTP) fields.push(totpField(b, where, r.TOTP));
    if (r.Notes) fields.push(field('notes', r.Notes, 'note'));
    for (const [col, val] of Object.entries(r)) {
      if (!['Group', 'Title', 'Username', 'Password', 'URL', 'Notes', 'TOTP'].includes(col) && !meta.has(col)) fields.push(field(col, val));
    }
    b.add(where, 'credential', b.folder(path), r.Title, fields);
  });
  return b;
}

// ---- generic CSV ------------------------------------------------------------------------------

/**
 * Generic CSV with a header row. `map` (from `--map column=field`) says what a column is: `title`,
 * `folder` (a `/`-separated path), `type`, `notes`, `totp`, `skip`, or any other text, the label of
 * a field. Without a mapping a column named title or name is the title, folder or group the
 * folder, type the type, notes the notes, totp or otp the TOTP secret, and every other column a
 * field labelled with the column name.
 */
function genericCsv(text: string, map: ReadonlyMap<string, string>): ImportPlan {
  const rows = parseCsvRecords(text, 'csv');
  const b = new PlanBuilder();
  const defaults: Record<string, string> = { title: 'title', name: 'title', folder: 'folder', group: 'folder', type: 'type', notes: 'notes', totp: 'totp', otp: 'totp' };
  const header = rows.length > 0 ? Object.keys(rows[0]!) : [];
  for (const col of map.keys()) if (!header.includes(col)) throw cvError('IMPORT_INVALID', `csv: line 1: --map names column "${col}", which the header does not have (${header.join(', ')})`);
  const role = (col: string): string => map.get(col) ?? defaults[col.trim().toLowerCase()] ?? `field:${col}`;
  if (rows.length > 0 && !header.some((c) => role(c) === 'title')) throw cvError('IMPORT_INVALID', 'csv: line 1: no title column; name one with --map COLUMN=title');
  rows.forEach((r, i) => {
    const where = `line ${i + 2}`;
    let title: string | undefined;
    let folder: string[] = [];
    let type: EntryType = 'credential';
    const fields: PlanField[] = [];
    for (const [col, val] of Object.entries(r)) {
      const to = role(col);
      if (to === 'skip') continue;
      if (to === 'title') title = val;
      else if (to === 'folder') folder = val.split('/').filter((s) => s);
      else if (to === 'type') {
        if ((ENTRY_TYPES as readonly string[]).includes(val)) type = val as EntryType;
        else if (val) b.unmapped.push(`${where}: type "${val}" is not a Clavitor entry type; imported as credential`);
      } else if (to === 'notes') fields.push(field('notes', val, 'note'));
      else if (to === 'totp') fields.push(totpField(b, where, val));
      else fields.push(field(to.startsWith('field:') ? to.slice(6) : to, val));
    }
    b.add(where, type, b.folder(folder), title, fields);
  });
  return b;
}

// ---- Clavitor ---------------------------------------------------------------------------------

/** The plan of a decrypted Clavitor export: every entry as it was, parents first. */
export function planOfClavitor(p: ExportPayload): ImportPlan {
  const ids = new Set(p.entries.map((e) => e.id));
  const unmapped: string[] = [];
  const items: PlanItem[] = p.entries.map((e) => {
    if (e.parent !== null && !ids.has(e.parent)) unmapped.push(`entry ${e.id}: parent ${e.parent} is not in the export; imported without a parent`);
    return { ref: e.id, type: e.type, parentRef: e.parent !== null && ids.has(e.parent) ? e.parent : null, title: e.title, fields: e.fields.map((f) => ({ ...f })), ...(e.tags && e.tags.length > 0 ? { tags: [...e.tags] } : {}) };
  });
  return { items: parentsFirst(items), unmapped };
}

/** `items` reordered so that every parent precedes its children (a cycle is broken and kept flat). */
export function parentsFirst(items: readonly PlanItem[]): PlanItem[] {
  const byRef = new Map(items.map((i) => [i.ref, i]));
  const out: PlanItem[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (i: PlanItem): void => {
    if (state.get(i.ref) === 'done') return;
    if (state.get(i.ref) === 'visiting') {
      i.parentRef = null;
      return;
    }
    state.set(i.ref, 'visiting');
    const parent = i.parentRef === null ? undefined : byRef.get(i.parentRef);
    if (parent) visit(parent);
    state.set(i.ref, 'done');
    out.push(i);
  };
  items.forEach(visit);
  return out;
}

/**
 * Reads `data` (the file's bytes) as `format`. `map`: the generic CSV's column mapping. The
 * `clavitor` format is not read here (it needs the passphrase; see export-file.ts).
 * @throws ClavitorError IMPORT_INVALID (CV-6040) naming the line or path of a malformed file.
 */
export function readImport(format: Exclude<ImportFormat, 'clavitor'>, data: Buffer, map: ReadonlyMap<string, string> = new Map()): ImportPlan {
  const text = (): string => data.toString('utf8');
  let plan: ImportPlan;
  switch (format) {
    case 'bitwarden-json': plan = bitwardenJson(text()); break;
    case 'bitwarden-csv': plan = bitwardenCsv(text()); break;
    case '1password-1pux': plan = onePassword1pux(data); break;
    case '1password-csv': plan = onePasswordCsv(text()); break;
    case 'keepassxc-xml': plan = keepassXml(text()); break;
    case 'keepass-csv': plan = keepassCsv(text()); break;
    case 'csv': plan = genericCsv(text(), map); break;
  }
  return { items: parentsFirst(plan.items), unmapped: plan.unmapped };
}
