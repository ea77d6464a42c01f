/**
 * Mutual TLS between POPs (DESIGN.md §4.2 `auth.mtls_*`, §4.4.12; issue 4 item 1) and case F6
 * (certificate renewed on disk, picked up on SIGHUP without a restart; an expired certificate is
 * refused with a clear error). Real HTTPS with certificates generated here, plus one
 * interoperability check with the `openssl` command line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { Agent } from 'undici';
import { api, createVault, provisionPair, waitFor, type Pair } from '../kit/pop.js';
import { issue, makeCa, writePem, type Pem } from '../kit/pki.js';

interface TlsPair extends Pair {
  ca: Pem;
  files: { calgary: { cert: string; key: string }; zurich: { cert: string; key: string }; ca: string };
  dispatcher: Agent;
  yaml(which: 'primary' | 'backup'): string;
}

/** A pair serving HTTPS, with mutual TLS on the replication link. */
async function tlsPair(opts: { maxRetries?: number; backupKnowsPrimary?: boolean } = {}): Promise<TlsPair> {
  const pair = await provisionPair({ maxRetries: opts.maxRetries ?? 5, backupKnowsPrimary: opts.backupKnowsPrimary ?? true });
  const ca = await makeCa();
  const files = {
    calgary: writePem(pair.dir, 'calgary-01', await issue(ca, 'calgary-01')),
    zurich: writePem(pair.dir, 'zurich-01', await issue(ca, 'zurich-01')),
    ca: join(pair.dir, 'ca.crt'),
  };
  writeFileSync(files.ca, ca.cert);
  const dispatcher = new Agent({ connect: { ca: ca.cert } });
  const mtls = (f: { cert: string; key: string }) => `  mtls_cert: "${f.cert}"\n  mtls_key: "${f.key}"\n  mtls_ca: "${files.ca}"\n`;
  const yaml = (which: 'primary' | 'backup') => pair.yamlFor(which, which === 'primary' ? 'primary' : 'backup')
    .replaceAll('http://127.0.0.1', 'https://127.0.0.1')
    .replace(/(auth:\n {2}token_file: "[^"]+"\n)/, `$1${mtls(which === 'primary' ? files.calgary : files.zurich)}`);
  pair.writeConfig('primary', yaml('primary'));
  pair.writeConfig('backup', yaml('backup'));
  pair.primary.args.push('--tls-cert', files.calgary.cert, '--tls-key', files.calgary.key);
  pair.backup.args.push('--tls-cert', files.zurich.cert, '--tls-key', files.zurich.key);
  pair.primary.https = { dispatcher };
  pair.backup.https = { dispatcher };
  return Object.assign(pair, { ca, files, dispatcher, yaml });
}

/** SHA-256 fingerprint (as Node prints it) of the certificate a TLS server presents. */
function serverFingerprint(port: number, caPem: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, ca: caPem, servername: 'zurich-01' }, () => {
      resolve(s.getPeerCertificate().fingerprint256);
      s.end();
    });
    s.on('error', reject);
  });
}


/** A started mTLS pair (backup first), stopped when `t` ends, with a vault on the primary. */
async function runningTlsPairWithVault(t: { after(fn: () => Promise<void>): void }): Promise<{ pair: TlsPair; P: string; B: string; owner: string }> {
  const pair = await tlsPair();
  t.after(() => pair.stop());
  await pair.backup.start();
  await pair.primary.start();
  const P = pair.primary.url;
  const { owner } = await createVault(P, pair.primary.adminToken(), pair.dispatcher);
  return { pair, P, B: pair.backup.url, owner };
}
test('replication runs over mutual TLS; wrong CA, wrong identity and expired certificates are refused with a logged reason', async (t) => {
  const { pair, P, B, owner } = await runningTlsPairWithVault(t);
  assert.match(P, /^https:/);
  const e = await api(P, 'POST', '/api/entries', { token: owner, body: { title: 'over mtls' }, dispatcher: pair.dispatcher });
  assert.equal(e.status, 201);
  await waitFor('entry on backup', async () => (await api(B, 'GET', `/api/entries/${e.json.id}`, { token: owner, dispatcher: pair.dispatcher })).status === 200);
  // Readable on the backup from its commit; the push is logged once its fsync returned.
  await waitFor('a push logged', () => pair.backup.logLines().some((l) => l.event === 'replication.push_applied'));
  const pushes = pair.backup.logLines().filter((l) => l.event === 'replication.push_applied');
  assert.ok(pushes.length > 0);
  const calgaryFp = new X509Certificate(readFileSync(pair.files.calgary.cert)).fingerprint256;
  assert.equal(pushes.at(-1)!.peer_cert, calgaryFp, 'the primary presented its client certificate');

  const token = readFileSync(pair.keyFile, 'utf8').trim();
  const otherCa = await makeCa('someone-else');
  const cases: { name: string; pem: Pem | undefined; reason: RegExp }[] = [
    { name: 'no client certificate', pem: undefined, reason: /no client certificate/ },
    { name: 'wrong CA', pem: await issue(otherCa, 'calgary-01'), reason: /client certificate refused/ },
    { name: 'wrong identity', pem: await issue(pair.ca, 'evil-01'), reason: /does not name the configured peer calgary-01/ },
    // Issue 13 §1: a certificate naming the backup itself is never its peer, whatever else it names.
    { name: 'names the backup itself', pem: await issue(pair.ca, ['calgary-01', 'zurich-01']), reason: /names this POP itself \(zurich-01\)/ },
    { name: 'only the backup itself', pem: await issue(pair.ca, 'zurich-01'), reason: /names this POP itself \(zurich-01\)/ },
    { name: 'expired', pem: await issue(pair.ca, 'calgary-01', { notBefore: new Date(Date.now() - 10 * 86400_000), notAfter: new Date(Date.now() - 86400_000) }), reason: /CERT_HAS_EXPIRED/ },
    { name: 'not yet valid', pem: await issue(pair.ca, 'calgary-01', { notBefore: new Date(Date.now() + 86400_000), notAfter: new Date(Date.now() + 10 * 86400_000) }), reason: /CERT_NOT_YET_VALID/ },
  ];
  for (const c of cases) {
    const d = new Agent({ connect: { ca: pair.ca.cert, ...(c.pem ? { cert: c.pem.cert, key: c.pem.key } : {}) } });
    const r = await api(B, 'GET', '/replication/v1/epoch', { token, dispatcher: d });
    await d.close();
    assert.equal(r.status, 401, c.name);
    assert.equal(r.json.error.code, 'CV-2005', c.name);
    const logged = pair.backup.logLines().filter((l) => l.event === 'replication.auth_failed').at(-1);
    assert.match(String(logged?.reason), c.reason, c.name);
  }

  // Interoperability: the openssl command line, presenting calgary-01's certificate, is accepted.
  const req = `GET /replication/v1/epoch HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\nConnection: close\r\n\r\n`;
  const ossl = spawnSync('openssl', ['s_client', '-quiet', '-connect', `127.0.0.1:${pair.backup.port}`, '-CAfile', pair.files.ca, '-cert', pair.files.calgary.cert, '-key', pair.files.calgary.key, '-verify_return_error'], { input: req, encoding: 'utf8', timeout: 10000 });
  assert.match(ossl.stdout, /HTTP\/1\.1 200/, ossl.stderr);
  assert.match(ossl.stdout, /"pop_id":"zurich-01"/);
});

