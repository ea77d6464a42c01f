/**
 * Case F15 and issue 11 items 4–6: every certificate comes from a private CA. The openssl recipe of
 * docs/operations.md is run as written; a real mutual-TLS pair runs on its files; every client of
 * the product (clavitor-commercial verify/status/drain/resume, clavitor-cli, the POP heartbeat,
 * clavitor-control status) works with that CA from flags or from the config it reads; a chain
 * file whose intermediate expired is refused at check-config and on SIGHUP (old config kept).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Agent } from 'undici';
import { api, BIN, createVault, provisionPair, runCommercial, ServerProc, tempDir, waitFor, type Pair } from '../kit/pop.js';
import { freePort } from '../kit/ports.js';
import { runCli } from '../kit/cli.js';
import { controlCli, controlFixture, controlProc, FAST_CONFIG } from '../kit/control.js';
import { issue, makeCa, makeIntermediate } from '../kit/pki.js';

const ROOT = join(import.meta.dirname, '..', '..');

/** The bash block after `<!-- recipe: private-ca -->` in docs/operations.md, exactly as written. */
function recipeFromDocs(): string {
  const md = readFileSync(join(ROOT, 'docs', 'operations.md'), 'utf8');
  const m = /<!-- recipe: private-ca -->\n```bash\n([\s\S]*?)\n```/.exec(md);
  assert.ok(m, 'docs/operations.md has the private-CA recipe block');
  return m[1]!;
}

