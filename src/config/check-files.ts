/**
 * Resolves and checks every file named by replication.yaml (DESIGN.md §4.2): token files
 * (`auth.token_file`, `backup_pop.auth_token_file`, `control_plane.token_file`) and mutual-TLS
 * files (`auth.mtls_cert` with its whole chain, `auth.mtls_key`, `auth.mtls_ca`,
 * `control_plane.ca_file`). Relative paths resolve against the
 * YAML file's directory. A problem is reported at the YAML key naming the file.
 */
import { isAbsolute, resolve } from 'node:path';
import type { KeyObject, X509Certificate } from 'node:crypto';
import { Errors, type ErrorDef } from '../lib/errors.js';
import { ConfigError } from './config-error.js';
import { FileCheckError } from '../lib/file-check.js';
import { locate } from './locate.js';
import type { RawReplicationConfig } from './schema.js';
import { certificateChainProblem } from '../lib/tls-chain.js';
import { certificateValidityProblem, isSameFile, keyMatchesCertificate, readCertificateBundleFile, readPrivateKeyFile } from '../lib/tls-files.js';
import { readTokenFile } from './token-file.js';
import { parsePublicKey, publicKeyText, readSigningKeyFile } from './signing-key.js';
import type { ParsedYaml } from './yaml-source.js';

/** A checked token file: absolute path and its one or two tokens (first = the one to send). */
export interface CheckedTokenFile {
  readonly path: string;
  readonly tokens: readonly string[];
}

/** Every file named by the configuration, resolved to absolute paths and checked. */
export interface CheckedFiles {
  /** `auth.token_file`: tokens accepted from peers. */
  readonly auth: CheckedTokenFile;
  /** `backup_pop.auth_token_file`, when backup_pop is set. */
  readonly backup?: CheckedTokenFile;
  /** `control_plane.token_file`, when control_plane is set. */
  readonly controlPlane?: CheckedTokenFile;
  /** Absolute paths of the mutual-TLS files that are set. */
  readonly mtlsCert?: string;
  readonly mtlsKey?: string;
  readonly mtlsCa?: string;
  /** Absolute path of `control_plane.ca_file`, when set. */
  readonly controlPlaneCa?: string;
  /** `auth.signing_key_file`, when set: absolute path and the Ed25519 private key. */
  readonly signingKey?: { readonly path: string; readonly key: KeyObject };
}

interface PendingCheck {
  readonly keyPath: readonly string[];
  /** The path as written in the YAML. */
  readonly named: string;
  readonly code: ErrorDef;
  readonly run: () => void;
}

/** Absolute form of a path from the YAML: relative paths resolve against `baseDir`. */
export function resolveConfigPath(baseDir: string, p: string): string {
  return isAbsolute(p) ? resolve(p) : resolve(baseDir, p);
}

/**
 * Resolve and check every referenced file. All are checked; the problem whose key comes first in
 * the YAML is reported.
 *
 * @throws ConfigError CV-1003 (TOKEN_FILE_INVALID) for a token file that is missing, unreadable,
 *   readable by group/others, malformed or weak; CV-1001 (CONFIG_INVALID) for a TLS file that is
 *   missing, unprotected (key), unparsable, not matching, or the same file as a token file.
 */