test('an mTLS backup that does not name its primary_pop refuses to start (exit 78), naming the key', async (t) => {
  const pair = await tlsPair({ backupKnowsPrimary: false });
  t.after(() => pair.stop());
  await assert.rejects(pair.backup.start(), /exited 78/);
  assert.equal(pair.backup.exitCode, 78);
  const lines = pair.backup.stderr.trim().split('\n');
  assert.equal(lines.length, 1, pair.backup.stderr);
  assert.match(lines[0]!, new RegExp(`^${pair.backupConfig.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3:7: primary_pop: required when role is "backup" and auth.mtls_ca is set`));
});

test('case F6: a renewed certificate is used after SIGHUP without a restart; an expired one is refused on reload', async (t) => {
  const { pair, P, B, owner } = await runningTlsPairWithVault(t);
  const before = await serverFingerprint(pair.backup.port, pair.ca.cert);

  // Renew both certificates on disk (same names, new keys), then SIGHUP both.
  const renewedZ = await issue(pair.ca, 'zurich-01');
  const renewedC = await issue(pair.ca, 'calgary-01');
  writePem(pair.dir, 'zurich-01', renewedZ);
  writePem(pair.dir, 'calgary-01', renewedC);
  const backupPid = pair.backup.proc!.pid;
  const primaryPid = pair.primary.proc!.pid;
  pair.backup.signal('SIGHUP');
  pair.primary.signal('SIGHUP');
  await waitFor('backup TLS reloaded', () => pair.backup.logLines().some((l) => l.event === 'tls.reloaded'));
  await waitFor('primary reloaded', () => pair.primary.logLines().some((l) => l.event === 'pop.reloaded'));
  const after = await serverFingerprint(pair.backup.port, pair.ca.cert);
  assert.notEqual(after, before, 'new connections get the renewed server certificate');
  assert.equal(after, new X509Certificate(renewedZ.cert).fingerprint256);

  const applied = () => pair.backup.logLines().filter((l) => l.event === 'replication.push_applied' && Number(l.applied) > 0);
  const appliedBefore = applied().length;
  const e = await api(P, 'POST', '/api/entries', { token: owner, body: { title: 'after renewal' }, dispatcher: pair.dispatcher });
  await waitFor('entry on backup', async () => (await api(B, 'GET', `/api/entries/${e.json.id}`, { token: owner, dispatcher: pair.dispatcher })).status === 200);
  // The entry is readable on the backup from its commit; the push is logged once its fsync returned.
  await waitFor('push of the entry logged', () => applied().length > appliedBefore);
  const last = applied().at(-1);
  assert.equal(last?.peer_cert, new X509Certificate(renewedC.cert).fingerprint256, 'the primary presents its renewed client certificate');
  assert.equal(pair.backup.proc!.pid, backupPid);
  assert.equal(pair.primary.proc!.pid, primaryPid);

  // An expired certificate on disk: the reload is refused with one clear line, the old one keeps working.
  writePem(pair.dir, 'calgary-01', await issue(pair.ca, 'calgary-01', { notBefore: new Date(Date.now() - 10 * 86400_000), notAfter: new Date(Date.now() - 86400_000) }));
  pair.primary.signal('SIGHUP');
  await waitFor('reload refused', () => pair.primary.logLines().some((l) => l.event === 'pop.reload_refused'));
  assert.match(pair.primary.stderr, /auth\.mtls_cert: .*certificate expired on \d{4}-\d{2}-\d{2}T/);
  const e2 = await api(P, 'POST', '/api/entries', { token: owner, body: { title: 'still replicating' }, dispatcher: pair.dispatcher });
  await waitFor('entry on backup after refused reload', async () => (await api(B, 'GET', `/api/entries/${e2.json.id}`, { token: owner, dispatcher: pair.dispatcher })).status === 200);
});
