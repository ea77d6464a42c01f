/**
 * Whole-chain checks of `auth.mtls_cert` (issue 11 item 5, case F15; src/lib/tls-chain.ts).
 * Expected outcomes come from RFC 5280 and the issue: every certificate within its dates,
 * intermediates CA:TRUE with keyCertSign, the POP certificate with digitalSignature and
 * serverAuth + clientAuth, the chain ending at an `auth.mtls_ca` certificate.
 * Run: node --import tsx --test test/unit/tls-chain.test.ts
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { generate } from 'selfsigned';
import { certificateChainProblem, keyUsageOf, parseCertificateBundle } from '../../src/lib/tls-chain.js';
import { issue, makeCa, makeIntermediate, type Pem } from '../kit/pki.js';

const x = (pem: Pem | string) => new X509Certificate(typeof pem === 'string' ? pem : pem.cert);
const DAY = 86400_000;
const now = new Date();
const root = await makeCa('unit-root');
const inter = await makeIntermediate(root, 'unit-intermediate');
const leaf = await issue(inter, 'calgary-01');

/** The `extensions` option of selfsigned's `generate` (its element type is not exported). */
type Extensions = NonNullable<NonNullable<Parameters<typeof generate>[1]>['extensions']>;

/** A certificate signed by `ca` with the given extensions (for the usage rules). */
async function custom(ca: Pem, cn: string, extensions: Extensions): Promise<Pem> {
  const r = await generate([{ name: 'commonName', value: cn }], { keyType: 'ec', curve: 'P-256', algorithm: 'sha256', ca, extensions, notBeforeDate: new Date(Date.now() - 3600_000), notAfterDate: new Date(Date.now() + 30 * DAY) });
  return { key: r.private, cert: r.cert };
}

test('a good chain (POP certificate, intermediate) verifies against the root in mtls_ca', () => {
  assert.equal(certificateChainProblem([x(leaf), x(inter)], [x(root)], now), undefined);
});

test('intermediates may come in any order and the anchor may itself be in mtls_ca', () => {
  const inter2 = makeIntermediate(inter, 'unit-intermediate-2');
  return inter2.then(async (i2) => {
    const l2 = await issue(i2, 'calgary-01');
    assert.equal(certificateChainProblem([x(l2), x(inter), x(i2)], [x(root)], now), undefined);
    assert.equal(certificateChainProblem([x(leaf)], [x(inter)], now), undefined, 'intermediate trusted directly');
  });
});

test('an expired intermediate is refused, naming it and its place in the file', async () => {
  const old = await makeIntermediate(root, 'old-intermediate', { notBefore: new Date(Date.now() - 400 * DAY), notAfter: new Date(Date.now() - DAY) });
  const l = await issue(old, 'calgary-01');
  const p = certificateChainProblem([x(l), x(old)], [x(root)], now);
  assert.match(p ?? '', /^the intermediate certificate "CN=old-intermediate" \(2nd in the file\) expired on \d{4}-\d{2}-\d{2}T/);
  assert.match(p ?? '', /CERT_HAS_EXPIRED/);
  // Without mtls_ca the chain in the file is still followed, so the expiry is still caught.
  assert.match(certificateChainProblem([x(l), x(old)], undefined, now) ?? '', /expired on/);
});

test('a not-yet-valid intermediate is refused', async () => {
  const future = await makeIntermediate(root, 'future-intermediate', { notBefore: new Date(Date.now() + DAY), notAfter: new Date(Date.now() + 30 * DAY) });
  const l = await issue(future, 'calgary-01');
  assert.match(certificateChainProblem([x(l), x(future)], [x(root)], now) ?? '', /"CN=future-intermediate" .* is not valid before/);
});

test('an expired root in mtls_ca is refused', async () => {
  const r = await generate([{ name: 'commonName', value: 'old-root' }], { keyType: 'ec', curve: 'P-256', algorithm: 'sha256', notBeforeDate: new Date(Date.now() - 400 * DAY), notAfterDate: new Date(Date.now() - DAY), extensions: [{ name: 'basicConstraints', cA: true, critical: true }, { name: 'keyUsage', keyCertSign: true, critical: true }] });
  const oldRoot = { key: r.private, cert: r.cert };
  const l = await issue(oldRoot, 'calgary-01');
  assert.match(certificateChainProblem([x(l)], [x(oldRoot)], now) ?? '', /CA certificate "CN=old-root" in auth\.mtls_ca expired on/);
});