export function checkReferencedFiles(file: string, parsed: ParsedYaml, raw: RawReplicationConfig, baseDir: string): CheckedFiles {
  const abs = (p: string): string => resolveConfigPath(baseDir, p);
  const out: {
    auth?: CheckedTokenFile; backup?: CheckedTokenFile; controlPlane?: CheckedTokenFile;
    mtlsCert?: string; mtlsKey?: string; mtlsCa?: string; controlPlaneCa?: string;
    signingKey?: { path: string; key: KeyObject };
  } = {};
  const checks: PendingCheck[] = [];
  const tokenCheck = (keyPath: string[], p: string, store: (t: CheckedTokenFile) => void): void => {
    checks.push({ keyPath, named: p, code: Errors.TOKEN_FILE_INVALID, run: () => store({ path: abs(p), tokens: Object.freeze(readTokenFile(abs(p))) }) });
  };

  tokenCheck(['auth', 'token_file'], raw.auth.token_file, (t) => (out.auth = t));
  if (raw.backup_pop) tokenCheck(['backup_pop', 'auth_token_file'], raw.backup_pop.auth_token_file, (t) => (out.backup = t));
  if (raw.control_plane) tokenCheck(['control_plane', 'token_file'], raw.control_plane.token_file, (t) => (out.controlPlane = t));

  let cert: X509Certificate | undefined;
  const { mtls_cert, mtls_key, mtls_ca } = raw.auth;
  if (mtls_cert !== undefined) {
    checks.push({ keyPath: ['auth', 'mtls_cert'], named: mtls_cert, code: Errors.CONFIG_INVALID, run: () => {
      const now = new Date();
      const chain = readCertificateBundleFile(abs(mtls_cert));
      cert = chain[0];
      const validity = cert && certificateValidityProblem(cert, now);
      if (validity) throw new FileCheckError(validity);
      // The whole chain, as the peer will verify it (issue 11 item 5). An unreadable mtls_ca is
      // reported at its own key; the chain is then followed as far as this file goes.
      let anchors;
      try {
        anchors = mtls_ca === undefined ? undefined : readCertificateBundleFile(abs(mtls_ca));
      } catch {
        anchors = undefined;
      }
      const chainProblem = certificateChainProblem(chain, anchors, now);
      if (chainProblem) throw new FileCheckError(chainProblem);
      out.mtlsCert = abs(mtls_cert);
    } });
  }
  if (mtls_key !== undefined) {
    checks.push({ keyPath: ['auth', 'mtls_key'], named: mtls_key, code: Errors.CONFIG_INVALID, run: () => {
      const keyPath = abs(mtls_key);
      const tokenFiles: [string, string | undefined][] = [
        ['auth.token_file', raw.auth.token_file],
        ['backup_pop.auth_token_file', raw.backup_pop?.auth_token_file],
        ['control_plane.token_file', raw.control_plane?.token_file],
      ];
      for (const [name, p] of tokenFiles) {
        if (p !== undefined && (abs(p) === keyPath || isSameFile(abs(p), keyPath))) {
          throw new FileCheckError(`is the same file as ${name}; the TLS private key and a replication token are different secrets and need separate files`);
        }
      }
      const key = readPrivateKeyFile(keyPath);
      if (cert !== undefined && !keyMatchesCertificate(cert, key)) {
        throw new FileCheckError('does not match the certificate in auth.mtls_cert');
      }
      out.mtlsKey = keyPath;
    } });
  }
  if (mtls_ca !== undefined) {
    checks.push({ keyPath: ['auth', 'mtls_ca'], named: mtls_ca, code: Errors.CONFIG_INVALID, run: () => {
      readCertificateBundleFile(abs(mtls_ca));
      out.mtlsCa = abs(mtls_ca);
    } });
  }

  const signing = raw.auth.signing_key_file;
  if (signing !== undefined) {
    checks.push({ keyPath: ['auth', 'signing_key_file'], named: signing, code: Errors.SIGNING_KEY_INVALID, run: () => {
      const keyPath = abs(signing);
      const others: [string, string | undefined][] = [
        ['auth.token_file', raw.auth.token_file],
        ['backup_pop.auth_token_file', raw.backup_pop?.auth_token_file],
        ['control_plane.token_file', raw.control_plane?.token_file],
        ['auth.mtls_key', raw.auth.mtls_key],
      ];
      for (const [name, p] of others) {
        if (p !== undefined && (abs(p) === keyPath || isSameFile(abs(p), keyPath))) {
          throw new FileCheckError(`is the same file as ${name}; the POP signing key is a secret of its own and needs its own file (clavitor-commercial keygen --signing-key --out FILE)`);
        }
      }
      const key = readSigningKeyFile(keyPath);
      if (raw.auth.peer_public_key !== undefined && publicKeyText(key) === publicKeyText(parsePublicKey(raw.auth.peer_public_key))) {
        throw new FileCheckError('is the key pinned as auth.peer_public_key: each POP needs its own signing key, and pins the other POP\'s public key');
      }
      out.signingKey = { path: keyPath, key };
    } });
  }

  const cpCa = raw.control_plane?.ca_file;
  if (cpCa !== undefined) {
    checks.push({ keyPath: ['control_plane', 'ca_file'], named: cpCa, code: Errors.CONFIG_INVALID, run: () => {
      readCertificateBundleFile(abs(cpCa));
      out.controlPlaneCa = abs(cpCa);
    } });
  }

  // Run every check (the certificate first: the key check compares against it), then report
  // the failure nearest the top of the file.
  const ordered = checks.filter((c) => c.keyPath[1] === 'mtls_cert').concat(checks.filter((c) => c.keyPath[1] !== 'mtls_cert'));
  const failures: { line: number; col: number; err: ConfigError }[] = [];
  for (const c of ordered) {
    try {
      c.run();
    } catch (e) {
      if (!(e instanceof FileCheckError)) throw e;
      const { line, col } = locate(parsed.doc, parsed.lineCounter, c.keyPath, 'key');
      const reason = `${abs(c.named)}: ${e.reason}`;
      failures.push({ line, col, err: new ConfigError(c.code, { file, line, col, key: c.keyPath.join('.'), reason }) });
    }
  }
  failures.sort((a, b) => a.line - b.line || a.col - b.col);
  if (failures[0] !== undefined) throw failures[0].err;
  if (out.auth === undefined) throw new Error('unreachable: auth.token_file was not checked');
  return { ...out, auth: out.auth };
}
