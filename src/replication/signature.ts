/**
 * Signatures of what decides roles and data (issue 13 §1; DESIGN.md §4.5 "Peer claims are
 * authenticated"). Each POP signs with its own Ed25519 key (config/signing-key.ts) and verifies
 * with the key it pins for its peer, so a replication token alone cannot forge a hello, an epoch
 * claim or a batch of revisions.
 *
 * - **Requests** (push, hello): the sender puts `x-clavitor-nonce` (16 random bytes, base64url) and
 *   `x-clavitor-signature: base64url(Ed25519(private key, message))` on the request; the message
 *   covers the method, path, the signer's POP id (`x-clavitor-pop`), the nonce and the raw body
 *   bytes. The receiver verifies with the pinned peer key before it parses any claim.
 * - **Answers** (every answer of a replication route): the answering POP signs the status, path,
 *   its own POP id, the request's nonce and the raw answer body; the requester adopts nothing from
 *   an answer whose signature does not verify with the pinned key (an epoch in it included).
 *
 * The signed message is `JSON.stringify(["clavitor-sig-v1", kind, method-or-status, path, signer,
 * nonce])`, a newline, then the body: the fields are unambiguous and the body is covered byte for
 * byte. The body schema is untouched, so fields added to pushes or hello are covered too.
 */
import { randomBytes, sign, verify, type KeyObject } from 'node:crypto';

/** Header carrying a signature (request or answer). */
export const SIGNATURE_HEADER = 'x-clavitor-signature';
/** Header carrying the request's nonce, echoed into the answer's signed message. */
export const NONCE_HEADER = 'x-clavitor-nonce';
/** Header naming the POP that sent a request (also what its signature names). */
export const POP_HEADER = 'x-clavitor-pop';
/** Header naming the POP that signed an answer. */
export const SIGNER_HEADER = 'x-clavitor-signer';

/** What a signature covers. `kind` tells requests from answers, so one can never pass for the other. */
export interface SignedParts {
  readonly kind: 'request' | 'answer';
  /** Request method (`POST`), or the answer's HTTP status as a string. */
  readonly method: string;
  /** Request path, without query. */
  readonly path: string;
  /** POP id of the signer. */
  readonly signer: string;
  /** The request's nonce. */
  readonly nonce: string;
  /** Raw body bytes (UTF-8 text as sent). */
  readonly body: string;
}

function message(p: SignedParts): Buffer {
  return Buffer.concat([Buffer.from(JSON.stringify(['clavitor-sig-v1', p.kind, p.method, p.path, p.signer, p.nonce]) + '\n', 'utf8'), Buffer.from(p.body, 'utf8')]);
}

/** A fresh request nonce: 16 random bytes, base64url. */
export function newNonce(): string {
  return randomBytes(16).toString('base64url');
}

/** The signature (base64url) of `parts` under this POP's Ed25519 `key`. */
export function signParts(key: KeyObject, parts: SignedParts): string {
  return sign(null, message(parts), key).toString('base64url');
}

/**
 * True when `signature` (base64url, from a header) is the signature of `parts` under `peerKey`.
 * Missing, malformed or wrong signatures, and signatures by any other key (the verifying POP's
 * own included), are false; never throws.
 */
export function signatureValid(peerKey: KeyObject | undefined, signature: string | string[] | undefined, parts: SignedParts): boolean {
  if (!peerKey || typeof signature !== 'string' || !/^[A-Za-z0-9_-]{86}$/.test(signature)) return false;
  try {
    return verify(null, message(parts), peerKey, Buffer.from(signature, 'base64url'));
  } catch {
    return false;
  }
}
