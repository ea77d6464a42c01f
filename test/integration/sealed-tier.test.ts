/**
 * Issue 6 item 2: a `sealed` value is encrypted by `clavitor-cli` before it leaves the client, so
 * the server never receives its plaintext. Proven by recording every request body the CLI sends
 * (through a proxy) and by scanning every file of the server's data directory (vault files with
 * their WAL, node.db), while the CLI itself reads the value back with the seal key.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { recordingProxy, runCli } from '../kit/cli.js';
import { tempDir } from '../kit/pop.js';
import { newVault, startTestServer } from '../kit/in-process.js';

/** Every file under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

const SECRET_1 = 'PLAINTEXT-SEALED-recovery-7f3a91';
const SECRET_2 = 'PLAINTEXT-SEALED-pin-55c2e0';

test('sealed values never reach the server in clear; the CLI opens them with the seal key', async (t) => {
  const s = await startTestServer();
  const proxy = await recordingProxy(s.url);
  const home = tempDir('clavitor-cli-home-');
  t.after(async () => {
    await proxy.close();
    await s.stop();
    home.cleanup();
  });
  const { owner } = await newVault(s);
  const keyFile = join(home.dir, 'seal.key');
  writeFileSync(keyFile, 'a-long-random-seal-passphrase-0123456789\n', { mode: 0o600 });
  const env = { XDG_CONFIG_HOME: join(home.dir, 'config') };
  const withKey = { ...env, CLAVITOR_SEAL_KEY_FILE: keyFile };

  const init = await runCli(['init', proxy.url], { env, input: `${owner}\n` });
  assert.equal(init.code, 0, init.stderr);
  const cfg = join(home.dir, 'config', 'clavitor', 'config.json');
  assert.equal(statSync(cfg).mode & 0o777, 0o600);

  const created = await runCli(['put', '--title', 'mail', '--field', 'user=bob', '--sealed-field', `recovery=${SECRET_1}`], { env: withKey });
  assert.equal(created.code, 0, created.stderr);
  const id = created.stdout.trim();
  const valueFile = join(home.dir, 'pin.txt');
  writeFileSync(valueFile, `${SECRET_2}\n`);
  const updated = await runCli(['put', id, '--sealed-field', `pin=@${valueFile}`], { env: withKey });
  assert.equal(updated.code, 0, updated.stderr);

  const one = await runCli(['get', 'mail', '--field', 'recovery'], { env: withKey });
  assert.deepEqual([one.code, one.stdout], [0, `${SECRET_1}\n`]);
  const all = await runCli(['--json', 'get', id], { env: withKey });
  assert.deepEqual(JSON.parse(all.stdout).fields.map((f: { label: string; value: string; tier: string }) => [f.label, f.tier, f.value]),
    [['user', 'owner', 'bob'], ['recovery', 'sealed', SECRET_1], ['pin', 'sealed', SECRET_2]]);

  // What went over the wire: the sealed tier as cs1. ciphertext only.
  const writes = proxy.requests.filter((r) => r.method === 'POST' || r.method === 'PUT');
  assert.equal(writes.length, 2);
  assert.ok(writes.some((r) => r.body.includes('"bob"')), 'the recorder sees request bodies');
  for (const r of proxy.requests) {
    assert.ok(!r.body.includes('PLAINTEXT-SEALED'), `${r.method} ${r.url} carried a sealed plaintext`);
    assert.ok(!r.url.includes('PLAINTEXT-SEALED'));
  }
  for (const r of writes) {
    for (const f of JSON.parse(r.body).fields.filter((x: { tier: string }) => x.tier === 'sealed')) assert.match(f.value, /^cs1\.[A-Za-z0-9_-]+$/);
  }

  // What is on disk: neither the server's data directory nor the CLI's config holds it.
  const files = [...filesUnder(s.dataDir), ...filesUnder(join(home.dir, 'config'))];
  assert.ok(files.some((f) => f.endsWith('.db-wal')), 'WAL files are scanned too');
  const scanned = files.map((f) => readFileSync(f));
  assert.ok(scanned.some((b) => b.includes('entry.create')), 'the scan reads the files that hold the audit trail');
  for (const [i, b] of scanned.entries()) {
    assert.ok(!b.includes(SECRET_1) && !b.includes(SECRET_2), `${files[i]} holds a sealed plaintext`);
  }

  // Without the key the value stays closed; with a wrong key it does not open.
  const noKey = await runCli(['get', id], { env });
  assert.equal(noKey.code, 0);
  assert.match(noKey.stdout, /recovery \[sealed\]: <sealed: pass --seal-key-file to open>/);
  assert.ok(!noKey.stdout.includes('cs1.'));
  const noKeyField = await runCli(['get', id, '--field', 'pin'], { env });
  assert.equal(noKeyField.code, 6);
  assert.match(noKeyField.stderr, /CV-6002/);
  const wrongKey = join(home.dir, 'wrong.key');
  writeFileSync(wrongKey, 'another-passphrase-of-enough-length\n', { mode: 0o600 });
  const wrong = await runCli(['--seal-key-file', wrongKey, 'get', id, '--field', 'pin'], { env });
  assert.equal(wrong.code, 6);
  assert.match(wrong.stderr, /CV-6003/);
  chmodSync(wrongKey, 0o644);
  const unsafe = await runCli(['--seal-key-file', wrongKey, 'get', id, '--field', 'pin'], { env });
  assert.equal(unsafe.code, 6);
  assert.match(unsafe.stderr, /CV-6002: .*readable by group or others/);
});
