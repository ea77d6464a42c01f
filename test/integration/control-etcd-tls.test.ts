/**
 * `clavitor-control --etcd https://…` with a private CA and etcd's client-certificate
 * authentication (`--etcd-ca-file`, `--etcd-cert`, `--etcd-key`; docs/control-plane.md). A
 * newcomer's try-out found no way to give the control plane a CA or a client certificate: its POP
 * state could reach a secured etcd only through the system roots, or in the clear. A real etcd
 * (Debian's etcd-server) serves TLS with certificates made here and refuses clients without one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readTokenFile } from '../../src/config/token-file.js';
import { issue, makeCa, writePem } from '../kit/pki.js';
import { controlCli, controlFixture, controlProc, SimPop, startEtcd } from '../kit/control.js';

test('etcd over TLS with a private CA and a client certificate; without the certificate heartbeats get 503 CV-6102', async (t) => {
  const fx = controlFixture();
  t.after(() => fx.cleanup());
  const ca = await makeCa('etcd-test-ca');
  const caFile = writePem(fx.dir, 'ca', ca).cert;
  const server = writePem(fx.dir, 'etcd', await issue(ca, 'localhost'));
  const client = writePem(fx.dir, 'control', await issue(ca, 'control'));
  const etcd = await startEtcd(fx.dir, { ca: caFile, ...server, client });
  if (etcd === undefined) {
    t.skip('CLAVITOR_NO_ETCD=1: etcd tests skipped');
    return;
  }
  t.after(() => etcd.stop());
  assert.match(etcd.endpoint, /^https:/);
  const token = readTokenFile(fx.tokenFile)[0]!;

  const good = await controlProc('cp-tls', fx, token, ['--etcd', etcd.endpoint, '--etcd-ca-file', caFile, '--etcd-cert', client.cert, '--etcd-key', client.key]);
  t.after(() => good.kill());
  await good.start();
  const pop = new SimPop('calgary-01', 'zurich-01', 'primary');
  assert.equal((await pop.beat(good)).answer.lease_ttl_ms, 2000);
  assert.equal((await good.status()).control_plane.store, 'etcd');

  // The CA alone: etcd refuses the TLS client without a certificate, so no state is reachable.
  const noCert = await controlProc('cp-nocert', fx, token, ['--etcd', etcd.endpoint, '--etcd-ca-file', caFile]);
  t.after(() => noCert.kill());
  await noCert.start();
  const r = await noCert.heartbeat(new SimPop('zurich-01', 'calgary-01', 'backup').report());
  assert.equal(r.status, 503);
  assert.equal(r.json.error.code, 'CV-6102');
});

test('etcd TLS flags are refused at start when they would be unused or are incomplete (exit 78)', async (t) => {
  const fx = controlFixture();
  t.after(() => fx.cleanup());
  const base = ['serve', '--data', `${fx.dir}/d`, '--listen', '127.0.0.1:0', '--token-file', fx.tokenFile];
  const cases: [string[], RegExp][] = [
    [['--etcd', 'http://127.0.0.1:2379', '--etcd-ca-file', fx.tokenFile], /need https:\/\/ endpoints; http:\/\/127\.0\.0\.1:2379 would talk to etcd in the clear/],
    [['--etcd', 'https://127.0.0.1:2379', '--etcd-cert', fx.tokenFile], /--etcd-cert and --etcd-key go together/],
    [['--etcd', 'https://127.0.0.1:2379', '--etcd-ca-file', `${fx.dir}/missing.pem`], /--etcd-ca-file .*missing\.pem: ENOENT/],
    [['--etcd-ca-file', fx.tokenFile], /need --etcd/],
  ];
  for (const [extra, message] of cases) {
    const r = await controlCli(...base, ...extra);
    assert.equal(r.status, 78, `${extra.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /CV-1001/);
    assert.match(r.stderr, message);
  }
});
