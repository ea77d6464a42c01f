/**
 * Issue 14 item 1, "Done when", against a real community server process: `clavitor-cli read`
 * resolves references by title (owner; agent within its scope only), `run -- CMD` gives resolved
 * values to the child only (the CLI's own environment and argv hold the reference, never the
 * value), masks them in the child's output unless `--no-masking`, passes the exit status through
 * and forwards signals, and `inject` writes its output with mode 0600 even under `umask 000`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { api, BIN, ServerProc, tempDir } from '../kit/pop.js';
import { freePort } from '../kit/ports.js';
import { runCli, type CliResult } from '../kit/cli.js';

test('read, run and inject resolve clavitor:// references', async (t) => {
  const tmp = tempDir('clavitor-refs-');
  const port = await freePort();
  const srv = new ServerProc('community', BIN.community, ['serve', '--data', join(tmp.dir, 'data'), '--listen', `127.0.0.1:${port}`], port, join(tmp.dir, 'data'));
  t.after(async () => { await srv.kill(); tmp.cleanup(); });
  await srv.start();
  const create = await api(srv.url, 'POST', '/api/vaults', { token: srv.adminToken() });
  const { vault_id: V, owner_token: owner } = create.json as { vault_id: string; owner_token: string };
  const put = async (body: unknown): Promise<string> => (await api(srv.url, 'POST', '/api/entries', { token: owner, body })).json.id;
  const db = await put({ title: 'Prod DB', fields: [{ label: 'user', value: 'app', tier: 'agent' }, { label: 'password', value: 'Pa55-w0rd-xyz' }] });
  await put({ title: 'ci/deploy key', fields: [{ label: 'token', value: 'tok-123456', tier: 'agent' }] });
  await put({ title: 'dup', fields: [{ label: 'x', value: '1' }] });
  await put({ title: 'dup', fields: [{ label: 'x', value: '2' }] });
  const agent = (await api(srv.url, 'POST', '/api/agents', { token: owner, body: { name: 'ci', scopes: [db], limits: { per_minute: 100, per_hour: 100 } } })).json.token as string;
  const asOwner = (args: string[], env: Record<string, string> = {}) => runCli(['--server', srv.url, ...args], { env: { CLAVITOR_TOKEN: owner, ...env } });
  const asAgent = (args: string[]) => runCli(['--server', srv.url, ...args], { env: { CLAVITOR_TOKEN: agent } });
  const ok = (r: CliResult): string => {
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  };

  // read: by title (raw space or %20), by a title with a slash, by id; errors with stable codes.
  assert.equal(ok(await asOwner(['read', `clavitor://${V}/Prod DB/password`])), 'Pa55-w0rd-xyz\n');
  assert.equal(ok(await asOwner(['read', '-n', `clavitor://${V}/Prod%20DB/user`])), 'app');
  assert.equal(ok(await asOwner(['read', `clavitor://${V}/ci%2Fdeploy%20key/token`])), 'tok-123456\n');
  assert.equal(ok(await asOwner(['read', `clavitor://${V}/${db}/user`])), 'app\n');
  const json = JSON.parse(ok(await asOwner(['--json', 'read', `clavitor://${V}/Prod DB/user`])));
  assert.deepEqual([json.entry_id, json.field, json.tier, json.value], [db, 'user', 'agent', 'app']);
  const ambiguous = await asOwner(['read', `clavitor://${V}/dup/x`]);
  assert.deepEqual([ambiguous.code, /CV-4020/.test(ambiguous.stderr)], [3, true], ambiguous.stderr);
  const badRef = await asOwner(['read', `clavitor://${V}/ci/deploy key/token`]);
  // Malformed: found by the CLI, nothing sent, so the usage exit status 2 (not 3, "the server refused").
  assert.deepEqual([badRef.code, /CV-3020/.test(badRef.stderr)], [2, true], badRef.stderr);
  assert.match((await asOwner(['read', `clavitor://${V}/Prod DB/nope`])).stderr, /CV-4022/);
  assert.match((await asOwner(['read', 'clavitor://v_AAAAAAAAAAAAAAAAAAAAAA/Prod DB/user'])).stderr, /CV-4021/);

  // An agent resolves titles within its scope only: an entry outside it is "not found", not ambiguous.
  assert.equal(ok(await asAgent(['read', `clavitor://${V}/Prod DB/user`])), 'app\n');
  assert.match((await asAgent(['read', `clavitor://${V}/Prod DB/password`])).stderr, /CV-2003/);
  const outside = await asAgent(['read', `clavitor://${V}/dup/x`]);
  assert.deepEqual([outside.code, /CV-3004/.test(outside.stderr)], [3, true], outside.stderr);

  // run: the child gets the value; the CLI process (the child's parent) holds only the reference.
  const REF = `clavitor://${V}/Prod DB/password`;
  const probe = [
    'const fs = require("node:fs");',
    'const env = fs.readFileSync(`/proc/${process.ppid}/environ`, "utf8");',
    'const argv = fs.readFileSync(`/proc/${process.ppid}/cmdline`, "utf8");',
    'console.log(`child DB_PW=${process.env.DB_PW}`);',
    'const value = process.env.DB_PW;',
    'console.log(`parent env has value: ${env.includes(value)}; has reference: ${env.includes("clavitor://")}`);',
    'console.log(`parent argv has value: ${argv.includes(value)}`);',
  ].join('\n');
  const unmasked = ok(await asOwner(['run', '--no-masking', '--', process.execPath, '-e', probe], { DB_PW: REF }));
  assert.match(unmasked, /^child DB_PW=Pa55-w0rd-xyz$/m);
  assert.match(unmasked, /^parent env has value: false; has reference: true$/m);
  assert.match(unmasked, /^parent argv has value: false$/m);

  const masked = await asOwner(['run', '--', process.execPath, '-e', 'console.log("pw:" + process.env.DB_PW); console.error("err " + process.env.DB_PW + "!"); console.log("user:" + process.env.U)'], { DB_PW: REF, U: 'plain' });
  assert.equal(masked.code, 0, masked.stderr);
  assert.equal(masked.stdout, 'pw:<concealed by clavitor>\nuser:plain\n');
  assert.match(masked.stderr, /err <concealed by clavitor>!/);
  assert.ok(!masked.stdout.includes('Pa55') && !masked.stderr.includes('Pa55'));

  // `run -- env`: the resolved variable in the child's environment listing.
  const envOut = ok(await asOwner(['run', '--no-masking', '--', 'env'], { DB_PW: REF }));
  assert.match(envOut, /^DB_PW=Pa55-w0rd-xyz$/m);
  assert.match(ok(await asOwner(['run', '--', 'env'], { DB_PW: REF })), /^DB_PW=<concealed by clavitor>$/m);

  // --env-file, exit status passed through, a command that cannot start.
  const envFile = join(tmp.dir, 'app.env');
  writeFileSync(envFile, `# comment\nexport TOKEN="clavitor://${V}/ci%2Fdeploy%20key/token"\nPLAIN=x\n`);
  const fromFile = await asOwner(['run', '--env-file', envFile, '--no-masking', '--', process.execPath, '-e', 'console.log(process.env.TOKEN, process.env.PLAIN); process.exit(7)']);
  assert.deepEqual([fromFile.code, fromFile.stdout], [7, 'tok-123456 x\n']);
  writeFileSync(envFile, 'NOT A LINE\n');
  assert.match((await asOwner(['run', '--env-file', envFile, '--', 'true'])).stderr, /CV-6031: .*app\.env:1: not KEY=VALUE/);
  const missing = await asOwner(['run', '--', '/nonexistent/cmd']);
  assert.deepEqual([missing.code, /CV-6032/.test(missing.stderr)], [127, true]);
  const failing = await asOwner(['run', '--', 'true'], { A: `clavitor://${V}/dup/x` });
  assert.deepEqual([failing.code, /CV-4020/.test(failing.stderr)], [3, true], 'a failed reference stops the command before it starts');

  // Signals are forwarded: SIGTERM to the CLI reaches the child, whose status is passed through.
  const cli = spawn(process.execPath, [BIN.cli, '--server', srv.url, 'run', '--', process.execPath, '-e',
    'process.on("SIGTERM", () => { console.log("child got SIGTERM"); process.exit(42); }); console.log("ready"); setInterval(() => {}, 1000);'],
  { env: { PATH: process.env.PATH ?? '', HOME: tmp.dir, CLAVITOR_TOKEN: owner }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const ready = new Promise<void>((resolve) => cli.stdout.on('data', (d) => { out += d; if (out.includes('ready')) resolve(); }));
  const exited = new Promise<number | null>((resolve) => cli.on('close', (code) => resolve(code)));
  await ready;
  cli.kill('SIGTERM');
  assert.equal(await exited, 42);
  assert.match(out, /child got SIGTERM/);

  // inject: placeholders filled, the file created 0600 even under umask 000, never overwritten without --force.
  const tpl = join(tmp.dir, 'config.tpl');
  const dest = join(tmp.dir, 'config.yml');
  writeFileSync(tpl, `user: {{ clavitor://${V}/Prod DB/user }}\npassword: {{clavitor://${V}/Prod%20DB/password}}\nkeep: {{ other }}\n`);
  const injectUnderUmask = (extra: string[]) => new Promise<CliResult>((resolve) => {
    const p = spawn('sh', ['-c', 'umask 000; exec "$@"', 'sh', process.execPath, BIN.cli, '--server', srv.url, 'inject', '-i', tpl, '-o', dest, ...extra],
      { env: { PATH: process.env.PATH ?? '', HOME: tmp.dir, CLAVITOR_TOKEN: owner }, stdio: ['ignore', 'pipe', 'pipe'] });
    let so = '';
    let se = '';
    p.stdout.on('data', (d) => (so += d));
    p.stderr.on('data', (d) => (se += d));
    p.on('close', (code) => resolve({ code: code ?? -1, stdout: so, stderr: se }));
  });
  const first = await injectUnderUmask([]);
  assert.equal(first.code, 0, first.stderr);
  assert.equal(readFileSync(dest, 'utf8'), 'user: app\npassword: Pa55-w0rd-xyz\nkeep: {{ other }}\n');
  assert.equal(statSync(dest).mode & 0o777, 0o600);
  assert.match(first.stderr, /wrote .*config\.yml \(mode 0600, 2 references\)/);
  const again = await injectUnderUmask([]);
  assert.deepEqual([again.code, /CV-6030/.test(again.stderr)], [6, true]);
  chmodSync(dest, 0o644);
  assert.equal((await injectUnderUmask(['--force'])).code, 0);
  assert.equal(statSync(dest).mode & 0o777, 0o600, '--force replaces a 0644 file by a 0600 one');
  assert.equal(ok(await asOwner(['inject', '-i', tpl])), 'user: app\npassword: Pa55-w0rd-xyz\nkeep: {{ other }}\n', 'without -o: stdout');
});
