/**
 * The Clavitor web vault (issue 15 item 1; docs/web.md): a single-page owner client of the client
 * API (docs/api.md), compiled by `npm run build` (web/tsconfig.json → dist/web/app.js) and served
 * by every POP at `/` (src/http/web.ts).
 *
 * Rules kept here:
 * - The owner token lives in this module's memory only (no cookie, no storage, no URL); it is
 *   dropped on sign-out, reload, a 401, or after IDLE_MS without activity.
 * - Every value is rendered with `textContent` / `value`, never as markup; no inline script or style
 *   (the CSP forbids both).
 * - Writes send `If-Match` and never retry over a 409: the conflict is shown, nothing is overwritten.
 * - A POP that refuses writes (503, X-Primary-Location; or `primary_location` of GET /api/quarantine)
 *   switches the page to read-only with a banner naming the primary; write buttons are disabled.
 * - Sealed fields are shown as sealed: their key is scrypt-derived (src/vault/sealed.ts) and
 *   WebCrypto has no scrypt, so they are opened with clavitor-cli, never here and never by the server.
 * - Import files are read by the POP (POST /api/import/parse), with the CLI's readers: one
 *   implementation, and a Clavitor export's scrypt key cannot be derived with WebCrypto. Its
 *   passphrase is therefore sent to the POP for that request (docs/web.md "Import: where the file
 *   is read, and why"); the box is cleared after each dry run. The import itself is one request
 *   (POST /api/import): all entries or none.
 */

/** Sign-out after this long without a click or key press, in milliseconds. */
const IDLE_MS = 15 * 60 * 1000;

interface Field { label: string; kind: string; tier: 'agent' | 'owner' | 'sealed'; value?: string; redacted?: boolean }
interface Entry { id: string; type: string; parent: string | null; title: string; version: number; created_at?: string; updated_at: string; fields?: Field[] }
interface Agent {
  agent_id: string; name: string; scopes: string[]; folders?: string[]; tags?: string[]; expires_at?: string | null; expired?: boolean;
  revoked: boolean; locked: boolean; limits: { per_minute: number; per_hour: number };
}

/** An agent's scope as the server states it (entries, folders, tags; docs/api.md `GET /api/agents`). */
function scopeText(a: Agent): string {
  const parts = [...a.scopes, ...(a.folders ?? []).map((f) => `folder:${f}`), ...(a.tags ?? []).map((t) => `tag:${t}`)];
  return parts.join(', ') || '(none)';
}
interface AuditRecord { id: number; at: string; actor: string; action: string; entry_id: string | null; outcome: string; code: string | null; ip: string | null; prev_hash: string; hash: string }
interface ApiResult { status: number; json: any; headers: Headers } // eslint-disable-line @typescript-eslint/no-explicit-any

const ENTRY_TYPES = ['credential', 'note', 'identity', 'card', 'ssh_key', 'totp', 'folder', 'any'];

let token = '';
let readOnly = false;
let lastActivity = performance.now();
let ticker: number | undefined;

const $ = (id: string): HTMLElement => {
  const e = document.getElementById(id);
  if (!e) throw new Error(`missing #${id}`);
  return e;
};

/** Creates an element with text content (never markup), attributes and children. */
function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Record<string, string | boolean | undefined> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === false) continue;
    if (k === 'text') e.textContent = String(v);
    else if (k === 'class') e.className = String(v);
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children) e.append(c);
  return e;
}

function button(text: string, onClick: () => void | Promise<void>, props: Record<string, string | boolean | undefined> = {}): HTMLButtonElement {
  const b = el('button', { type: 'button', text, ...props });
  if (b.classList.contains('write') && readOnly) b.disabled = true;
  b.addEventListener('click', () => { void onClick(); });
  return b;
}

function say(text: string, ok = false): void {
  const m = $('msg');
  m.textContent = text;
  m.className = ok ? 'ok' : '';
}

function errorText(r: ApiResult): string {
  const e = r.json && typeof r.json === 'object' ? r.json.error : undefined;
  return e && typeof e.code === 'string' ? `${e.code}: ${e.message}` : `HTTP ${r.status}`;
}

/** Shows the read-only banner and disables every write button. */
function setReadOnly(location: string | null): void {
  readOnly = true;
  const b = $('banner');
  b.replaceChildren();
  b.append('Read-only: this POP does not take writes now (it is a backup, or held back). ');
  if (location) {
    b.append('Writes go to the primary at ');
    b.append(el('a', { href: location, id: 'primary-link', text: location, rel: 'noreferrer' }));
    b.append('.');
  } else {
    b.append('This POP does not know where the primary is.');
  }
  b.hidden = false;
  for (const w of document.querySelectorAll<HTMLButtonElement>('button.write')) w.disabled = true;
}

