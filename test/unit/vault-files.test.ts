/**
 * `VaultFiles.find` (src/store/vault-files.ts) on a real POP database: a vault exists from its
 * first committed revision until `erase` (DESIGN.md §2; issue 12 item 1). `find` skips its
 * existence query for vaults it has seen committed (issue 12 item 5, read path), so these cases
 * pin what it must still answer: unknown before the first revision, known after, unknown again
 * right after an erase, and unknown when the creating write rolled back, even if `find` saw the
 * row inside that write's transaction.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createVaultFiles } from '../../src/store/vault-files.js';
import { newVaultId, type VaultId } from '../../src/lib/ids.js';
import type { Revision } from '../../src/store/revision-row.js';

const dir = mkdtempSync(join(tmpdir(), 'clavitor-vf-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A fresh data directory under the test's temporary directory. */
const dataDir = (name: string): string => {
  const d = join(dir, name);
  mkdirSync(d, { recursive: true });
  return d;
};

const first = (vaultId: VaultId): Revision => ({ vaultId, seq: 1, kind: 'vault.create', subject: null, body: '{}', epoch: 1, originPop: 'calgary-01', createdAt: new Date().toISOString() });

test('find: unknown before the first revision, found after its commit, unknown again after erase', async () => {
  const files = createVaultFiles(dataDir('a'));
  try {
    const v = newVaultId();
    assert.equal(files.find(v), undefined);
    const s = files.openOrCreate(v);
    await s.commit(() => s.insertRevision(first(v)));
    assert.ok(files.find(v), 'found after its first revision committed');
    assert.ok(files.find(v), 'found again (cached)');
    files.erase(v);
    assert.equal(files.find(v), undefined, 'an erased vault is not found');
  } finally {
    files.closeAll();
  }
});

test('find: a vault whose creating write rolled back is not found, though find saw its row inside the write', async () => {
  const files = createVaultFiles(dataDir('b'));
  try {
    const v = newVaultId();
    const s = files.openOrCreate(v);
    let seenInside = false;
    await assert.rejects(s.commit(() => {
      s.insertRevision(first(v));
      seenInside = files.find(v) !== undefined;
      throw new Error('refused after writing');
    }), /refused after writing/);
    assert.equal(seenInside, true, 'the uncommitted row is visible inside the write');
    assert.equal(files.find(v), undefined, 'not found once the write rolled back');
  } finally {
    files.closeAll();
  }
});
