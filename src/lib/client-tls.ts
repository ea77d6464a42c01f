/**
 * TLS material for the product's HTTPS clients (issue 11 item 4, case F15): operator commands of
 * `clavitor-commercial`, `clavitor-cli`, `clavitor-control status` and the POP's heartbeat. A
 * private CA bundle replaces the system roots for that connection (undici Agent `connect.ca`);
 * a client certificate and key are presented when the server asks for one (mutual TLS) and
 * ignored otherwise. Files are read once, checked as PEM, and never echoed: errors name the
 * option and the path, never the contents.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { Agent } from 'undici';
import { cvError } from './errors.js';

/** Paths of the TLS files a client uses; `label*` names the flag or key for error lines. */
export interface ClientTlsFiles {
  /** PEM bundle of CA certificates to trust (instead of the system roots). */
  readonly caFile?: string | undefined;
  /** PEM client certificate (chain) to present when the server asks. */
  readonly certFile?: string | undefined;
  /** PEM private key of `certFile`. */
  readonly keyFile?: string | undefined;
  /** How the options are called where they came from, e.g. `{ ca: '--ca-file' }` or `auth.mtls_ca`. */
  readonly labels?: { readonly ca?: string; readonly cert?: string; readonly key?: string };
  /**
   * Trust the system roots as well as `caFile` (used when the CA comes from a POP's
   * `auth.mtls_ca` rather than an explicit flag: its public HTTPS certificate may come from a
   * public CA). Default false: an explicit CA bundle is the only trust, like `curl --cacert`.
   */
  readonly alsoSystemRoots?: boolean;
}

/** Loaded TLS material, ready for undici `connect`. */
export interface ClientTls {
  readonly ca?: Buffer | (string | Buffer)[];
  readonly cert?: Buffer;
  readonly key?: Buffer;
}

function readPem(label: string, file: string, check: (data: Buffer) => void, what: string): Buffer {
  let data: Buffer;
  try {
    data = readFileSync(file);
  } catch (e) {
    throw cvError('CLIENT_TLS_FILE', `${label} ${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  try {
    check(data);
  } catch {
    throw cvError('CLIENT_TLS_FILE', `${label} ${file}: does not hold ${what}`);
  }
  return data;
}

const certCheck = (data: Buffer): void => {
  if (!/-----BEGIN CERTIFICATE-----/.test(data.toString('latin1'))) throw new Error('not PEM');
  new X509Certificate(data);
};

function withRoots(ca: Buffer, roots: boolean): Buffer | (string | Buffer)[] {
  return roots ? [...rootCertificates, ca] : ca;
}

/**
 * Reads and checks the files that are set. Returns undefined when none is.
 * @throws ClavitorError CV-6007 (CLIENT_TLS_FILE) for a file that cannot be read or is not PEM,
 *   or a certificate given without its key (or the reverse).
 */
export function loadClientTls(f: ClientTlsFiles): ClientTls | undefined {
  const l = { ca: f.labels?.ca ?? '--ca-file', cert: f.labels?.cert ?? '--cert', key: f.labels?.key ?? '--key' };
  if ((f.certFile === undefined) !== (f.keyFile === undefined)) {
    throw cvError('CLIENT_TLS_FILE', `${l.cert} and ${l.key} must be given together (the client certificate and its private key)`);
  }
  if (f.caFile === undefined && f.certFile === undefined) return undefined;
  return {
    ...(f.caFile !== undefined ? { ca: withRoots(readPem(l.ca, f.caFile, certCheck, 'a PEM certificate (-----BEGIN CERTIFICATE-----)'), f.alsoSystemRoots === true) } : {}),
    ...(f.certFile !== undefined ? { cert: readPem(l.cert, f.certFile, certCheck, 'a PEM certificate (-----BEGIN CERTIFICATE-----)') } : {}),
    ...(f.keyFile !== undefined ? { key: readPem(l.key, f.keyFile, (d) => void createPrivateKey(d), 'an unencrypted PEM private key') } : {}),
  };
}

/** undici `connect` options for `tls` (empty when undefined). */
export function connectOptions(tls: ClientTls | undefined): { ca?: Buffer | (string | Buffer)[]; cert?: Buffer; key?: Buffer } {
  if (!tls) return {};
  return { ...(tls.ca ? { ca: tls.ca } : {}), ...(tls.cert ? { cert: tls.cert } : {}), ...(tls.key ? { key: tls.key } : {}) };
}

/**
 * A transport error as an operator line: the TLS verification codes get a hint naming `flag`
 * (e.g. `--ca-file`), since a private CA is the usual cause.
 */
export function describeTransportError(e: unknown, flag = '--ca-file'): string {
  const err = e as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = err.cause?.code ?? err.code ?? '';
  const msg = err.cause?.message ?? err.message ?? 'request failed';
  if (/CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ERR_TLS/.test(code)) return `${msg} (${code}); pass ${flag} with the CA bundle that signed the server's certificate`;
  return code && !msg.includes(code) ? `${msg} (${code})` : msg;
}

/** An undici Agent using `tls`, or undefined (the global dispatcher) when there is none. */
export function clientAgent(tls: ClientTls | undefined): Agent | undefined {
  return tls ? new Agent({ connect: connectOptions(tls) }) : undefined;
}
