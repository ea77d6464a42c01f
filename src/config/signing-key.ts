/**
 * POP signing keys (issue 13 §1; DESIGN.md §4.5 "Peer claims are authenticated"): each commercial
 * POP holds an Ed25519 private key (`auth.signing_key_file`, written by
 * `clavitor-commercial keygen --signing-key --out FILE`) and pins its peer's public key
 * (`auth.peer_public_key`, one line printed by keygen). Hello, pushes and the answers that carry an
 * epoch are signed with it (src/replication/signature.ts), so a replication token alone cannot
 * forge them.
 *
 * Formats: the private key file is PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`), mode 0600 or
 * stricter, checked like a token file; the public key is `clavitor-ed25519-v1-` followed by the
 * 43 base64url characters of the raw 32-byte key. Key material never appears in an error.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { resolve } from 'node:path';
import { Errors } from '../lib/errors.js';
import { FileCheckError, readCheckedFile } from '../lib/file-check.js';
import { ConfigError, FILE_KEY } from './config-error.js';
import { writeSecretFileExclusive } from './keygen.js';

/** Prefix of a printed POP public key. */
export const PUBLIC_KEY_PREFIX = 'clavitor-ed25519-v1-';
/** Largest signing key file accepted, in bytes (an Ed25519 PKCS#8 PEM is 119 bytes). */
export const MAX_SIGNING_KEY_FILE_BYTES = 4096;

const PUBLIC_KEY_PATTERN = /^clavitor-ed25519-v1-[A-Za-z0-9_-]{43}$/;

/** The printable form of an Ed25519 public (or private: its public half) key. */
export function publicKeyText(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  const jwk = pub.export({ format: 'jwk' }) as { x?: string };
  return `${PUBLIC_KEY_PREFIX}${String(jwk.x)}`;
}

/**
 * Why `text` is not a printed POP public key, or undefined when it is (used by the YAML schema).
 */
export function publicKeyProblem(text: string): string | undefined {
  if (!PUBLIC_KEY_PATTERN.test(text)) return `must be the peer POP's public key as printed by keygen: "${PUBLIC_KEY_PREFIX}" and 43 base64url characters`;
  try {
    parsePublicKey(text);
  } catch {
    return 'is not a valid Ed25519 public key';
  }
  return undefined;
}

/**
 * The key object of a printed public key.
 *
 * @throws Error when `text` is not of the form `clavitor-ed25519-v1-<43 base64url>` or not a key.
 */
export function parsePublicKey(text: string): KeyObject {
  if (!PUBLIC_KEY_PATTERN.test(text)) throw new Error('not a clavitor-ed25519-v1 public key');
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: text.slice(PUBLIC_KEY_PREFIX.length) }, format: 'jwk' });
}

/**
 * Read and check a signing key file: a private regular file (no group/other bits) of at most
 * {@link MAX_SIGNING_KEY_FILE_BYTES} bytes holding one Ed25519 private key in PKCS#8 PEM.
 *
 * @throws FileCheckError with an operator-readable reason that never quotes the file.
 */
export function readSigningKeyFile(absPath: string): KeyObject {
  const data = readCheckedFile(absPath, { maxBytes: MAX_SIGNING_KEY_FILE_BYTES, private: true });
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: data, format: 'pem' });
  } catch {
    throw new FileCheckError('is not a PEM private key; create one with: clavitor-commercial keygen --signing-key --out FILE');
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new FileCheckError(`holds a ${String(key.asymmetricKeyType)} key; a POP signing key is Ed25519 (clavitor-commercial keygen --signing-key --out FILE)`);
  }
  return key;
}

function fail(file: string, reason: string, exists = false): ConfigError {
  return new ConfigError(exists ? Errors.KEYGEN_EXISTS : Errors.SIGNING_KEY_INVALID, { file, line: 1, col: 1, key: FILE_KEY, reason });
}

/**
 * Create `path` holding a new Ed25519 private key (PKCS#8 PEM, from node:crypto
 * `generateKeyPairSync('ed25519')`), mode 0600, flushed; created exclusively, like token files
 * (`writeKeyFile` in keygen.ts): an existing file or symbolic link is never overwritten.
 *
 * @returns the printable public key (`clavitor-ed25519-v1-…`), to pin on the peer POP.
 * @throws ConfigError CV-1004 (KEYGEN_EXISTS) when `path` exists, CV-1010 (SIGNING_KEY_INVALID)
 *   when it cannot be created or written.
 */
export function writeSigningKeyFile(path: string): string {
  const { privateKey } = generateKeyPairSync('ed25519');
  writeSecretFileExclusive(path, privateKey.export({ format: 'pem', type: 'pkcs8' }) as string, Errors.SIGNING_KEY_INVALID);
  return publicKeyText(privateKey);
}

/**
 * The printable public key of the signing key file at `path` (`keygen --public-key-of FILE`).
 *
 * @throws ConfigError CV-1010 (SIGNING_KEY_INVALID) when the file cannot be used.
 */
export function publicKeyOfFile(path: string): string {
  const file = resolve(path);
  try {
    return publicKeyText(readSigningKeyFile(file));
  } catch (e) {
    if (e instanceof FileCheckError) throw fail(file, e.reason);
    throw e;
  }
}