/** Calls the client API with the owner token. A 401 signs out; a refused write goes read-only. */
async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResult> {
  const h: Record<string, string> = { authorization: `Bearer ${token}`, ...headers };
  if (body !== undefined) h['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers: h, cache: 'no-store', credentials: 'omit', ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  const text = await res.text();
  let json: unknown = null;
  try { json = text ? JSON.parse(text) : null; } catch { json = null; }
  const r = { status: res.status, json, headers: res.headers };
  if (res.status === 401) signOut(`Signed out: ${errorText(r)}`);
  if (res.status === 503 && method !== 'GET') setReadOnly(res.headers.get('x-primary-location'));
  return r;
}

function signOut(message = 'Signed out.'): void {
  token = '';
  if (ticker !== undefined) clearInterval(ticker);
  ticker = undefined;
  $('view').replaceChildren();
  $('view').hidden = true;
  $('nav').hidden = true;
  $('signin').hidden = false;
  say(message, message === 'Signed out.');
}

async function signIn(t: string): Promise<void> {
  token = t;
  const r = await call('GET', '/api/entries');
  if (r.status !== 200) {
    signOut(`Sign-in failed: ${errorText(r)}`);
    return;
  }
  // Where writes go when this POP refuses them (null on a POP that takes writes).
  const q = await call('GET', '/api/quarantine');
  if (q.status === 200 && typeof q.json?.primary_location === 'string') setReadOnly(q.json.primary_location);
  $('signin').hidden = true;
  $('nav').hidden = false;
  $('view').hidden = false;
  say('');
  if (location.hash === '' || location.hash === '#/entries') await route();
  else location.hash = '#/entries';
}

function stopTicker(): void {
  if (ticker !== undefined) clearInterval(ticker);
  ticker = undefined;
}

/** Renders the view named by the URL fragment (ids only; never a secret). */
async function route(): Promise<void> {
  if (!token) return;
  stopTicker();
  const [, page, id] = location.hash.split('/');
  const view = $('view');
  view.replaceChildren();
  try {
    if (page === 'entry' && id) await showEntry(id);
    else if (page === 'new') showEditor(null);
    else if (page === 'edit' && id) await editEntry(id);
    else if (page === 'history' && id) await showHistory(id);
    else if (page === 'agents') await showAgents();
    else if (page === 'audit') await showAudit();
    else if (page === 'trash') await showTrash();
    else if (page === 'import') showImport();
    else await showEntries();
  } catch (e) {
    say(`The POP could not be reached: ${(e as Error).message}`);
  }
}

// ---- entries -------------------------------------------------------------------------------

async function showEntries(): Promise<void> {
  const r = await call('GET', '/api/entries');
  if (r.status !== 200) return say(errorText(r));
  const entries = r.json.entries as Entry[];
  const view = $('view');
  const search = el('input', { id: 'search', type: 'search', placeholder: 'Search title or type', autocomplete: 'off' });
  const body = el('tbody', { id: 'entries' });
  const render = (): void => {
    const q = search.value.trim().toLowerCase();
    body.replaceChildren();
    for (const e of entries.filter((x) => !q || x.title.toLowerCase().includes(q) || x.type.includes(q))) {
      const open = el('a', { href: `#/entry/${encodeURIComponent(e.id)}`, text: e.title, class: 'entry-link' });
      body.append(el('tr', { 'data-id': e.id }, el('td', {}, open), el('td', { text: e.type }), el('td', { text: String(e.version) }), el('td', { text: new Date(e.updated_at).toLocaleString() })));
    }
  };
  search.addEventListener('input', render);
  view.append(
    el('h1', { text: 'Entries' }),
    el('div', { class: 'toolbar' }, search, button('New entry', () => { location.hash = '#/new'; }, { id: 'new-entry', class: 'write primary' }), el('span', { class: 'note', id: 'entry-count', text: `${entries.length} entries` })),
    el('table', {}, el('thead', {}, el('tr', {}, el('th', { text: 'Title' }), el('th', { text: 'Type' }), el('th', { text: 'Version' }), el('th', { text: 'Updated' }))), body),
  );
  render();
  search.focus();
}

function tierBadge(tier: string): HTMLElement {
  return el('span', { class: `tier tier-${tier}`, text: tier, title: tier === 'agent' ? 'agents in scope can read it' : tier === 'owner' ? 'only the owner can read it' : 'client-encrypted with the seal passphrase' });
}

/**
 * The value cell and the action cell of a field, as the entry page and the history page show it:
 * masked until **Reveal**, **Copy** to the clipboard; a sealed value is shown as sealed, never opened.
 */
function valueCells(f: Field): { valueCell: HTMLTableCellElement; actions: HTMLTableCellElement } {
  const valueCell = el('td', { class: 'mono' });
  const actions = el('td');
  if (f.tier === 'sealed') {
    valueCell.append(el('span', { class: 'sealed', text: 'sealed — open it with clavitor-cli (the seal passphrase never reaches the server or this page)' }));
  } else if (f.value !== undefined) {
    const value = f.value;
    const shown = el('span', { class: 'value', text: '••••••••' });
    valueCell.append(shown);
    let revealed = false;
    const reveal = button('Reveal', () => {
      revealed = !revealed;
      shown.textContent = revealed ? value : '••••••••';
      reveal.textContent = revealed ? 'Hide' : 'Reveal';
    }, { class: 'reveal' });
    const copy = button('Copy', async () => {
      try {
        await navigator.clipboard.writeText(value);
        say(`Copied “${f.label}” to the clipboard.`, true);
      } catch {
        say('The browser refused clipboard access.');
      }
    }, { class: 'copy' });
    actions.append(reveal, ' ', copy);
  }
  return { valueCell, actions };
}

async function showEntry(id: string): Promise<void> {
  const r = await call('GET', `/api/entries/${encodeURIComponent(id)}`);
  if (r.status !== 200) return say(errorText(r));
  const e = r.json as Entry;
  const view = $('view');
  const rows = el('tbody', { id: 'fields' });
  const totps: { label: string; code: HTMLElement; left: HTMLElement; seconds: number }[] = [];
  for (const f of e.fields ?? []) {
    const { valueCell, actions } = valueCells(f);
    if (f.tier !== 'sealed' && f.value !== undefined) {
      if (f.kind === 'totp') {
        const code = el('span', { class: 'totp', text: '······' });
        const left = el('span', { class: 'note totp-left' });
        valueCell.append(el('div', {}, 'Current code: ', code, ' ', left));
        totps.push({ label: f.label, code, left, seconds: 0 });
      }
    }
    rows.append(el('tr', { 'data-label': f.label }, el('td', { text: f.label }), el('td', { text: f.kind }), el('td', {}, tierBadge(f.tier)), valueCell, actions));
  }
  const del = button('Delete', () => {
    del.hidden = true;
    confirmDel.hidden = false;
  }, { id: 'delete', class: 'write danger' });
  const confirmDel = button('Really delete', async () => {
    const d = await call('DELETE', `/api/entries/${encodeURIComponent(id)}`, undefined, { 'if-match': `"${e.version}"` });
    if (d.status === 204) {
      say(`Deleted “${e.title}”.`, true);
      location.hash = '#/entries';
    } else say(errorText(d));
  }, { id: 'confirm-delete', class: 'write danger', hidden: true });
  view.append(
    el('h1', { id: 'entry-title', text: e.title }),
    el('p', { class: 'note', text: `${e.type} · version ${e.version} · updated ${new Date(e.updated_at).toLocaleString()}${e.parent ? ` · in ${e.parent}` : ''} · id ${e.id}` }),
    el('div', { class: 'toolbar' },
      button('Edit', () => { location.hash = `#/edit/${encodeURIComponent(id)}`; }, { id: 'edit', class: 'write' }),
      del, confirmDel,
      button('History', () => { location.hash = `#/history/${encodeURIComponent(id)}`; }, { id: 'history' }),
      button('Back', () => { location.hash = '#/entries'; })),
    el('table', {}, el('thead', {}, el('tr', {}, el('th', { text: 'Label' }), el('th', { text: 'Kind' }), el('th', { text: 'Tier' }), el('th', { text: 'Value' }), el('th', { text: '' }))), rows),
  );
  if (totps.length > 0) {
    const refresh = async (t: (typeof totps)[number]): Promise<void> => {
      const c = await call('GET', `/api/entries/${encodeURIComponent(id)}/totp?field=${encodeURIComponent(t.label)}`);
      if (c.status === 200) {
        t.code.textContent = c.json.code;
        t.seconds = c.json.seconds_left;
        t.left.textContent = `${t.seconds} s left`;
      } else t.code.textContent = errorText(c);
    };
    await Promise.all(totps.map(refresh));
    ticker = window.setInterval(() => {
      for (const t of totps) {
        t.seconds -= 1;
        if (t.seconds <= 0) void refresh(t);
        else t.left.textContent = `${t.seconds} s left`;
      }
    }, 1000);
  }
}

async function editEntry(id: string): Promise<void> {
  const r = await call('GET', `/api/entries/${encodeURIComponent(id)}`);
  if (r.status !== 200) return say(errorText(r));
  showEditor(r.json as Entry);
}

/** The create/edit form. Editing sends `If-Match` with the version read; a 409 is shown, not retried. */
function showEditor(entry: Entry | null): void {
  const view = $('view');
  const title = el('input', { id: 'f-title', value: entry?.title ?? '', required: true, maxlength: '1024' });
  const type = el('select', { id: 'f-type' });
  for (const t of ENTRY_TYPES) type.append(el('option', { value: t, text: t, selected: (entry?.type ?? 'credential') === t }));
  const parent = el('input', { id: 'f-parent', value: entry?.parent ?? '', placeholder: 'parent entry id (optional)' });
  const fields = el('tbody', { id: 'f-fields' });
  // Values are masked in the form too, until the owner asks to see them.
  const showValues = el('input', { id: 'show-values', type: 'checkbox' });
  showValues.addEventListener('change', () => {
    for (const v of fields.querySelectorAll<HTMLInputElement>('input.value')) v.type = showValues.checked ? 'text' : 'password';
  });
  const addRow = (f?: Field): void => {
    const sealed = f?.tier === 'sealed';
    const label = el('input', { class: 'label', value: f?.label ?? '', placeholder: 'label', readonly: sealed });
    const value = el('input', { class: 'value', value: f?.value ?? '', placeholder: 'value', readonly: sealed, type: showValues.checked ? 'text' : 'password', autocomplete: 'off' });
    const kind = el('input', { class: 'kind', value: f?.kind ?? 'text', placeholder: 'text or totp', readonly: sealed });
    const tier = el('select', { class: 'tier-select', disabled: sealed });
    for (const t of sealed ? ['sealed'] : ['owner', 'agent']) tier.append(el('option', { value: t, text: t, selected: (f?.tier ?? 'owner') === t }));
    const gen = button('Generate', async () => {
      const g = await call('GET', '/api/generate?length=24');
      if (g.status === 200) value.value = g.json.password;
      else say(errorText(g));
    }, { class: 'generate', disabled: sealed });
    const row: HTMLTableRowElement = el('tr', { class: 'field-row' }, el('td', {}, label), el('td', {}, value, ' ', gen), el('td', {}, kind), el('td', {}, tier), el('td', {}, button('Remove', (): void => row.remove())));
    fields.append(row);
  };
  for (const f of entry?.fields ?? []) addRow(f);
  if (!entry) addRow();
  const conflict = el('div', { id: 'conflict', class: 'conflict', hidden: true });
  const save = button(entry ? 'Save changes' : 'Create entry', async () => {
    const body = {
      type: type.value,
      parent: parent.value.trim() || null,
      title: title.value,
      fields: [...fields.querySelectorAll('tr')].map((tr) => ({
        label: (tr.querySelector('input.label') as HTMLInputElement).value,
        value: (tr.querySelector('input.value') as HTMLInputElement).value,
        kind: (tr.querySelector('input.kind') as HTMLInputElement).value || 'text',
        tier: (tr.querySelector('select.tier-select') as HTMLSelectElement).value,
      })).filter((f) => f.label !== '' || f.value !== ''),
    };
    const res = entry
      ? await call('PUT', `/api/entries/${encodeURIComponent(entry.id)}`, body, { 'if-match': `"${entry.version}"` })
      : await call('POST', '/api/entries', body);
    if (res.status === 409) {
      conflict.replaceChildren(
        el('strong', { text: 'Not saved: this entry was changed elsewhere. ' }),
        `You edited version ${entry?.version}; the vault now holds version ${res.json?.error?.current_version ?? '?'}. Nothing was overwritten. `,
        button('Open the current version', () => { location.hash = `#/entry/${encodeURIComponent(entry?.id ?? '')}`; }, { id: 'conflict-open' }),
      );
      conflict.hidden = false;
      return;
    }
    if (res.status !== 200 && res.status !== 201) return say(errorText(res));
    say(entry ? 'Saved.' : 'Created.', true);
    location.hash = `#/entry/${encodeURIComponent(res.json.id)}`;
  }, { id: 'save', class: 'write primary' });
  view.append(
    el('h1', { text: entry ? `Edit “${entry.title}” (version ${entry.version})` : 'New entry' }),
    el('p', {}, el('label', { text: 'Title ' }, title), ' ', el('label', { text: 'Type ' }, type), ' ', el('label', { text: 'Parent ' }, parent), ' ', el('label', {}, showValues, ' show values')),
    el('table', {}, el('thead', {}, el('tr', {}, el('th', { text: 'Label' }), el('th', { text: 'Value' }), el('th', { text: 'Kind' }), el('th', { text: 'Tier' }), el('th', { text: '' }))), fields),
    el('p', { class: 'note', text: 'Kind "totp": an otpauth:// URI or a base32 secret. Tier "agent": agents in scope can read it; "owner": only you. Sealed fields are created and opened with clavitor-cli; here they are kept unchanged.' }),
    el('div', { class: 'toolbar' }, button('Add field', () => addRow(), { id: 'add-field' }), save, button('Cancel', () => { location.hash = entry ? `#/entry/${encodeURIComponent(entry.id)}` : '#/entries'; })),
    conflict,
  );
}

// ---- history, trash, import (issue 15 items 2 and 4) --------------------------------------

interface Revision { seq: number; kind: string; epoch: number; origin_pop: string; created_at: string; entry?: { type: string; parent: string | null; title: string; fields: Field[] } }
interface TrashItem { id: string; type: string; parent: string | null; title: string; version: number; last_version: number; deleted_at: string }

/**
 * Revisions of an entry (deleted ones too), newest first, each `entry.put` with the values it
 * stored: masked until Reveal, Copy like the entry page. **Restore this version** writes a new
 * revision equal to it — the route of `clavitor-cli restore ID --version N` (POST
 * /api/entries/{id}/restore `{"version":N}`), with `If-Match` the current version, so a change made
 * meanwhile is shown as a conflict, never overwritten.
 */
async function showHistory(id: string): Promise<void> {
  const r = await call('GET', `/api/entries/${encodeURIComponent(id)}/revisions`);
  if (r.status !== 200) return say(errorText(r));
  const revs = r.json.revisions as Revision[];
  const current = revs.at(-1);
  const deleted = current?.kind === 'entry.delete';
  const list = el('div', { id: 'revisions' });
  for (const rev of [...revs].reverse()) {
    const head = el('h2', { text: `Version ${rev.seq}${rev === current ? ' (current)' : ''}` });
    const meta = el('p', { class: 'note', text: `${rev.kind === 'entry.delete' ? 'deleted' : rev.kind} · ${new Date(rev.created_at).toLocaleString()} · written by ${rev.origin_pop} in epoch ${rev.epoch}` });
    const box = el('section', { class: 'revision', 'data-seq': String(rev.seq) }, head, meta);
    if (rev.entry) {
      const rows = el('tbody');
      for (const f of rev.entry.fields) {
        const { valueCell, actions } = valueCells(f);
        rows.append(el('tr', { 'data-label': f.label }, el('td', { text: f.label }), el('td', { text: f.kind }), el('td', {}, tierBadge(f.tier)), valueCell, actions));
      }
      box.append(el('p', {}, el('strong', { class: 'rev-title', text: rev.entry.title }), ` · ${rev.entry.type}${rev.entry.parent ? ` · in ${rev.entry.parent}` : ''}`),
        el('table', {}, el('thead', {}, el('tr', {}, el('th', { text: 'Label' }), el('th', { text: 'Kind' }), el('th', { text: 'Tier' }), el('th', { text: 'Value' }), el('th', { text: '' }))), rows));
      if (rev !== current) {
        box.append(button('Restore this version', async () => {
          const res = await call('POST', `/api/entries/${encodeURIComponent(id)}/restore`, { version: rev.seq }, current ? { 'if-match': `"${current.seq}"` } : {});
          if (res.status === 409) return say(`Not restored: ${errorText(res)} (the entry changed since this page was loaded; nothing was overwritten). Reload the history.`);
          if (res.status !== 200) return say(errorText(res));
          say(`Restored version ${rev.seq} as version ${res.json.version}.`, true);
          location.hash = `#/entry/${encodeURIComponent(id)}`;
        }, { class: 'write restore' }));
      }
    }
    list.append(box);
  }
  $('view').append(
    el('h1', { id: 'history-title', text: `History${deleted ? ' (deleted entry)' : ''}` }),
    el('p', { class: 'note', text: `Entry ${id}: ${revs.length} revisions, newest first. Restoring writes a new version equal to the old one; nothing is erased.${deleted ? ' The entry is in the trash: restoring a version also brings it back.' : ''}` }),
    el('div', { class: 'toolbar' }, button('Back', () => { location.hash = deleted ? '#/trash' : `#/entry/${encodeURIComponent(id)}`; })),
    list,
  );
}

/** Deleted entries, newest deletion first: **Undelete** (POST /api/entries/{id}/restore `{}` with If-Match) and **History**. */
async function showTrash(): Promise<void> {
  const r = await call('GET', '/api/trash');
  if (r.status !== 200) return say(errorText(r));
  const items = r.json.trash as TrashItem[];
  const body = el('tbody', { id: 'trash' });
  for (const t of items) {
    const undelete = button('Undelete', async () => {
      const res = await call('POST', `/api/entries/${encodeURIComponent(t.id)}/restore`, {}, { 'if-match': `"${t.version}"` });
      if (res.status !== 200) return say(errorText(res));
      say(`Undeleted “${t.title}” (version ${res.json.version}).`, true);
      location.hash = `#/entry/${encodeURIComponent(t.id)}`;
    }, { class: 'write undelete' });
    const history = button('History', () => { location.hash = `#/history/${encodeURIComponent(t.id)}`; }, { class: 'history' });
    body.append(el('tr', { 'data-id': t.id }, el('td', { text: t.title }), el('td', { text: t.type }), el('td', { text: new Date(t.deleted_at).toLocaleString() }), el('td', { text: String(t.last_version) }), el('td', {}, undelete, ' ', history)));
  }
  $('view').append(
    el('h1', { text: 'Trash' }),
    el('p', { class: 'note', id: 'trash-count', text: items.length === 0 ? 'The trash is empty.' : `${items.length} deleted ${items.length === 1 ? 'entry' : 'entries'}. Undelete brings an entry back as it was before the deletion (a new version); History shows every old version with its values.` }),
    el('table', {}, el('thead', {}, el('tr', {}, el('th', { text: 'Title' }), el('th', { text: 'Type' }), el('th', { text: 'Deleted' }), el('th', { text: 'Last version' }), el('th', { text: '' }))), body),
  );
}

const IMPORT_FORMATS: [string, string][] = [
  ['bitwarden-json', 'Bitwarden JSON (unencrypted)'], ['bitwarden-csv', 'Bitwarden CSV'], ['1password-1pux', '1Password 1PUX'], ['1password-csv', '1Password CSV'],
  ['keepassxc-xml', 'KeePassXC XML'], ['keepass-csv', 'KeePassXC CSV'], ['csv', 'Generic CSV (with a column mapping)'], ['clavitor', 'Clavitor export (encrypted, with its passphrase)'],
];

/** Base64 of a file's bytes, in chunks (no stack overflow on large files). */
function base64Of(bytes: Uint8Array): string {
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}

interface ImportEntry { ref: string; parent_ref: string | null; type: string; title: string; fields: { label: string; kind: string; tier: string; value: string }[]; tags?: string[] }

/**
 * Import (issue 15 item 2): the file is read by the server with the CLI's readers (POST
 * /api/import/parse; writes nothing), every entry is checked (POST /api/import with dry_run), and
 * the dry run is shown — titles, folders, field labels and kinds, never a value — with what could
 * not be mapped. **Import N entries** sends them all in one request (POST /api/import), written in
 * one transaction or not at all.
 */
function showImport(): void {
  const format = el('select', { id: 'i-format' });
  for (const [v, label] of IMPORT_FORMATS) format.append(el('option', { value: v, text: label }));
  const file = el('input', { id: 'i-file', type: 'file' });
  const map = el('textarea', { id: 'i-map', rows: '3', cols: '40', placeholder: 'one COLUMN=FIELD a line, e.g. Service=title (FIELD: title, folder, type, notes, totp, skip, or a field label)' });
  const pass = el('input', { id: 'i-pass', type: 'password', autocomplete: 'off', placeholder: 'export passphrase' });
  const mapRow = el('p', { id: 'i-map-row', hidden: true }, el('label', { text: 'Column mapping (optional) ' }), map);
  const passRow = el('p', { id: 'i-pass-row', hidden: true }, el('label', { text: 'Passphrase ' }, pass), ' ',
    el('span', { class: 'note', text: 'Sent to this POP for this request only, to decrypt the file; never stored or logged. To keep it off the server, use clavitor-cli import --from clavitor.' }));
  format.addEventListener('change', () => {
    mapRow.hidden = format.value !== 'csv';
    passRow.hidden = format.value !== 'clavitor';
  });
  const result = el('div', { id: 'i-result' });
  let planned: ImportEntry[] = [];
  const run = button('Import', async () => {
    const res = await call('POST', '/api/import', { entries: planned });
    if (res.status !== 201) return say(`Nothing was imported: ${errorText(res)}`);
    result.replaceChildren(el('p', { id: 'i-done', class: 'ok', text: `Imported ${res.json.created.length} entries.` }), el('a', { href: '#/entries', text: 'Open the entries' }));
    run.hidden = true;
    say('');
  }, { id: 'i-run', class: 'write primary', hidden: true });
  const dry = button('Dry run', async () => {
    run.hidden = true;
    result.replaceChildren();
    const f = file.files?.[0];
    if (!f) return say('Choose a file first.');
    const body: Record<string, unknown> = { format: format.value, data: base64Of(new Uint8Array(await f.arrayBuffer())) };
    if (format.value === 'csv' && map.value.trim()) {
      const m: Record<string, string> = {};
      for (const line of map.value.split('\n').map((l) => l.trim()).filter(Boolean)) {
        const at = line.lastIndexOf('=');
        if (at <= 0 || at === line.length - 1) return say(`Column mapping: "${line}" is not COLUMN=FIELD.`);
        m[line.slice(0, at)] = line.slice(at + 1);
      }
      body.map = m;
    }
    if (format.value === 'clavitor') body.passphrase = pass.value;
    const parsed = await call('POST', '/api/import/parse', body);
    pass.value = '';
    if (parsed.status !== 200) return say(errorText(parsed));
    planned = parsed.json.entries as ImportEntry[];
    const unmapped = parsed.json.unmapped as string[];
    const checked = planned.length > 0 ? await call('POST', '/api/import', { entries: planned, dry_run: true }) : undefined;
    const titles = new Map(planned.map((e) => [e.ref, e.title]));
    const rows = el('tbody', { id: 'i-plan' });
    for (const e of planned) {
      rows.append(el('tr', {}, el('td', { text: e.type }), el('td', { text: e.title }), el('td', { text: e.parent_ref ? titles.get(e.parent_ref) ?? '' : '' }),
        el('td', { class: 'mono', text: e.fields.map((x) => `${x.label}${x.kind === 'totp' ? ' [totp]' : ''}`).join(', ') })));
    }
    const refused = checked && checked.status !== 200;
    result.replaceChildren(
      el('h2', { text: 'Dry run' }),
      el('p', { id: 'i-summary', class: refused ? 'bad' : '', text: refused ? `The POP would refuse this file, so nothing can be imported: ${errorText(checked)}` : `Would create ${planned.length} entries; nothing was written yet.` }),
      el('table', {}, el('thead', {}, el('tr', {}, el('th', { text: 'Type' }), el('th', { text: 'Title' }), el('th', { text: 'In folder' }), el('th', { text: 'Fields (no values shown)' }))), rows),
      ...(unmapped.length > 0 ? [el('h2', { text: `Not mapped (${unmapped.length})` }), el('ul', { id: 'i-unmapped' }, ...unmapped.map((u) => el('li', { text: u })))] : []),
    );
    if (!refused && planned.length > 0) {
      run.textContent = `Import ${planned.length} entries`;
      run.hidden = false;
      run.disabled = readOnly;
    }
    say('');
  }, { id: 'i-dry', class: 'write' });
  $('view').append(
    el('h1', { text: 'Import' }),
    el('p', { class: 'note', text: 'Folders become parent entries, TOTP secrets totp fields, custom fields keep their labels; every field lands in the owner tier. The import is all or nothing: if the POP refuses one entry, none is created.' }),
    el('p', {}, el('label', { text: 'Format ' }, format), ' ', el('label', { text: 'File ' }, file)),
    mapRow, passRow,
    el('div', { class: 'toolbar' }, dry, run),
    result,
  );
}

// ---- agents --------------------------------------------------------------------------------

async function showAgents(): Promise<void> {
  const r = await call('GET', '/api/agents');
  if (r.status !== 200) return say(errorText(r));
  const agents = r.json.agents as Agent[];
  const body = el('tbody', { id: 'agents' });
  for (const a of agents) {
    const state = a.revoked ? 'revoked' : a.expired ? `expired (${a.expires_at ?? ''})` : a.locked ? 'locked (rate-limit lockdown)' : a.expires_at ? `active until ${a.expires_at}` : 'active';
    const acts = el('td');
    if (!a.revoked) {
      acts.append(button('Revoke', async () => {
        const d = await call('DELETE', `/api/agents/${encodeURIComponent(a.agent_id)}`);
        if (d.status === 204) { say(`Revoked ${a.name}.`, true); await route(); } else say(errorText(d));
      }, { class: 'write danger revoke' }));
    }
    if (a.locked && !a.revoked) {
      acts.append(' ', button('Unlock', async () => {
        const u = await call('POST', `/api/agents/${encodeURIComponent(a.agent_id)}/unlock`);
        if (u.status === 200) { say(`Unlocked ${a.name}.`, true); await route(); } else say(errorText(u));
      }, { class: 'write unlock' }));
    }
    body.append(el('tr', { 'data-id': a.agent_id }, el('td', { text: a.name }), el('td', { class: 'mono', text: a.agent_id }), el('td', { class: 'mono', text: scopeText(a) }),
      el('td', { text: `${a.limits.per_minute}/min, ${a.limits.per_hour}/h` }), el('td', { class: a.locked || a.revoked || a.expired ? 'bad state' : 'ok state', text: state }), acts));
  }
  const name = el('input', { id: 'a-name', placeholder: 'agent name' });
  const scopes = el('input', { id: 'a-scopes', placeholder: 'entry ids, comma-separated', class: 'value' });
  const perMin = el('input', { id: 'a-min', type: 'number', min: '1', value: '3' });
  const perHour = el('input', { id: 'a-hour', type: 'number', min: '1', value: '10' });
  const once = el('div', { id: 'agent-token', class: 'secret-once', hidden: true });
  $('view').append(
    el('h1', { text: 'Agents' }),
    el('table', {}, el('thead', {}, el('tr', {}, el('th', { text: 'Name' }), el('th', { text: 'Id' }), el('th', { text: 'Scopes (entry ids)' }), el('th', { text: 'Rate limit (distinct entries)' }), el('th', { text: 'State' }), el('th', { text: '' }))), body),
    el('p', { class: 'note', text: 'An agent that breaches its rate limit twice within 2 hours is locked until you unlock it; breaches are in the audit trail (agent.rate_limit, agent.lockdown). This page sets scopes and limits at creation; to change the scope (entries, folders, tags) or the expiry of an agent, use clavitor-cli agent update (PATCH /api/agents/{id}).' }),
    el('h2', { text: 'New agent' }),
    el('div', { class: 'toolbar' }, name, scopes, el('label', { text: 'per minute ' }, perMin), el('label', { text: 'per hour ' }, perHour),
      button('Create agent', async () => {
        const body = { name: name.value, scopes: scopes.value.split(',').map((s) => s.trim()).filter(Boolean), limits: { per_minute: Number(perMin.value), per_hour: Number(perHour.value) } };
        const c = await call('POST', '/api/agents', body);
        if (c.status !== 201) return say(errorText(c));
        await route();
        const box = $('agent-token');
        box.replaceChildren(el('strong', { text: 'Agent token, shown only this once: ' }), el('code', { id: 'agent-token-value', text: c.json.token }));
        box.hidden = false;
      }, { id: 'create-agent', class: 'write primary' })),
    once,
  );
}

// ---- audit ---------------------------------------------------------------------------------

async function sha256Hex(text: string): Promise<string> {
  const d = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

async function allAudit(): Promise<AuditRecord[] | ApiResult> {
  const out: AuditRecord[] = [];
  for (let after = 0; ;) {
    const r = await call('GET', `/api/audit?after=${after}&limit=1000`);
    if (r.status !== 200) return r;
    out.push(...(r.json.records as AuditRecord[]));
    if (r.json.next_after === null || r.json.records.length === 0) return out;
    after = r.json.next_after;
  }
}

/** Recomputes the chain as docs/api.md states it: hash = SHA-256 hex of [prev_hash, at, actor, action, entry_id, outcome, code, ip]. */
async function verifyChain(records: AuditRecord[]): Promise<string | null> {
  let prev = '0'.repeat(64);
  for (const r of records) {
    if (r.prev_hash !== prev) return `record ${r.id}: its prev_hash does not name the record before it (a record was removed or reordered)`;
    if ((await sha256Hex(JSON.stringify([r.prev_hash, r.at, r.actor, r.action, r.entry_id, r.outcome, r.code, r.ip]))) !== r.hash) return `record ${r.id}: its contents no longer match its hash (the record was edited)`;
    prev = r.hash;
  }
  return null;
}

async function showAudit(): Promise<void> {
  const got = await allAudit();
  if (!Array.isArray(got)) return say(errorText(got));
  const body = el('tbody', { id: 'audit' });
  for (const r of got.slice(-500).reverse()) {
    body.append(el('tr', {}, el('td', { text: String(r.id) }), el('td', { text: new Date(r.at).toLocaleString() }), el('td', { class: 'mono', text: r.actor }), el('td', { text: r.action }),
      el('td', { class: 'mono', text: r.entry_id ?? '' }), el('td', { class: r.outcome === 'ok' ? 'ok' : 'bad', text: r.outcome + (r.code ? ` ${r.code}` : '') }), el('td', { class: 'mono', text: r.ip ?? '' })));
  }
  const result = el('span', { id: 'verify-result' });
  $('view').append(
    el('h1', { text: 'Audit trail' }),
    el('p', { class: 'note', text: `${got.length} records on this POP (audit records are local to the POP that served each action; newest first, at most 500 shown).` }),
    el('div', { class: 'toolbar' }, button('Verify chain', async () => {
      result.textContent = 'verifying…';
      const again = await allAudit();
      if (!Array.isArray(again)) { result.textContent = errorText(again); return; }
      const broken = await verifyChain(again);
      result.className = broken ? 'bad' : 'ok';
      result.textContent = broken ? `Chain broken at ${broken}` : `Chain verified: ${again.length} records, newest hash ${again.at(-1)?.hash.slice(0, 16) ?? '-'}…`;
    }, { id: 'verify' }), result),
    el('table', {}, el('thead', {}, el('tr', {}, el('th', { text: 'Id' }), el('th', { text: 'At' }), el('th', { text: 'Actor' }), el('th', { text: 'Action' }), el('th', { text: 'Entry / agent' }), el('th', { text: 'Outcome' }), el('th', { text: 'Source' }))), body),
  );
}

// ---- start ---------------------------------------------------------------------------------

$('signin-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const input = $('token') as HTMLInputElement;
  const t = input.value.trim();
  input.value = '';
  void signIn(t);
});
$('signout').addEventListener('click', () => signOut());
window.addEventListener('hashchange', () => { void route(); });
for (const ev of ['click', 'keydown']) document.addEventListener(ev, () => { lastActivity = performance.now(); });
window.setInterval(() => {
  if (token && performance.now() - lastActivity > IDLE_MS) signOut('Signed out after 15 minutes without activity.');
}, 10_000);
