/**
 * Test PKI: a CA and POP certificates generated at run time with `selfsigned` (never committed).
 * Certificates name the POP id as a DNS subjectAltName and 127.0.0.1 as an IP one, and allow both
 * server and client authentication, as DESIGN.md §4.2's per-POP mTLS certificates do.
 */
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generate } from 'selfsigned';

/** PEM key and certificate. */
export interface Pem {
  key: string;
  cert: string;
}

/** A new self-signed CA. */
export async function makeCa(name = 'clavitor-test-ca'): Promise<Pem> {
  const r = await generate([{ name: 'commonName', value: name }], {
    keyType: 'ec', curve: 'P-256', algorithm: 'sha256',
    extensions: [{ name: 'basicConstraints', cA: true, critical: true }, { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true }],
  });
  return { key: r.private, cert: r.cert };
}

/**
 * A certificate for `popId` signed by `ca`, valid between the given dates (default: now − 1 h …
 * now + 30 days). A list names every POP id in subjectAltName (the first is the common name).
 */
export async function issue(ca: Pem, popId: string | readonly string[], validity: { notBefore?: Date; notAfter?: Date } = {}): Promise<Pem> {
  const ids = typeof popId === 'string' ? [popId] : popId;
  const notBeforeDate = validity.notBefore ?? new Date(Date.now() - 3600_000);
  const notAfterDate = validity.notAfter ?? new Date(Date.now() + 30 * 86400_000);
  const r = await generate([{ name: 'commonName', value: ids[0] ?? '' }], {
    keyType: 'ec', curve: 'P-256', algorithm: 'sha256', notBeforeDate, notAfterDate, ca,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
      { name: 'subjectAltName', altNames: [...ids.map((value) => ({ type: 2 as const, value })), { type: 7 as const, ip: '127.0.0.1' }] },
    ],
  });
  return { key: r.private, cert: r.cert };
}

/** Writes `pem` as `<dir>/<name>.crt` and `<dir>/<name>.key` (0600); returns both paths. */
export function writePem(dir: string, name: string, pem: Pem): { cert: string; key: string } {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  writeFileSync(cert, pem.cert);
  writeFileSync(key, pem.key, { mode: 0o600 });
  chmodSync(key, 0o600);
  return { cert, key };
}

/**
 * An intermediate CA signed by `ca` (basicConstraints CA:TRUE, keyUsage keyCertSign), valid between
 * the given dates (default: now − 1 h … now + 30 days). Pass past dates for an expired one (case F15).
 */
export async function makeIntermediate(ca: Pem, name: string, validity: { notBefore?: Date; notAfter?: Date } = {}): Promise<Pem> {
  const r = await generate([{ name: 'commonName', value: name }], {
    keyType: 'ec', curve: 'P-256', algorithm: 'sha256', ca,
    notBeforeDate: validity.notBefore ?? new Date(Date.now() - 3600_000),
    notAfterDate: validity.notAfter ?? new Date(Date.now() + 30 * 86400_000),
    extensions: [{ name: 'basicConstraints', cA: true, critical: true }, { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true }],
  });
  return { key: r.private, cert: r.cert };
}
