/**
 * Whole-chain validation of `auth.mtls_cert` against `auth.mtls_ca` (issue 11 item 5, case F15:
 * "a renewed chain file carries an expired intermediate"). The POP certificate is used both as a
 * TLS server and a TLS client certificate (DESIGN.md §4.2, §4.4.12), so its chain must verify as
 * the peer will verify it: every certificate within its dates, each one signed by the next,
 * intermediates marked as CAs that may sign certificates, the POP certificate allowed for digital
 * signatures and for both serverAuth and clientAuth (RFC 5280 §4.2.1.3, §4.2.1.9, §4.2.1.12),
 * ending at a certificate of the `mtls_ca` bundle. Built on node:crypto `X509Certificate`.
 */
import { X509Certificate } from 'node:crypto';

/** RFC 5280 extended key usage OIDs. */
const EKU_SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const EKU_CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const EKU_ANY = '2.5.29.37.0';
/** Longest chain followed, in certificates (a loop or a huge bundle stops here). */
const MAX_CHAIN_DEPTH = 8;

/** Key usage bits of RFC 5280 §4.2.1.3 that matter here. */
export interface KeyUsageBits {
  readonly digitalSignature: boolean;
  readonly keyEncipherment: boolean;
  readonly keyCertSign: boolean;
}

/**
 * Every certificate of a PEM bundle, in file order (a DER file gives one).
 * @throws Error when a PEM block does not parse, or its BEGIN/END lines are not lines of their
 *   own (`cat a.crt b.crt` of a file without a final newline: OpenSSL refuses it as "bad end line").
 */
export function parseCertificateBundle(data: Buffer): X509Certificate[] {
  const text = data.toString('latin1');
  const blocks = text.match(/^-----BEGIN CERTIFICATE-----\r?$[\s\S]+?^-----END CERTIFICATE-----\r?$/gm);
  const begins = text.match(/-----BEGIN CERTIFICATE-----/g)?.length ?? 0;
  if (!blocks && begins === 0) return [new X509Certificate(data)];
  if (!blocks || blocks.length !== begins) throw new Error('a BEGIN or END CERTIFICATE line is not on a line of its own');
  return blocks.map((b) => new X509Certificate(b));
}

interface Tlv { tag: number; start: number; end: number }

function tlv(buf: Buffer, off: number, limit: number): Tlv {
  if (off + 2 > limit) throw new Error('truncated');
  const tag = buf[off]!;
  let len = buf[off + 1]!;
  let start = off + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || start + n > limit) throw new Error('bad length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[start + i]!;
    start += n;
  }
  if (start + len > limit) throw new Error('truncated');
  return { tag, start, end: start + len };
}

function children(buf: Buffer, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let off = parent.start; off < parent.end;) {
    const t = tlv(buf, off, parent.end);
    out.push(t);
    off = t.end;
  }
  return out;
}

/**
 * The keyUsage extension (OID 2.5.29.15) of `cert`, read from its DER, or undefined when the
 * certificate has none (then every usage is allowed, RFC 5280 §4.2.1.3) or it cannot be read.
 */
export function keyUsageOf(cert: X509Certificate): KeyUsageBits | undefined {
  try {
    const der = cert.raw;
    const root = tlv(der, 0, der.length);
    const tbs = children(der, root)[0]!;
    const extsWrap = children(der, tbs).find((c) => c.tag === 0xa3);
    if (!extsWrap) return undefined;
    const exts = children(der, children(der, extsWrap)[0]!);
    for (const ext of exts) {
      const parts = children(der, ext);
      const oid = parts[0]!;
      if (der.subarray(oid.start, oid.end).equals(Buffer.from([0x55, 0x1d, 0x0f]))) {
        const octets = parts.at(-1)!;
        const bits = tlv(der, octets.start, octets.end);
        const b0 = bits.end - bits.start >= 2 ? der[bits.start + 1]! : 0;
        return { digitalSignature: (b0 & 0x80) !== 0, keyEncipherment: (b0 & 0x20) !== 0, keyCertSign: (b0 & 0x04) !== 0 };
      }
    }
    return undefined;
  } catch {
    return undefined;
  }
}

/** `CN=…, O=…` on one line. */
export function subjectOf(cert: X509Certificate): string {
  return cert.subject.split('\n').join(', ');
}

function ordinal(n: number): string {
  return n === 1 ? '1st' : n === 2 ? '2nd' : n === 3 ? '3rd' : `${n}th`;
}

/**
 * True when `issuer` signed `child`: the signature verifies and the names match. (OpenSSL's
 * checkIssued also refuses an issuer without keyCertSign; the name comparison here lets that case
 * be reported as what it is.)
 */
