/**
 * The set of vault files under `<data>/vaults/` (DESIGN.md §2), with a small LRU of open
 * connections so that a POP with 100,000 vaults keeps a bounded number of file handles.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { openVaultStore, type VaultStore } from './vault-store.js';
import { isVaultId, type VaultId } from '../lib/ids.js';

/** Vault file cache; see `createVaultFiles`. */
export type VaultFiles = ReturnType<typeof createVaultFiles>;

/**
 * Creates the vault-file cache rooted at `<dataDir>/vaults`, keeping at most `maxOpen`
 * connections open (least recently used closed first).
 */
export function createVaultFiles(dataDir: string, maxOpen = 256) {
  const dir = join(dataDir, 'vaults');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const open = new Map<string, VaultStore>();

  const pathOf = (vaultId: VaultId): string => {
    if (!isVaultId(vaultId)) throw new RangeError('not a vault id');
    return join(dir, `${vaultId}.db`);
  };

  function get(vaultId: VaultId, create: boolean): VaultStore | undefined {
    const hit = open.get(vaultId);
    if (hit) {
      open.delete(vaultId);
      open.set(vaultId, hit);
      return hit;
    }
    const file = pathOf(vaultId);
    if (!create && !existsSync(file)) return undefined;
    const store = openVaultStore(file, vaultId);
    open.set(vaultId, store);
    if (open.size > maxOpen) {
      const [oldestId, oldest] = open.entries().next().value as [string, VaultStore];
      open.delete(oldestId);
      oldest.close();
    }
    return store;
  }

  return {
    /** Absolute path of a vault's file. */
    pathOf,
    /** The vault's store, or undefined when its file does not exist. */
    find(vaultId: VaultId): VaultStore | undefined {
      return get(vaultId, false);
    },
    /** The vault's store, creating the file when absent. */
    openOrCreate(vaultId: VaultId): VaultStore {
      return get(vaultId, true)!;
    },
    /** Closes one vault's connection if open. */
    close(vaultId: VaultId): void {
      const s = open.get(vaultId);
      if (s) {
        open.delete(vaultId);
        s.close();
      }
    },
    /** Closes every open connection. */
    closeAll(): void {
      for (const s of open.values()) s.close();
      open.clear();
    },
  };
}
