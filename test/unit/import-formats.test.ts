/**
 * Issue 15 item 2: each import format's reader turns a small realistic export (written for the
 * tests, test/fixtures/import/, no real data) into the entries docs/cli.md "import" promises:
 * folders become parents, TOTP secrets totp fields, custom fields keep their labels, and what
 * cannot be mapped is reported. A malformed file is refused with CV-6040 naming the line or path.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { zipSync, strToU8 } from 'fflate';
import { readImport, type ImportFormat, type ImportPlan, type PlanItem } from '../../src/vault/import-formats.js';
import { ClavitorError } from '../../src/lib/errors.js';

const FIX = join(import.meta.dirname, '../fixtures/import');
const read = (format: Exclude<ImportFormat, 'clavitor'>, file: string, map?: Map<string, string>): ImportPlan => readImport(format, readFileSync(join(FIX, file)), map);
const byTitle = (p: ImportPlan, title: string): PlanItem => {
  const it = p.items.find((i) => i.title === title);
  assert.ok(it, `an entry titled ${title}`);
  return it;
};
const value = (it: PlanItem, label: string): string | undefined => it.fields.find((f) => f.label === label)?.value;
const kind = (it: PlanItem, label: string): string | undefined => it.fields.find((f) => f.label === label)?.kind;
/** The titles of the folders above `it`, outermost first. */
const folderPath = (p: ImportPlan, it: PlanItem): string[] => {
  const out: string[] = [];
  for (let cur = it.parentRef; cur !== null;) {
    const f = p.items.find((i) => i.ref === cur)!;
    assert.equal(f.type, 'folder');
    out.unshift(f.title);
    cur = f.parentRef;
  }
  return out;
};
/** Every parent comes before its children, and every field is in the owner tier. */
const wellFormed = (p: ImportPlan): void => {
  assert.ok(p.items.length > 0);
  p.items.forEach((it, i) => {
    if (it.parentRef !== null) assert.ok(p.items.findIndex((x) => x.ref === it.parentRef) < i, `${it.title}: parent first`);
    assert.ok(it.fields.every((f) => f.tier === 'owner'));
  });
};
const refused = (fn: () => unknown, pattern: RegExp): void => {
  assert.throws(fn, (e: unknown) => e instanceof ClavitorError && e.code === 'CV-6040' && pattern.test(e.message));
};

test('bitwarden-json: folders, login with totp and URLs, custom fields, card; Steam code and linked field reported', () => {
  const p = read('bitwarden-json', 'bitwarden.json');
  wellFormed(p);
  const gh = byTitle(p, 'GitHub (example)');
  assert.deepEqual(folderPath(p, gh), ['Work']);
  assert.equal(value(gh, 'username'), 'octo-example');
  assert.equal(value(gh, 'password'), 'correct-horse-example');
  assert.equal(kind(gh, 'totp'), 'totp');
  assert.deepEqual([value(gh, 'url'), value(gh, 'url 2')], ['https://github.com/login', 'https://github.example.org']);
  assert.equal(value(gh, 'recovery email'), 'octo@example.com');
  assert.equal(kind(gh, 'PIN'), 'hidden');
  assert.equal(value(gh, 'notes'), 'work account, example data');
  const card = byTitle(p, 'Example Visa');
  assert.equal(card.type, 'card');
  assert.deepEqual(folderPath(p, card), ['Personal']);
  assert.equal(value(card, 'number'), '4111111111111111');
  assert.equal(byTitle(p, 'Wi-Fi at home').type, 'note');
  assert.equal(kind(byTitle(p, 'Steam (example)'), 'totp'), 'text');
  assert.ok(p.unmapped.some((u) => u.includes('items[3]') && u.includes('totp')));
  assert.ok(p.unmapped.some((u) => u.includes('linked field')));
  assert.ok(p.unmapped.some((u) => u.includes('password history')));
});

test('bitwarden-csv: folder column, fields cell split into labelled fields, several URIs', () => {
  const p = read('bitwarden-csv', 'bitwarden.csv');
  wellFormed(p);
  const gh = byTitle(p, 'GitHub (example)');
  assert.deepEqual(folderPath(p, gh), ['Work']);
  assert.equal(kind(gh, 'totp'), 'totp');
  assert.equal(value(gh, 'PIN'), '0000');
  assert.equal(value(gh, 'recovery email'), 'octo@example.com');
  assert.deepEqual([value(byTitle(p, 'Mail (example)'), 'url'), value(byTitle(p, 'Mail (example)'), 'url 2')], ['https://mail.example.com', 'https://webmail.example.com']);
  assert.equal(byTitle(p, 'Wi-Fi at home').type, 'note');
});