/** Runs the recipe in `dir` for calgary-01, zurich-01 and a control plane, all reachable at 127.0.0.1. */
function runRecipe(dir: string): void {
  mkdirSync(dir, { recursive: true });
  const pops = ['calgary-01', 'zurich-01', 'control'].map((p) => `${p}=DNS:${p},IP:127.0.0.1`).join('\n');
  const r = spawnSync('bash', ['-c', recipeFromDocs()], { cwd: dir, env: { PATH: process.env.PATH ?? '', POPS: pops }, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, `recipe failed: ${r.stderr}`);
  assert.match(r.stdout, /calgary-01\.crt: OK/);
}

interface RecipePair extends Pair {
  pki: string;
  f: (name: string) => string;
  dispatcher: Agent;
}

/** A pair on HTTPS with mutual TLS, every file from the recipe (chain files, root CA as mtls_ca). */
async function recipePair(): Promise<RecipePair> {
  const pair = await provisionPair();
  const pki = join(pair.dir, 'pki');
  runRecipe(pki);
  const f = (name: string) => join(pki, name);
  const mtls = (pop: string) => `  mtls_cert: "${f(`${pop}.chain.crt`)}"\n  mtls_key: "${f(`${pop}.key`)}"\n  mtls_ca: "${f('root-ca.crt')}"\n`;
  const yaml = (which: 'primary' | 'backup') => pair.yamlFor(which, which)
    .replaceAll('http://127.0.0.1', 'https://127.0.0.1')
    .replace(/(auth:\n {2}token_file: "[^"]+"\n)/, `$1${mtls(which === 'primary' ? 'calgary-01' : 'zurich-01')}`);
  pair.writeConfig('primary', yaml('primary'));
  pair.writeConfig('backup', yaml('backup'));
  pair.primary.args.push('--tls-cert', f('calgary-01.chain.crt'), '--tls-key', f('calgary-01.key'));
  pair.backup.args.push('--tls-cert', f('zurich-01.chain.crt'), '--tls-key', f('zurich-01.key'));
  const dispatcher = new Agent({ connect: { ca: readFileSync(f('root-ca.crt')) } });
  pair.primary.https = { dispatcher };
  pair.backup.https = { dispatcher };
  return Object.assign(pair, { pki, f, dispatcher });
}

test('F15: the openssl recipe in docs/operations.md runs as written and its files carry a mutual-TLS pair; verify/status/drain/resume talk to it with --ca-file/--cert/--key and from replication.yaml', async (t) => {
  const pair = await recipePair();
  t.after(async () => {
    await pair.stop();
    await pair.dispatcher.close();
  });
  await pair.backup.start();
  await pair.primary.start();
  const P = pair.primary.url;
  const B = pair.backup.url;
  const { owner } = await createVault(P, pair.primary.adminToken(), pair.dispatcher);
  const e = await api(P, 'POST', '/api/entries', { token: owner, body: { title: 'over the recipe pki' }, dispatcher: pair.dispatcher });
  assert.equal(e.status, 201);
  await waitFor('entry on backup', async () => (await api(B, 'GET', `/api/entries/${e.json.id}`, { token: owner, dispatcher: pair.dispatcher })).status === 200);
  // Readable on the backup from its commit; the push is logged once its fsync returned.
  await waitFor('a push logged', () => pair.backup.logLines().some((l) => l.event === 'replication.push_applied'));
  assert.ok(pair.backup.logLines().some((l) => l.event === 'replication.push_applied' && typeof l.peer_cert === 'string'), 'pushes arrive with a client certificate');

  const tls = ['--ca-file', pair.f('root-ca.crt'), '--cert', pair.f('calgary-01.chain.crt'), '--key', pair.f('calgary-01.key')];
  // verify needs the client certificate (both POPs have mtls_ca): explicit flags, then config defaults.
  const v1 = await runCommercial(['verify', '--primary', P, '--backup', B, '--token-file', pair.keyFile, ...tls]);
  assert.equal(v1.code, 0, v1.stderr);
  assert.match(v1.stdout, /^identical: 1 vaults on calgary-01 and zurich-01/);
  const v2 = await runCommercial(['verify', '--primary', P, '--backup', B, '--replication-config', pair.primaryConfig]);
  assert.equal(v2.code, 0, v2.stderr);
  assert.match(v2.stdout, /^identical: 1 vaults/);
  // A CA but no client certificate: the POP refuses it (CV-2005), one line, exit 2.
  const v3 = await runCommercial(['verify', '--primary', P, '--backup', B, '--token-file', pair.keyFile, '--ca-file', pair.f('root-ca.crt')]);
  assert.equal(v3.code, 2);
  assert.match(v3.stderr, /CV-2005/);
  // No CA at all: the TLS reason and the flag to use.
  const v4 = await runCommercial(['verify', '--primary', P, '--backup', B, '--token-file', pair.keyFile]);
  assert.equal(v4.code, 2);
  assert.match(v4.stderr, /pass --ca-file with the CA bundle/);
  assert.equal(v4.stderr.trim().split('\n').length, 1, 'one line, no stack trace');

  const admin = ['--admin-token-file', join(pair.primary.dataDir, 'admin.token')];
  const s1 = await runCommercial(['status', '--url', P, ...admin, '--ca-file', pair.f('root-ca.crt'), '--json']);
  assert.equal(s1.code, 0, s1.stderr);
  assert.equal(JSON.parse(s1.stdout).role, 'primary');
  const s2 = await runCommercial(['status', '--url', B, '--admin-token-file', join(pair.backup.dataDir, 'admin.token'), '--replication-config', pair.backupConfig]);
  assert.equal(s2.code, 0, s2.stderr);
  assert.match(s2.stdout, /^zurich-01 \(europe\) {2}role backup/);

  const d = await runCommercial(['drain', '--url', P, ...admin, ...tls, '--timeout-seconds', '10']);
  assert.equal(d.code, 0, d.stderr);
  assert.match(d.stdout, /^drained: backlog 0/);
  const r = await runCommercial(['resume', '--url', P, ...admin, '--replication-config', pair.primaryConfig]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^resumed/);
  const after = await api(P, 'POST', '/api/entries', { token: owner, body: { title: 'after resume' }, dispatcher: pair.dispatcher });
  assert.equal(after.status, 201);

  // A CA file that cannot be used: CV-6007, one line, exit 2.
  const bad = await runCommercial(['status', '--url', P, ...admin, '--ca-file', join(pair.dir, 'absent.crt')]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^CV-6007: --ca-file \S+absent\.crt: cannot read it \(ENOENT\)\n$/);

});

test('F15: clavitor-cli trusts a private CA from --ca-file, CLAVITOR_CA_FILE or the ca_file saved by init; an unusable CA file is CV-6007', async (t) => {
  const tmp = tempDir('clavitor-cli-ca-');
  const pki = join(tmp.dir, 'pki');
  runRecipe(pki);
  const f = (name: string) => join(pki, name);
  const port = await freePort();
  const data = join(tmp.dir, 'data');
  const srv = new ServerProc('community', BIN.community, ['serve', '--data', data, '--listen', `127.0.0.1:${port}`, '--tls-cert', f('calgary-01.chain.crt'), '--tls-key', f('calgary-01.key')], port, data);
  const dispatcher = new Agent({ connect: { ca: readFileSync(f('root-ca.crt')) } });
  srv.https = { dispatcher };
  t.after(async () => {
    await srv.kill();
    await dispatcher.close();
    tmp.cleanup();
  });
  await srv.start();
  const U = srv.url;
  const { owner } = await createVault(U, srv.adminToken(), dispatcher);
  assert.equal((await api(U, 'POST', '/api/entries', { token: owner, body: { title: 'over the recipe pki' }, dispatcher })).status, 201);
  // clavitor-cli: init --ca-file remembers the CA; later commands need no flag.
  const cliEnv = { XDG_CONFIG_HOME: join(tmp.dir, 'xdg') };
  const init = await runCli(['init', U, '--ca-file', f('root-ca.crt')], { env: cliEnv, input: `${owner}\n` });
  assert.equal(init.code, 0, init.stderr);
  const saved = JSON.parse(readFileSync(join(tmp.dir, 'xdg', 'clavitor', 'config.json'), 'utf8')) as { ca_file?: string };
  assert.equal(saved.ca_file, f('root-ca.crt'));
  const list = await runCli(['list', '--json'], { env: cliEnv });
  assert.equal(list.code, 0, list.stderr);
  const titles = (JSON.parse(list.stdout) as { title: string }[]).map((x) => x.title);
  assert.ok(titles.length > 0);
  assert.ok(titles.includes('over the recipe pki'));
  // The flag still works on its own, and an unusable CA file is a clean CV-6007 (exit 6).
  const flag = await runCli(['--server', U, '--ca-file', f('root-ca.crt'), 'list'], { env: { CLAVITOR_TOKEN: owner } });
  assert.equal(flag.code, 0, flag.stderr);
  const noCa = await runCli(['--server', U, 'list'], { env: { CLAVITOR_TOKEN: owner } });
  assert.equal(noCa.code, 4);
  assert.match(noCa.stderr, /CV-6005: .*--ca-file/);
  const badCli = await runCli(['--server', U, '--ca-file', join(tmp.dir, 'absent.crt'), 'list'], { env: { CLAVITOR_TOKEN: owner } });
  assert.equal(badCli.code, 6, badCli.stderr);
  assert.match(badCli.stderr, /CV-6007: --ca-file \S+absent\.crt: cannot read it/);
  assert.doesNotMatch(badCli.stderr, /\n\s+at /, 'no stack trace');
  const viaEnv = await runCli(['--server', U, 'list'], { env: { CLAVITOR_TOKEN: owner, CLAVITOR_CA_FILE: f('root-ca.crt') } });
  assert.equal(viaEnv.code, 0, viaEnv.stderr);

  // A renewed --tls-cert chain whose intermediate expired: SIGHUP refuses it and the old one keeps serving.
  const otherRoot = await makeCa('f15-other-root');
  const expiredInter = await makeIntermediate(otherRoot, 'f15-expired-intermediate', { notBefore: new Date(Date.now() - 400 * 86400_000), notAfter: new Date(Date.now() - 86400_000) });
  const renewed = await issue(expiredInter, 'calgary-01');
  writeFileSync(f('calgary-01.chain.crt'), `${renewed.cert.trim()}\n${expiredInter.cert}`);
  writeFileSync(f('calgary-01.key'), renewed.key, { mode: 0o600 });
  srv.signal('SIGHUP');
  await waitFor('TLS reload refused', () => srv.logLines().some((l) => l.event === 'tls.reload_refused'));
  assert.match(String(srv.logLines().find((l) => l.event === 'tls.reload_refused')?.error), /--tls-cert .*"CN=f15-expired-intermediate" \(2nd in the file\) expired on/);
  const afterHup = await runCli(['list'], { env: cliEnv });
  assert.equal(afterHup.code, 0, afterHup.stderr);
});

test('F15: heartbeats reach a control plane serving HTTPS from a private CA (control_plane.ca_file); the primary gets its lease and takes writes; clavitor-control status --ca-file', async (t) => {
  const fx = controlFixture({ ...FAST_CONFIG });
  const pki = join(fx.dir, 'pki');
  runRecipe(pki);
  const f = (name: string) => join(pki, name);
  const cp = await controlProc('control', fx, readFileSync(fx.tokenFile, 'utf8').trim(), ['--tls-cert', f('control.chain.crt'), '--tls-key', f('control.key')]);
  const pair = await provisionPair();
  t.after(async () => {
    await pair.stop();
    await cp.kill();
    fx.cleanup();
  });
  await cp.start();
  assert.match(cp.stdout, /listening on https:/);
  const block = `control_plane:\n  url: "https://127.0.0.1:${cp.port}"\n  token_file: "${fx.tokenFile}"\n  heartbeat_interval: 1\n  ca_file: "${f('root-ca.crt')}"\n`;
  pair.writeConfig('primary', pair.yamlFor('primary', 'primary') + block);
  pair.writeConfig('backup', pair.yamlFor('backup', 'backup') + block);
  const check = await runCommercial(['check-config', '--replication-config', pair.primaryConfig]);
  assert.equal(check.code, 0, check.stderr);
  await pair.backup.start();
  await pair.primary.start(); // resolves only once the primary accepts writes, i.e. holds a lease
  const { owner } = await createVault(pair.primary.url, pair.primary.adminToken());
  const w = await api(pair.primary.url, 'POST', '/api/entries', { token: owner, body: { title: 'under a lease over private-CA TLS' } });
  assert.equal(w.status, 201);
  const st = await pair.primary.status();
  assert.ok(st.control_plane.lease_remaining_ms > 0, 'the primary holds a lease');
  assert.equal(pair.primary.logLines().filter((l) => l.event === 'controlplane.heartbeat_failed').length, 0, 'no heartbeat failed');

  const withCa = await controlCli('status', '--url', `https://127.0.0.1:${cp.port}`, '--token-file', fx.tokenFile, '--ca-file', f('root-ca.crt'), '--json');
  assert.equal(withCa.status, 0, withCa.stderr);
  assert.match(withCa.stdout, /calgary-01/);
  const noCa = await controlCli('status', '--url', `https://127.0.0.1:${cp.port}`, '--token-file', fx.tokenFile);
  assert.equal(noCa.status, 69);
  assert.match(noCa.stderr, /^CV-6103: .*pass --ca-file/);
});

test('F15: a chain file whose intermediate expired is refused by check-config (exit 78, the line names auth.mtls_cert) and on SIGHUP (the old chain keeps replicating)', async (t) => {
  const pair = await provisionPair();
  t.after(() => pair.stop());
  const root = await makeCa('f15-root');
  const inter = await makeIntermediate(root, 'f15-intermediate');
  const write = (name: string, pem: { cert: string; key: string }, chain: string) => {
    writeFileSync(join(pair.dir, `${name}.chain.crt`), `${pem.cert.trim()}\n${chain}`);
    writeFileSync(join(pair.dir, `${name}.key`), pem.key, { mode: 0o600 });
  };
  write('calgary-01', await issue(inter, 'calgary-01'), inter.cert);
  write('zurich-01', await issue(inter, 'zurich-01'), inter.cert);
  writeFileSync(join(pair.dir, 'root.crt'), root.cert);
  const mtls = (pop: string) => `  mtls_cert: "${join(pair.dir, `${pop}.chain.crt`)}"\n  mtls_key: "${join(pair.dir, `${pop}.key`)}"\n  mtls_ca: "${join(pair.dir, 'root.crt')}"\n`;
  const yaml = (which: 'primary' | 'backup') => pair.yamlFor(which, which).replaceAll('http://127.0.0.1', 'https://127.0.0.1')
    .replace(/(auth:\n {2}token_file: "[^"]+"\n)/, `$1${mtls(which === 'primary' ? 'calgary-01' : 'zurich-01')}`);
  pair.writeConfig('primary', yaml('primary'));
  pair.writeConfig('backup', yaml('backup'));
  pair.primary.args.push('--tls-cert', join(pair.dir, 'calgary-01.chain.crt'), '--tls-key', join(pair.dir, 'calgary-01.key'));
  pair.backup.args.push('--tls-cert', join(pair.dir, 'zurich-01.chain.crt'), '--tls-key', join(pair.dir, 'zurich-01.key'));
  const dispatcher = new Agent({ connect: { ca: root.cert } });
  t.after(() => dispatcher.close());
  pair.primary.https = { dispatcher };
  pair.backup.https = { dispatcher };
  const ok = await runCommercial(['check-config', '--replication-config', pair.primaryConfig]);
  assert.equal(ok.code, 0, ok.stderr);
  await pair.backup.start();
  await pair.primary.start();
  const { owner } = await createVault(pair.primary.url, pair.primary.adminToken(), dispatcher);
  const replicated = async (title: string) => {
    const e = await api(pair.primary.url, 'POST', '/api/entries', { token: owner, body: { title }, dispatcher });
    assert.equal(e.status, 201);
    await waitFor(`"${title}" on backup`, async () => (await api(pair.backup.url, 'GET', `/api/entries/${e.json.id}`, { token: owner, dispatcher })).status === 200);
  };
  await replicated('before renewal');

  // The "renewed" chain: a fresh POP certificate, but the intermediate in the file has expired.
  const expiredInter = await makeIntermediate(root, 'f15-intermediate', { notBefore: new Date(Date.now() - 400 * 86400_000), notAfter: new Date(Date.now() - 86400_000) });
  write('calgary-01', await issue(expiredInter, 'calgary-01'), expiredInter.cert);
  const refused = await runCommercial(['check-config', '--replication-config', pair.primaryConfig]);
  assert.equal(refused.code, 78);
  const lines = refused.stderr.trim().split('\n');
  assert.equal(lines.length, 1, refused.stderr);
  const mtlsCertLine = readFileSync(pair.primaryConfig, 'utf8').split('\n').findIndex((l) => l.startsWith('  mtls_cert:')) + 1;
  assert.ok(mtlsCertLine > 0);
  assert.match(lines[0]!, new RegExp(`^${pair.primaryConfig.replaceAll('.', '\\.')}:${mtlsCertLine}:3: auth\\.mtls_cert: .*the intermediate certificate "CN=f15-intermediate" \\(2nd in the file\\) expired on \\d{4}-`));

  pair.primary.signal('SIGHUP');
  await waitFor('reload refused', () => pair.primary.logLines().some((l) => l.event === 'pop.reload_refused'));
  assert.match(pair.primary.stderr, /auth\.mtls_cert: .*intermediate certificate .* expired on/);
  await replicated('after the refused reload');
  assert.equal(pair.primary.exitCode, null, 'the primary keeps running');
});

test('F15: the POP binary refuses to start on a chain whose intermediate expired (exit 78)', async (t) => {
  const pair = await provisionPair();
  t.after(() => pair.stop());
  const root = await makeCa('f15-root');
  const expiredInter = await makeIntermediate(root, 'f15-old-intermediate', { notBefore: new Date(Date.now() - 400 * 86400_000), notAfter: new Date(Date.now() - 86400_000) });
  const leaf = await issue(expiredInter, 'zurich-01');
  writeFileSync(join(pair.dir, 'z.chain.crt'), `${leaf.cert.trim()}\n${expiredInter.cert}`);
  writeFileSync(join(pair.dir, 'z.key'), leaf.key, { mode: 0o600 });
  writeFileSync(join(pair.dir, 'root.crt'), root.cert);
  pair.writeConfig('backup', pair.yamlFor('backup', 'backup').replace(/(auth:\n {2}token_file: "[^"]+"\n)/,
    `$1  mtls_cert: "${join(pair.dir, 'z.chain.crt')}"\n  mtls_key: "${join(pair.dir, 'z.key')}"\n  mtls_ca: "${join(pair.dir, 'root.crt')}"\n`));
  const r = spawnSync(process.execPath, [BIN.commercial, ...pair.backup.args, '--tls-cert', join(pair.dir, 'z.chain.crt'), '--tls-key', join(pair.dir, 'z.key')], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 78, r.stderr);
  assert.match(r.stderr, /auth\.mtls_cert: .*"CN=f15-old-intermediate" \(2nd in the file\) expired on/);
  // The same chain as the HTTPS certificate only (no mTLS in the file): refused too, naming --tls-cert.
  pair.writeConfig('backup', pair.yamlFor('backup', 'backup'));
  const https = spawnSync(process.execPath, [BIN.commercial, ...pair.backup.args, '--tls-cert', join(pair.dir, 'z.chain.crt'), '--tls-key', join(pair.dir, 'z.key')], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(https.status, 78, https.stderr);
  assert.match(https.stderr, /^CV-1001: --tls-cert \S+z\.chain\.crt: the intermediate certificate "CN=f15-old-intermediate" \(2nd in the file\) expired on/);
});
