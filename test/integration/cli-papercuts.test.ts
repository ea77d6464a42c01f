/**
 * Issue 11 item 9: `clavitor-cli` and API papercuts, each pinned by the behaviour an operator or a
 * script sees — a closed pipe ends quietly; `CLAVITOR_SEAL_PASSPHRASE` wins over the seal key file
 * saved by `init` (docs/cli.md "first found wins": flag, environment, saved); each write refusal
 * gets its own explanation; a rate limit shows its wait and `--json` prints the error object on
 * stdout; every binary answers `--version`; `/api/` answers carry `Cache-Control: no-store`.
 * Real CLI processes against an in-process server over loopback HTTP.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { runCli } from '../kit/cli.js';
import { runCommand, type RunResult } from '../kit/proc.js';
import { BIN, tempDir } from '../kit/pop.js';
import { newEntry, newVault, startTestServer } from '../kit/in-process.js';
import { createCommunityEdition } from '../../src/edition/community.js';
import type { Edition, WriteRefusal } from '../../src/edition/edition.js';

const ROOT = resolve(import.meta.dirname, '../..');

/** Runs `sh -c script` asynchronously (the in-process server keeps serving); resolves with its output. */
function shell(script: string, env: Record<string, string>): Promise<RunResult> {
  return runCommand('sh', ['-c', script], { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env } });
}

test('get and audit into a reader that closes after one line end without a stack trace', async (t) => {
  const s = await startTestServer();
  t.after(() => s.stop());
  const { owner } = await newVault(s);
  // More than a pipe buffer (64 KiB) of output, so the CLI is still writing when `head` exits.
  const fields = Array.from({ length: 400 }, (_, i) => ({ label: `f${i}`, value: 'x'.repeat(300), tier: 'owner' }));
  const id = await newEntry(s, owner, { title: 'big', fields });
  for (let i = 0; i < 300; i++) await s.call('GET', `/api/entries/${id}`, { token: owner });
  const env = { CLAVITOR_URL: s.url, CLAVITOR_TOKEN: owner };
  const cli = `${process.execPath} ${BIN.cli}`;
  for (let run = 0; run < 3; run++) {
    for (const cmd of [`get ${id}`, 'audit', `--json get ${id}`]) {
      const r = await shell(`${cli} ${cmd} | head -1`, env);
      assert.equal(r.stdout.split('\n').filter(Boolean).length, 1, `${cmd}: one line through head`);
      assert.doesNotMatch(r.stderr, /EPIPE|\n\s+at /, `${cmd}, run ${run}: ${r.stderr.slice(0, 500)}`);
      assert.equal(r.stderr, '', `${cmd}, run ${run}: nothing on stderr`);
    }
  }
});

test('CLAVITOR_SEAL_PASSPHRASE wins over the seal key file saved by init, as docs/cli.md says', async (t) => {
  const s = await startTestServer();
  const home = tempDir('clavitor-cli-home-');
  t.after(async () => { await s.stop(); home.cleanup(); });
  const { owner } = await newVault(s);
  const saved = join(home.dir, 'saved.key');
  writeFileSync(saved, 'the-saved-seal-passphrase-000000\n', { mode: 0o600 });
  const env = { XDG_CONFIG_HOME: join(home.dir, 'config') };
  const init = await runCli(['--seal-key-file', saved, 'init', s.url], { env, input: `${owner}\n` });
  assert.equal(init.code, 0, init.stderr);
  const fromEnv = { ...env, CLAVITOR_SEAL_PASSPHRASE: 'the-environment-passphrase-11111' };

  const put = await runCli(['put', '--title', 'pin', '--sealed-field', 'pin=1234-env'], { env: fromEnv });
  assert.equal(put.code, 0, put.stderr);
  const withEnv = await runCli(['get', 'pin', '--field', 'pin'], { env: fromEnv });
  assert.deepEqual([withEnv.code, withEnv.stdout, withEnv.stderr], [0, '1234-env\n', '']);
  // Without the variable the saved file applies, and it is not the key the value was sealed with.
  const withSaved = await runCli(['get', 'pin', '--field', 'pin'], { env });
  assert.equal(withSaved.code, 6);
  assert.match(withSaved.stderr, /CV-6003/);
});

test('each write refusal of a primary explains itself; a backup still names the primary', async (t) => {
  let refusal: WriteRefusal | undefined;
  const base = createCommunityEdition();
  const edition: Edition = { ...base, refuseClientWrite: () => refusal };
  const s = await startTestServer({ edition: () => edition });
  t.after(() => s.stop());
  const { owner } = await newVault(s);
  const env = { CLAVITOR_URL: s.url, CLAVITOR_TOKEN: owner };
  const cases: [WriteRefusal, RegExp][] = [
    [{ error: 'DRAINING', headers: { 'retry-after': '5' } }, /draining for a planned switchover: retry in 5 s/],
    [{ error: 'LEASE_EXPIRED', headers: { 'retry-after': '1' } }, /cannot reach its control plane to renew its lease.*retry in 1 s/],
    [{ error: 'STARTING', headers: { 'retry-after': '1' } }, /still starting.*retry in 1 s/],
    [{ error: 'READ_ONLY_BACKUP', headers: { 'retry-after': '5', 'x-primary-location': 'http://127.0.0.1:9' } }, /the primary is at http:\/\/127\.0\.0\.1:9: run the write there/],
    [{ error: 'FENCED', headers: { 'retry-after': '5' } }, /this POP is fenced and does not say where the primary is; ask your operator/],
  ];
  for (const [r, advice] of cases) {
    refusal = r;
    const out = await runCli(['put', '--title', 'x'], { env });
    assert.equal(out.code, 5, `${r.error}: ${out.stderr}`);
    assert.match(out.stderr, advice, r.error);
    if (r.error !== 'FENCED') assert.doesNotMatch(out.stderr, /does not say where the primary is/, r.error);
    const json = await runCli(['put', '--title', 'x', '--json'], { env });
    assert.equal(JSON.parse(json.stdout).error.retry_after_seconds, Number(r.headers['retry-after']), r.error);
  }
});

