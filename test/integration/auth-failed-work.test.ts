/**
 * Issue 13 §2: a failed token check costs the same work whatever was wrong. A real token id with
 * a wrong secret used to cost one HKDF derivation more than an unknown vault (~75 µs, measurable
 * from outside); now every well-formed token costs exactly one derivation. Timing is not asserted
 * (figures come from bench/client/auth-timing.ts); the derivations are counted through the injected
 * `verify` of the vault service, over real storage.
 * Run: node --import tsx --test --test-reporter=spec test/integration/auth-failed-work.test.ts
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { openNodeStore } from '../../src/store/node-store.js';
import { createVaultFiles } from '../../src/store/vault-files.js';
import { createRevisionWriter, NO_HOOKS } from '../../src/vault/writer.js';
import { createVaultService } from '../../src/vault/vault-service.js';
import { verifierMatches } from '../../src/vault/tokens.js';
import { newTokenId, newVaultId } from '../../src/lib/ids.js';
import { tempDir } from '../kit/pop.js';

test('every refused well-formed token costs one verifier derivation, whether the vault, the token id or the secret was wrong', async (t) => {
  const { dir, cleanup } = tempDir('clavitor-authwork-');
  const node = openNodeStore(dir);
  const files = createVaultFiles(dir);
  t.after(() => { files.closeAll(); node.close(); cleanup(); });
  const now = () => new Date();
  const calls: { secretBytes: number; storedBytes: number }[] = [];
  const vaults = createVaultService({
    node, files, now,
    writer: createRevisionWriter({ hooks: NO_HOOKS, identity: () => ({ popId: 'standalone', epoch: 0 }), now }),
    verify(secret, tokenId, stored) {
      calls.push({ secretBytes: secret.length, storedBytes: Buffer.from(stored, 'base64url').length });
      return verifierMatches(secret, tokenId, stored);
    },
  });
  const { ownerToken } = await vaults.createVault();
  const [, vaultId, tokenId] = ownerToken.split('.');
  const secret = () => randomBytes(32).toString('base64url');
  const refused: Record<string, string> = {
    'unknown vault': `cvt1.${newVaultId()}.${newTokenId()}.${secret()}`,
    'unknown token id in a real vault': `cvt1.${vaultId}.${newTokenId()}.${secret()}`,
    'real token id, wrong secret': `cvt1.${vaultId}.${tokenId}.${secret()}`,
  };
  const perCase: Record<string, typeof calls> = {};
  for (const [name, text] of Object.entries(refused)) {
    calls.length = 0;
    assert.throws(() => vaults.authenticate(text), (e: Error & { code?: string }) => e.code === 'CV-2002', name);
    perCase[name] = [...calls];
  }
  for (const [name, c] of Object.entries(perCase)) {
    assert.equal(c.length, 1, `${name}: one derivation`);
    // Same work: a 32-byte secret against a 32-byte verifier (DESIGN.md §2: 256-bit secrets).
    assert.deepEqual(c[0], { secretBytes: 32, storedBytes: 32 }, name);
  }
  // The genuine token still authenticates, also through the injected function.
  calls.length = 0;
  assert.equal(vaults.authenticate(ownerToken).kind, 'owner');
  assert.equal(calls.length, 1);
});
