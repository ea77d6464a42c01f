/**
 * Checks of the mutual-TLS files named in `auth:` (DESIGN.md §4.2 "mtls_cert / mtls_key …
 * must not be the token file", §4.4 item 12 "mutual TLS when configured"): the certificate and
 * CA parse as X.509, the private key parses, is protected like an ssh key (no group/other
 * permission bits) and matches the certificate.
 */
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { statSync } from 'node:fs';
import { FileCheckError, readCheckedFile } from './file-check.js';
import { certificateChainProblem, parseCertificateBundle } from './tls-chain.js';

/** Largest certificate, CA bundle or key file accepted, in bytes. */
export const MAX_PEM_FILE_BYTES = 1024 * 1024;

/**
 * Read `absPath` and parse its first PEM (or DER) certificate.
 * @throws FileCheckError when the file is unusable or holds no certificate.
 */
export function readCertificateFile(absPath: string): X509Certificate {
  const data = readCheckedFile(absPath, { maxBytes: MAX_PEM_FILE_BYTES, private: false });
  try {
    return new X509Certificate(data);
  } catch {
    throw new FileCheckError('does not contain a PEM certificate (-----BEGIN CERTIFICATE-----)');
  }
}

/**
 * Read `absPath` and parse every certificate in it (a chain file: POP certificate first, then
 * intermediates; or a CA bundle), in file order.
 * @throws FileCheckError when the file is unusable, holds no certificate or a block does not parse.
 */
export function readCertificateBundleFile(absPath: string): X509Certificate[] {
  const data = readCheckedFile(absPath, { maxBytes: MAX_PEM_FILE_BYTES, private: false });
  try {
    return parseCertificateBundle(data);
  } catch {
    throw new FileCheckError('does not contain PEM certificates (-----BEGIN CERTIFICATE-----), or one of them does not parse');
  }
}

/**
 * Read `absPath` as an unencrypted private key, refusing it when group or others have any
 * permission on it (mode 0600 or 0400 required).
 * @throws FileCheckError when the file is unusable, too permissive or holds no usable key.
 */
export function readPrivateKeyFile(absPath: string): KeyObject {
  const data = readCheckedFile(absPath, { maxBytes: MAX_PEM_FILE_BYTES, private: true });
  try {
    return createPrivateKey(data);
  } catch {
    throw new FileCheckError('does not contain an unencrypted PEM private key (-----BEGIN PRIVATE KEY-----)');
  }
}

/** True when `cert` was issued for `key` (the public key in the certificate matches). */
export function keyMatchesCertificate(cert: X509Certificate, key: KeyObject): boolean {
  try {
    return cert.checkPrivateKey(key);
  } catch {
    return false;
  }
}

/**
 * True when both paths name the same file (same device and inode, so symbolic and hard links are
 * caught). False when either cannot be stat'ed.
 */
export function isSameFile(a: string, b: string): boolean {
  try {
    const sa = statSync(a);
    const sb = statSync(b);
    return sa.dev === sb.dev && sa.ino === sb.ino;
  } catch {
    return false;
  }
}

/**
 * Says why `cert` cannot be used at `now` (expired, or not yet valid), or undefined when it is
 * within its validity period (case F6: "an expired certificate is refused with a clear error").
 */
export function certificateValidityProblem(cert: X509Certificate, now: Date): string | undefined {
  const notAfter = new Date(cert.validTo);
  const notBefore = new Date(cert.validFrom);
  if (now > notAfter) return `certificate expired on ${notAfter.toISOString()}; install a renewed certificate and send SIGHUP`;
  if (now < notBefore) return `certificate is not valid before ${notBefore.toISOString()}; check the clock or the certificate`;
  return undefined;
}

/**
 * Says why the `--tls-cert` file (the POP's HTTPS certificate, optionally followed by its
 * intermediates) cannot serve at `now`, or undefined: unreadable, the certificate or an
 * intermediate outside its dates, an intermediate that is not a CA, or a certificate not allowed
 * for serverAuth (issue 11 item 5, case F15). The chain is followed as far as the file goes; the
 * anchor is not required, since clients may trust a CA this POP does not know.
 */
export function serverCertificateProblem(certFile: string, now: Date = new Date()): string | undefined {
  let chain: X509Certificate[];
  try {
    chain = readCertificateBundleFile(certFile);
  } catch (e) {
    if (e instanceof FileCheckError) return e.reason;
    throw e;
  }
  const leaf = chain[0];
  return (leaf && certificateValidityProblem(leaf, now)) || certificateChainProblem(chain, undefined, now, ['serverAuth']);
}
