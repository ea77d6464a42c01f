/**
 * Builds replication requests as a POP (or an attacker) would send them, for e2e tests of the
 * signature rules (issue 13 §1; src/replication/signature.ts): bearer token, push MAC, and a
 * signature made with a chosen Ed25519 key file, or none.
 */
import { readFileSync } from 'node:fs';
import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { pushMac } from '../../src/replication/push-mac.js';
import { newNonce, signParts } from '../../src/replication/signature.js';
import { api, type ApiResponse } from './pop.js';

/** The private key in a signing key file written by keygen --signing-key. */
export const keyOf = (file: string): KeyObject => createPrivateKey(readFileSync(file));

/** A fresh Ed25519 key no POP pins. */
export const strangerKey = (): KeyObject => generateKeyPairSync('ed25519').privateKey;

/**
 * POSTs `body` (a string, sent byte for byte) to `path` on `base` with `token`, the push MAC, and
 * `x-clavitor-pop: signer`, signed with `key` (no signature header when `key` is undefined).
 */
export async function peerPost(base: string, path: string, o: { token: string; body: string; signer: string; key: KeyObject | undefined }): Promise<ApiResponse> {
  const nonce = newNonce();
  const headers: Record<string, string> = { 'x-clavitor-push-mac': pushMac(o.token, o.body), 'x-clavitor-pop': o.signer, 'x-clavitor-nonce': nonce };
  if (o.key) headers['x-clavitor-signature'] = signParts(o.key, { kind: 'request', method: 'POST', path, signer: o.signer, nonce, body: o.body });
  return api(base, 'POST', path, { token: o.token, body: o.body, headers });
}