test('1password-1pux: vaults become folders, section fields keep their titles, archived and file fields reported', () => {
  const p = read('1password-1pux', '1password.1pux');
  wellFormed(p);
  const gh = byTitle(p, 'GitHub (example)');
  assert.deepEqual(folderPath(p, gh), ['Private']);
  assert.equal(value(gh, 'username'), 'octo-example');
  assert.equal(value(gh, 'password'), 'correct-horse-example');
  assert.equal(kind(gh, 'totp'), 'totp');
  assert.equal(value(gh, 'recovery codes'), '1111-2222 3333-4444');
  assert.equal(value(gh, 'backup email'), 'octo@example.com');
  assert.deepEqual(folderPath(p, byTitle(p, 'Printer admin (example)')), ['Shared']);
  assert.ok(!p.items.some((i) => i.title === 'Old forum (example)'));
  assert.ok(p.unmapped.some((u) => u.includes('archived')));
  assert.ok(p.unmapped.some((u) => u.includes('"scan"')));
});

test('1password-csv: OTPAuth becomes a totp field, other columns keep their names', () => {
  const p = read('1password-csv', '1password.csv');
  wellFormed(p);
  const gh = byTitle(p, 'GitHub (example)');
  assert.equal(kind(gh, 'totp'), 'totp');
  assert.equal(value(gh, 'Tags'), 'work');
  assert.equal(value(byTitle(p, 'Mail (example)'), 'notes'), 'two\nlines');
});

test('keepassxc-xml: nested groups become nested folders, otp a totp field, the Recycle Bin and attachments reported', () => {
  const p = read('keepassxc-xml', 'keepassxc.xml');
  wellFormed(p);
  const db = byTitle(p, 'db-01 (example)');
  assert.deepEqual(folderPath(p, db), ['Work', 'Servers']);
  assert.equal(kind(db, 'totp'), 'totp');
  assert.equal(value(db, 'port'), '5432');
  assert.equal(kind(db, 'api key'), 'hidden');
  assert.deepEqual(folderPath(p, byTitle(p, 'Router (example)')), []);
  assert.ok(!p.items.some((i) => i.title === 'deleted (example)'));
  assert.ok(p.unmapped.some((u) => u.includes('Recycle Bin')));
  assert.ok(p.unmapped.some((u) => u.includes('attachments')));
});

test('keepass-csv: group paths below the root become folders', () => {
  const p = read('keepass-csv', 'keepassxc.csv');
  wellFormed(p);
  const db = byTitle(p, 'db-01 (example)');
  assert.deepEqual(folderPath(p, db), ['Work', 'Servers']);
  assert.equal(kind(db, 'totp'), 'totp');
  assert.equal(value(db, 'notes'), 'primary "db"');
  assert.ok(!p.items.some((i) => i.title === 'deleted (example)'));
});

test('csv with --map: the mapping names title, folder path, totp and field labels', () => {
  const map = new Map([['Service', 'title'], ['Category', 'folder'], ['2FA', 'totp'], ['Login', 'username'], ['Secret', 'password']]);
  const p = read('csv', 'generic.csv', map);
  wellFormed(p);
  const heroku = byTitle(p, 'Heroku (example)');
  assert.deepEqual(folderPath(p, heroku), ['Cloud', 'PaaS']);
  const aws = byTitle(p, 'AWS root (example)');
  assert.equal(kind(aws, 'totp'), 'totp');
  assert.equal(value(aws, 'username'), 'root@example.com');
  assert.equal(value(aws, 'Comment'), 'break-glass only');
  refused(() => read('csv', 'generic.csv'), /no title column/);
  refused(() => read('csv', 'generic.csv', new Map([['Nope', 'title']])), /"Nope"/);
});

test('malformed files are refused with CV-6040 naming the line or path', () => {
  refused(() => readImport('bitwarden-json', Buffer.from('{\n  "items": [\n    { "type": 1,, }\n  ]\n}')), /line 3/);
  refused(() => readImport('bitwarden-json', Buffer.from('{"items":[{"type":9,"name":"x"}]}')), /items\[0\]\.type/);
  refused(() => readImport('bitwarden-json', Buffer.from('{"encrypted":true,"items":[]}')), /encrypted/);
  refused(() => readImport('bitwarden-csv', Buffer.from('folder,type,name\nWork,login,"unclosed\n')), /line/);
  refused(() => readImport('keepassxc-xml', Buffer.from('<KeePassFile>\n<Root>\n<Group><Name>x</Name></Root>\n</KeePassFile>')), /line 3, column 22/);
  refused(() => readImport('keepass-csv', Buffer.from('"Group","Title"\n"Root","a","extra"\n')), /line 2/);
  refused(() => readImport('1password-1pux', Buffer.from('not a zip')), /zip/);
  refused(() => readImport('1password-1pux', Buffer.from(zipSync({ 'export.attributes': strToU8('{}') }))), /export\.data/);
  refused(() => readImport('1password-1pux', Buffer.from(zipSync({ 'export.data': strToU8('{"accounts": [ {"vaults": 3} ]}') }))), /accounts\[0\]\.vaults/);
});