function signedBy(child: X509Certificate, issuer: X509Certificate): boolean {
  try {
    return (child.checkIssued(issuer) || child.issuer === issuer.subject) && child.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

function datesProblem(cert: X509Certificate, what: string, now: Date): string | undefined {
  const notAfter = new Date(cert.validTo);
  const notBefore = new Date(cert.validFrom);
  if (now > notAfter) return `${what} expired on ${notAfter.toISOString()}`;
  if (now < notBefore) return `${what} is not valid before ${notBefore.toISOString()}; check the clock or the certificate`;
  return undefined;
}

/**
 * Says why the chain in an `auth.mtls_cert` file cannot be used at `now`, or undefined when it
 * verifies. `chain[0]` is the POP certificate (its own dates are checked by the caller, with the
 * F6 wording), the rest are intermediates in any order; `anchors` is the `auth.mtls_ca` bundle
 * (undefined when mtls_ca is not set: then the chain is followed as far as the file goes).
 * Checked: the POP certificate's keyUsage (digitalSignature) and extendedKeyUsage (serverAuth and
 * clientAuth, or anyExtendedKeyUsage) when present; each issuer found by name and signature;
 * every intermediate within its dates, basicConstraints CA:TRUE, keyUsage keyCertSign when
 * present; the chain ends at an anchor that is itself within its dates. `need`: the extended key
 * usages the POP certificate must allow (default both: `auth.mtls_cert` serves and is presented;
 * `--tls-cert` needs only serverAuth).
 */
export function certificateChainProblem(chain: readonly X509Certificate[], anchors: readonly X509Certificate[] | undefined, now: Date, need: readonly ('serverAuth' | 'clientAuth')[] = ['serverAuth', 'clientAuth']): string | undefined {
  const leaf = chain[0];
  if (!leaf) return 'holds no certificate';
  const ku = keyUsageOf(leaf);
  if (ku && !ku.digitalSignature) return 'the POP certificate\'s keyUsage lacks digitalSignature, which TLS needs; reissue it with keyUsage = critical, digitalSignature';
  const eku = leaf.keyUsage;
  if (eku && eku.length > 0 && !eku.includes(EKU_ANY)) {
    const missing = [[EKU_SERVER_AUTH, 'serverAuth'], [EKU_CLIENT_AUTH, 'clientAuth']].filter(([oid, n]) => need.includes(n as 'serverAuth') && !eku.includes(oid!)).map(([, n]) => n);
    if (missing.length > 0) {
      return `the POP certificate's extendedKeyUsage lacks ${missing.join(' and ')}; a POP certificate serves its peer and is presented to it, so reissue it with extendedKeyUsage = ${need.join(', ')}`;
    }
  }
  const isAnchor = (c: X509Certificate): boolean => anchors?.some((a) => a.fingerprint256 === c.fingerprint256) ?? false;
  let current = leaf;
  const used = new Set<number>([0]);
  for (let depth = 0; depth < MAX_CHAIN_DEPTH; depth++) {
    if (isAnchor(current)) return undefined;
    const anchor = anchors?.find((a) => signedBy(current, a));
    if (anchor) {
      const d = datesProblem(anchor, `the CA certificate "${subjectOf(anchor)}" in auth.mtls_ca`, now);
      return d ? `${d}; install the renewed CA in auth.mtls_ca (on both POPs) and send SIGHUP` : undefined;
    }
    const idx = chain.findIndex((c, i) => !used.has(i) && signedBy(current, c));
    if (idx < 0) {
      if (!anchors) return undefined;
      return `the chain does not lead to a certificate in auth.mtls_ca: no certificate in this file or in auth.mtls_ca signed "${subjectOf(current)}" (issuer "${current.issuer.split('\n').join(', ')}"); append the missing intermediate to this file, or fix auth.mtls_ca`;
    }
    used.add(idx);
    const issuer = chain[idx]!;
    const what = `the intermediate certificate "${subjectOf(issuer)}" (${ordinal(idx + 1)} in the file)`;
    const d = datesProblem(issuer, what, now);
    if (d) return `${d}; peers refuse every connection with this chain (CERT_HAS_EXPIRED); install a chain file with the renewed intermediate and send SIGHUP`;
    // keyUsage first: OpenSSL (and so X509Certificate.ca) treats a CA without keyCertSign as no CA.
    const iku = keyUsageOf(issuer);
    if (iku && !iku.keyCertSign) return `${what} has a keyUsage without keyCertSign, so it cannot sign certificates`;
    if (!issuer.ca) return `${what} is not a CA (basicConstraints CA:FALSE), so it cannot sign the certificate before it`;
    current = issuer;
  }
  return `the chain is longer than ${MAX_CHAIN_DEPTH} certificates or loops`;
}