test('an intermediate that is not a CA (basicConstraints CA:FALSE) is refused', async () => {
  const notCa = await custom(root, 'not-a-ca', [{ name: 'basicConstraints', cA: false }, { name: 'keyUsage', keyCertSign: true, digitalSignature: true }]);
  const l = await issue(notCa, 'calgary-01');
  assert.match(certificateChainProblem([x(l), x(notCa)], [x(root)], now) ?? '', /"CN=not-a-ca" .* is not a CA/);
});

test('an intermediate whose keyUsage lacks keyCertSign is refused', async () => {
  const noSign = await custom(root, 'no-sign', [{ name: 'basicConstraints', cA: true, critical: true }, { name: 'keyUsage', cRLSign: true, digitalSignature: true, critical: true }]);
  const l = await issue(noSign, 'calgary-01');
  assert.match(certificateChainProblem([x(l), x(noSign)], [x(root)], now) ?? '', /"CN=no-sign" .* without keyCertSign/);
});

test('a POP certificate without clientAuth or serverAuth, or without digitalSignature, is refused', async () => {
  const serverOnly = await custom(inter, 'calgary-01', [{ name: 'keyUsage', digitalSignature: true }, { name: 'extKeyUsage', serverAuth: true }]);
  assert.match(certificateChainProblem([x(serverOnly), x(inter)], [x(root)], now) ?? '', /extendedKeyUsage lacks clientAuth/);
  const clientOnly = await custom(inter, 'calgary-01', [{ name: 'keyUsage', digitalSignature: true }, { name: 'extKeyUsage', clientAuth: true }]);
  assert.match(certificateChainProblem([x(clientOnly), x(inter)], [x(root)], now) ?? '', /extendedKeyUsage lacks serverAuth/);
  const noSig = await custom(inter, 'calgary-01', [{ name: 'keyUsage', keyEncipherment: true }, { name: 'extKeyUsage', serverAuth: true, clientAuth: true }]);
  assert.match(certificateChainProblem([x(noSig), x(inter)], [x(root)], now) ?? '', /keyUsage lacks digitalSignature/);
  const noExt = await custom(inter, 'calgary-01', []);
  assert.equal(certificateChainProblem([x(noExt), x(inter)], [x(root)], now), undefined, 'no keyUsage/EKU extension: every usage allowed (RFC 5280)');
});

test('a chain that does not reach mtls_ca (missing intermediate, other CA, forged signature) is refused', async () => {
  assert.match(certificateChainProblem([x(leaf)], [x(root)], now) ?? '', /does not lead to a certificate in auth\.mtls_ca: .*"CN=calgary-01" \(issuer "CN=unit-intermediate"\)/);
  const other = await makeCa('other-root');
  assert.match(certificateChainProblem([x(leaf), x(inter)], [x(other)], now) ?? '', /does not lead to a certificate in auth\.mtls_ca/);
  // Same names, different key: the names match but the signature does not verify.
  const impostor = await makeIntermediate(other, 'unit-intermediate');
  assert.match(certificateChainProblem([x(leaf), x(impostor)], [x(root)], now) ?? '', /does not lead to a certificate in auth\.mtls_ca/);
});

test('keyUsageOf reads the bits; a bundle without newline between blocks is refused', () => {
  assert.deepEqual(keyUsageOf(x(root)), { digitalSignature: true, keyEncipherment: false, keyCertSign: true });
  assert.deepEqual(keyUsageOf(x(leaf)), { digitalSignature: true, keyEncipherment: true, keyCertSign: false });
  assert.equal(parseCertificateBundle(Buffer.from(`${leaf.cert.trim()}\n${inter.cert}`)).length, 2);
  assert.throws(() => parseCertificateBundle(Buffer.from(`${leaf.cert.trim()}${inter.cert}`)), /not on a line of its own/);
});
