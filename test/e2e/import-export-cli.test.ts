/**
 * Issue 15 items 2 and 3, end to end with `clavitor-cli` against a real community server:
 * export to the encrypted Clavitor file (mode 0600, never overwritten) and import it into another
 * vault losslessly (types, titles, parents, tags, fields with their tiers and kinds, TOTP, sealed values
 * still sealed); a wrong passphrase imports nothing; the Bitwarden JSON export is read back by the
 * bitwarden-json importer; a dry run writes nothing; a malformed file is refused naming its line
 * and leaves the vault as it was.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { api, BIN, createVault, ServerProc, tempDir } from '../kit/pop.js';
import { freePort } from '../kit/ports.js';
import { runCli, type CliResult } from '../kit/cli.js';

type Field = { label: string; value: string; kind: string; tier: string };
type Entry = { id: string; type: string; parent: string | null; title: string; tags: string[]; fields: Field[] };

const FIX = join(import.meta.dirname, '../fixtures/import');

test('export → import is lossless; bitwarden export reads back; dry run and malformed files write nothing', async (t) => {
  const tmp = tempDir('clavitor-transfer-');
  const port = await freePort();
  const srv = new ServerProc('community', BIN.community, ['serve', '--data', join(tmp.dir, 'data'), '--listen', `127.0.0.1:${port}`], port, join(tmp.dir, 'data'));
  t.after(async () => {
    await srv.kill();
    tmp.cleanup();
  });
  await srv.start();
  const U = srv.url;
  const a = await createVault(U, srv.adminToken());
  const b = await createVault(U, srv.adminToken());
  const sealKey = join(tmp.dir, 'seal.key');
  writeFileSync(sealKey, 'a seal passphrase of enough length\n', { mode: 0o600 });
  const pass = join(tmp.dir, 'export.pass');
  writeFileSync(pass, 'export passphrase 42\n', { mode: 0o600 });
  const badPass = join(tmp.dir, 'bad.pass');
  writeFileSync(badPass, 'not the passphrase\n', { mode: 0o600 });
  const cli = (token: string, ...args: string[]) => runCli(['--server', U, ...args], { env: { CLAVITOR_TOKEN: token, XDG_CONFIG_HOME: tmp.dir } });
  const ok = (r: CliResult): string => {
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  };
  /** Every live entry of a vault with its values, in a form that does not depend on ids. */
  const snapshot = async (token: string) => {
    const list = await api(U, 'GET', '/api/entries', { token });
    const full: Entry[] = [];
    for (const e of list.json.entries as { id: string }[]) full.push((await api(U, 'GET', `/api/entries/${e.id}`, { token })).json as Entry);
    const titleOf = new Map(full.map((e) => [e.id, e.title]));
    return full.map((e) => ({ type: e.type, title: e.title, parent: e.parent === null ? null : titleOf.get(e.parent), tags: [...e.tags].sort(), fields: e.fields.map((f) => [f.label, f.kind, f.tier, f.value]) }))
      .sort((x, y) => x.title.localeCompare(y.title));
  };

  // Vault A: a folder tree, every tier, a TOTP field and a sealed value.
  const work = ok(await cli(a.owner, 'put', '--title', 'Work', '--type', 'folder')).trim();
  const servers = ok(await cli(a.owner, 'put', '--title', 'Servers', '--type', 'folder', '--parent', work)).trim();
  ok(await cli(a.owner, '--seal-key-file', sealKey, 'put', '--title', 'db-01', '--parent', servers, '--agent-field', 'user=postgres', '--field', 'password=db-pw',
    '--sealed-field', 'root=sealed-root-pw', '--field', 'otp=JBSWY3DPEHPK3PXP', '--kind', 'otp=totp'));
  // Tags too: they decide tag scopes, so an export that dropped them would change what agents read.
  ok(await cli(a.owner, 'put', '--title', 'note at top', '--type', 'note', '--field', 'notes=line one', '--tag', 'ops', '--tag', 'ci'));
  const before = await snapshot(a.owner);
  assert.equal(before.length, 4);
  assert.deepEqual(before.find((e) => e.title === 'note at top')!.tags, ['ci', 'ops']);

  // Encrypted export: 0600, not overwritten, no plaintext in the file.
  const file = join(tmp.dir, 'vault.cvx');
  ok(await cli(a.owner, 'export', '--out', file, '--passphrase-file', pass));
  assert.equal(statSync(file).mode & 0o777, 0o600);
  const again = await cli(a.owner, 'export', '--out', file, '--passphrase-file', pass);
  assert.equal(again.code, 6, again.stderr);
  assert.match(again.stderr, /CV-6042/);
  const raw = readFileSync(file, 'utf8');
  assert.ok(!raw.includes('db-pw') && !raw.includes('postgres') && !raw.includes('db-01'));
  assert.equal(JSON.parse(raw).kdf.name, 'scrypt');

  // Wrong passphrase: refused, nothing imported into B.
  const wrong = await cli(b.owner, 'import', '--from', 'clavitor', file, '--passphrase-file', badPass);
  assert.equal(wrong.code, 6, wrong.stderr);
  assert.match(wrong.stderr, /CV-6041/);
  assert.equal((await snapshot(b.owner)).length, 0);

  // Import into B: identical content (the sealed value is the same client ciphertext).
  ok(await cli(b.owner, 'import', '--from', 'clavitor', file, '--passphrase-file', pass));
  assert.deepEqual(await snapshot(b.owner), before);
  const sealedInB = (await snapshot(b.owner)).find((e) => e.title === 'db-01')!.fields.find((f) => f[0] === 'root')!;
  assert.match(String(sealedInB[3]), /^cs1\./, 'still sealed');

  // Bitwarden JSON export (sealed values opened with the seal key), read back by the importer.
  const bw = join(tmp.dir, 'bitwarden.json');
  ok(await cli(a.owner, '--seal-key-file', sealKey, 'export', '--format', 'bitwarden-json', '--out', bw));
  assert.equal(statSync(bw).mode & 0o777, 0o600);
  const c = await createVault(U, srv.adminToken());
  ok(await cli(c.owner, 'import', '--from', 'bitwarden-json', bw));
  const inC = await snapshot(c.owner);
  const db = inC.find((e) => e.title === 'db-01');
  assert.ok(db);
  assert.equal(db.parent, 'Servers', 'nested folders travel as Bitwarden folder paths (Work/Servers)');
  assert.equal(inC.find((e) => e.title === 'Servers')?.parent, 'Work');
  assert.deepEqual(db.fields.map((f) => [f[0], f[3]]).sort(), [['totp', 'JBSWY3DPEHPK3PXP'], ['password', 'db-pw'], ['root', 'sealed-root-pw'], ['user', 'postgres']].sort());

  // Dry run: prints the plan, writes nothing.
  const d = await createVault(U, srv.adminToken());
  const dry = ok(await cli(d.owner, 'import', '--from', 'keepassxc-xml', join(FIX, 'keepassxc.xml'), '--dry-run'));
  assert.match(dry, /db-01 \(example\)\t\(in Servers\)/);
  assert.equal((await snapshot(d.owner)).length, 0);

  // Malformed file: the line is named, nothing imported.
  const broken = join(tmp.dir, 'broken.csv');
  writeFileSync(broken, readFileSync(join(FIX, 'keepassxc.csv'), 'utf8').replace('"Root","Router (example)"', '"Root","Router (example)", "extra"'));
  const bad = await cli(d.owner, 'import', '--from', 'keepass-csv', broken);
  assert.equal(bad.code, 6, bad.stderr);
  assert.match(bad.stderr, /CV-6040.*line 2/);
  assert.equal((await snapshot(d.owner)).length, 0);

  // Real import of the same fixture: folders become parents; the report names what was left out.
  const done = await cli(d.owner, 'import', '--from', 'keepassxc-xml', join(FIX, 'keepassxc.xml'));
  assert.equal(done.code, 0, done.stderr);
  assert.match(done.stderr, /Recycle Bin/);
  const inD = await snapshot(d.owner);
  assert.deepEqual(inD.map((e) => [e.title, e.parent]), [['db-01 (example)', 'Servers'], ['Router (example)', null], ['Servers', 'Work'], ['Work', null]]);
  assert.ok(inD.find((e) => e.title === 'db-01 (example)')!.fields.some((f) => f[0] === 'totp' && f[1] === 'totp'));
});