test('a rate-limit refusal shows how long to wait, and --json prints the error object on stdout', async (t) => {
  const s = await startTestServer();
  t.after(() => s.stop());
  const { owner } = await newVault(s);
  const a = await newEntry(s, owner, { title: 'a', fields: [{ label: 'k', value: 'va', tier: 'agent' }] });
  const b = await newEntry(s, owner, { title: 'b', fields: [{ label: 'k', value: 'vb', tier: 'agent' }] });
  // One breach per agent: a second breach within 2 hours would lock it (CV-2010 instead).
  const agentEnv = async (name: string): Promise<Record<string, string>> => {
    const ag = await s.call('POST', '/api/agents', { token: owner, body: { name, scopes: [a, b], limits: { per_minute: 1, per_hour: 10 } } });
    assert.equal(ag.status, 201);
    const env = { CLAVITOR_URL: s.url, CLAVITOR_TOKEN: ag.json.token as string };
    assert.equal((await runCli(['get', a], { env })).code, 0);
    return env;
  };
  const plain = await runCli(['get', b], { env: await agentEnv('bot-1') });
  assert.equal(plain.code, 3);
  assert.match(plain.stderr, /CV-2009/);
  assert.match(plain.stderr, /rate limited: retry in \d+ s/);
  const json = await runCli(['--json', 'get', b], { env: await agentEnv('bot-2') });
  assert.equal(json.code, 3);
  const body = JSON.parse(json.stdout) as { error: { code: string; status: number; retry_after_seconds: number } };
  assert.equal(body.error.code, 'CV-2009');
  assert.equal(body.error.status, 429);
  assert.ok(Number.isInteger(body.error.retry_after_seconds) && body.error.retry_after_seconds > 0, JSON.stringify(body));
});

test('every binary answers --version with the package version and its edition, exit 0', async () => {
  const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  const bins: [string, string, RegExp][] = [
    ['clavitor', BIN.community, /community edition/],
    ['clavitor-commercial', BIN.commercial, /commercial edition/],
    ['clavitor-control', join(ROOT, 'dist/src/bin/clavitor-control.js'), /commercial edition, control plane/],
    ['clavitor-cli', BIN.cli, /community and commercial editions/],
  ];
  for (const [name, bin, edition] of bins) {
    const r = await shell(`${process.execPath} ${bin} --version`, {});
    assert.equal(r.code, 0, `${name}: ${r.stderr}`);
    assert.ok(r.stdout.startsWith(`${name} ${version} (`), `${name}: ${r.stdout}`);
    assert.match(r.stdout, edition);
    assert.equal(r.stdout.split('\n').length, 2, 'one line');
  }
});

test('client API answers carrying decrypted values (and errors) say Cache-Control: no-store', async (t) => {
  const s = await startTestServer();
  t.after(() => s.stop());
  const { owner } = await newVault(s);
  const id = await newEntry(s, owner, { title: 't', fields: [{ label: 'pw', value: 'hunter2', tier: 'owner' }] });
  const paths = [`/api/entries/${id}`, '/api/entries', `/api/entries/${id}/revisions`, '/api/audit', '/api/agents', '/api/entries/e_missing'];
  for (const p of paths) {
    const r = await s.call('GET', p, { token: owner });
    assert.equal(r.headers.get('cache-control'), 'no-store', `${p} (${r.status})`);
  }
  const put = await s.call('PUT', `/api/entries/${id}`, { token: owner, headers: { 'if-match': '"2"' }, body: { title: 't', fields: [{ label: 'pw', value: 'x', tier: 'owner' }] } });
  assert.equal(put.headers.get('cache-control'), 'no-store', `PUT (${put.status})`);
});

test('with --json a usage error is JSON on stdout too (docs/cli.md), with the line on stderr', async () => {
  for (const args of [['--json', 'get'], ['get', '--json', '--bogus', 'x'], ['--json', 'no-such-command']]) {
    const out = await runCli(args);
    assert.equal(out.code, 2, args.join(' '));
    assert.match(out.stderr, /CV-6006/, args.join(' '));
    const doc = JSON.parse(out.stdout) as { error: { code: string; message: string } };
    assert.equal(doc.error.code, 'CV-6006', args.join(' '));
    assert.ok(doc.error.message.length > 0);
  }
  const plain = await runCli(['get']);
  assert.equal(plain.stdout, '');
});
