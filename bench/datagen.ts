/**
 * Generates POP data directories with the real write path, in process: the commercial POP
 * (`createPop`, whose hooks record a backlog intent before each commit exactly as a running
 * primary does), the revision writer, and the vault and entries services. Nothing is written by
 * hand into SQLite; the files are what a primary that took these writes would hold.
 *
 * Run as a child process (`datagen-main.ts`) under `eatmydata` when it is installed: fsync becomes
 * a no-op for the generator only, so a million revisions take a minute or two instead of the
 * ~2 ms per commit of this disk; the benchmarks then start the real servers on the files (after a
 * `sync`), with durability on.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { openNodeStore, type NodeStore } from '../src/store/node-store.js';
import { createVaultFiles, type VaultFiles } from '../src/store/vault-files.js';
import type { VaultStore } from '../src/store/vault-store.js';
import { createMetrics } from '../src/http/metrics.js';
import { loadOrCreateAdminToken } from '../src/http/admin-token.js';
import { loadReplicationConfig } from '../src/config/load.js';
import { createPop } from '../src/replication/pop.js';
import { createRevisionWriter } from '../src/vault/writer.js';
import { createVaultService } from '../src/vault/vault-service.js';
import { createEntriesService, type EntryInput } from '../src/vault/entries-service.js';
import type { OwnerPrincipal } from '../src/vault/principal.js';
import type { VaultId } from '../src/lib/ids.js';
import { VALUE_1K } from './client.js';

/** An entry with one 1 KiB owner-tier field (the payload of every benchmark). */
const ENTRY: EntryInput = { type: 'credential', parent: null, title: 'generated', fields: [{ label: 'v', value: VALUE_1K, kind: 'text', tier: 'owner' }] };

/** A primary's storage and services opened in process. */
interface Primary {
  node: NodeStore;
  files: VaultFiles;
  vaults: ReturnType<typeof createVaultService>;
  entries: ReturnType<typeof createEntriesService>;
  close(): void;
}

function openPrimary(dataDir: string, configFile: string): Primary {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const adminToken = loadOrCreateAdminToken(dataDir);
  const node = openNodeStore(dataDir);
  const files = createVaultFiles(dataDir);
  const pop = createPop({ node, files, logger: pino({ level: 'silent' }), metrics: createMetrics(), adminToken }, loadReplicationConfig(configFile));
  const now = () => new Date();
  const writer = createRevisionWriter({ hooks: pop.hooks, identity: () => pop.identity(), now });
  return {
    node, files,
    vaults: createVaultService({ node, files, writer, now }),
    entries: createEntriesService({ node, files, writer, now }),
    close() {
      void pop.close();
      files.closeAll();
      node.close();
    },
  };
}

/** Deterministic pseudo-random generator (mulberry32), so runs place writes the same way. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function createVaults(p: Primary, n: number): { vaultId: VaultId; owner: OwnerPrincipal }[] {
  const out: { vaultId: VaultId; owner: OwnerPrincipal }[] = [];
  for (let i = 0; i < n; i++) {
    const v = p.vaults.createVault();
    out.push({ vaultId: v.vaultId, owner: p.vaults.authenticate(v.ownerToken) as OwnerPrincipal });
  }
  return out;
}

/**
 * Runs `fn` with one open transaction on node.db and on each of `stores`: the writer's own
 * transactions become savepoints inside it (better-sqlite3 nests them), so the rows are exactly
 * those of single writes, committed in groups — only to generate data faster.
 */
function grouped(p: Primary, stores: readonly VaultStore[], fn: () => void): void {
  const dbs = [p.node.db, ...stores.map((s) => s.db)];
  for (const db of dbs) db.exec('BEGIN');
  try {
    fn();
    for (const db of dbs) db.exec('COMMIT');
  } catch (e) {
    for (const db of dbs) if (db.inTransaction) db.exec('ROLLBACK');
    throw e;
  }
}

/** `n` entry writes, each to a vault drawn at random; grouped in chunks when the vaults all fit in the open-file cache. */
function writeEntries(p: Primary, vaults: readonly { vaultId: VaultId; owner: OwnerPrincipal }[], n: number, seed: number): void {
  const r = rng(seed);
  const one = () => p.entries.create(vaults[Math.floor(r() * vaults.length)]!.owner, ENTRY, null);
  if (vaults.length > 200) {
    for (let i = 0; i < n; i++) one();
    return;
  }
  const stores = vaults.map((v) => p.files.find(v.vaultId)!);
  for (let done = 0; done < n;) {
    const k = Math.min(2000, n - done);
    grouped(p, stores, () => { for (let i = 0; i < k; i++) one(); });
    done += k;
  }
}

/**
 * A primary whose backup never acknowledged anything: `vaults` vaults, then `revisions − vaults`
 * entry writes spread at random over them. Every revision is in the backlog (= `revisions`).
 */
export function generateBacklog(o: { dataDir: string; configFile: string; vaults: number; revisions: number }): { backlog: number } {
  const p = openPrimary(o.dataDir, o.configFile);
  try {
    const vs = createVaults(p, o.vaults);
    writeEntries(p, vs, o.revisions - o.vaults, 1);
    return { backlog: p.node.backlogStats().count };
  } finally {
    p.close();
  }
}

/**
 * One part of a scale data set (parts run in parallel processes, one per core), for a pair in
 * sync holding `vaults` vaults (their vault.create revision each): the primary's files are generated;
 * the backup's vault files are byte copies of them (what replication gives it: the same revisions)
 * with its node.db listing the same vaults; the primary's backlog is then emptied, as after the
 * backup acknowledged everything. Then, on the primary only, `queued` entry writes spread at
 * random over the part's vaults, in the backlog (the backup was down).
 */
export function generateScalePart(o: { dataDir: string; configFile: string; backupDataDir: string; vaults: number; queued: number; seed: number }): { sample: { vault_id: string; owner_token: string }[] } {
  const p = openPrimary(o.dataDir, o.configFile);
  const sample: { vault_id: string; owner_token: string }[] = [];
  try {
    const vs: { vaultId: VaultId; owner: OwnerPrincipal }[] = [];
    for (let i = 0; i < o.vaults; i++) {
      const v = p.vaults.createVault();
      const owner = p.vaults.authenticate(v.ownerToken) as OwnerPrincipal;
      vs.push({ vaultId: v.vaultId, owner });
      if (sample.length < 50) sample.push({ vault_id: v.vaultId, owner_token: v.ownerToken });
    }
    const head = p.node.peekBacklog(Number.MAX_SAFE_INTEGER).at(-1);
    if (head) p.node.deleteBacklogUpTo(head.id);
    p.files.closeAll();
    mkdirSync(o.backupDataDir, { recursive: true, mode: 0o700 });
    execFileSync('cp', ['-r', join(o.dataDir, 'vaults'), join(o.backupDataDir, 'vaults')]);
    const bnode = openNodeStore(o.backupDataDir);
    bnode.tx(() => { for (const v of vs) bnode.addVault(v.vaultId, new Date().toISOString()); });
    bnode.close();
    writeEntries(p, vs, o.queued, o.seed);
    return { sample };
  } finally {
    p.close();
  }
}

/**
 * Joins parts generated in parallel into part 0 (the pair's data directories): moves the other
 * parts' vault files in, lists their vaults in node.db (and the backup's, when there is one), and
 * rebuilds the primary's backlog with every part's records interleaved (addBacklog, in
 * round-robin order, so that the queue mixes the parts' vaults as concurrent writers would).
 * With `marker`, then adds one more vault on the primary whose backlog records are removed, so
 * that the primary's start-up resync check finds it missing on the backup and logs
 * `replication.resync`: the marker of the end of that check, which the scale benchmark times.
 */
export function mergeParts(o: { dataDir: string; configFile: string; backupDataDir?: string; parts: { dataDir: string; backupDataDir?: string }[]; marker: boolean }): { backlog: number; vaults: number } {
  const pnode = openNodeStore(o.dataDir);
  const bnode = o.backupDataDir ? openNodeStore(o.backupDataDir) : undefined;
  try {
    const queues: { vaultId: VaultId; seq: number }[][] = [pnode.allBacklog()];
    for (const part of o.parts) {
      const src = openNodeStore(part.dataDir);
      const ids = src.listVaults();
      queues.push(src.allBacklog());
      src.close();
      for (const id of ids) {
        renameSync(join(part.dataDir, 'vaults', `${id}.db`), join(o.dataDir, 'vaults', `${id}.db`));
        if (o.backupDataDir && part.backupDataDir) renameSync(join(part.backupDataDir, 'vaults', `${id}.db`), join(o.backupDataDir, 'vaults', `${id}.db`));
      }
      const at = new Date().toISOString();
      pnode.tx(() => { for (const id of ids) pnode.addVault(id, at); });
      if (bnode) bnode.tx(() => { for (const id of ids) bnode.addVault(id, at); });
      rmSync(part.dataDir, { recursive: true, force: true });
      if (part.backupDataDir) rmSync(part.backupDataDir, { recursive: true, force: true });
    }
    const last = queues[0]!.at(-1) as { id?: number } | undefined;
    pnode.tx(() => {
      if (last?.id) pnode.deleteBacklogUpTo(last.id);
      const longest = Math.max(...queues.map((q) => q.length));
      const now = Date.now();
      for (let i = 0; i < longest; i++) for (const q of queues) if (q[i]) pnode.addBacklog(q[i]!.vaultId, q[i]!.seq, now);
    });
  } finally {
    pnode.close();
    bnode?.close();
  }
  const p = openPrimary(o.dataDir, o.configFile);
  try {
    if (o.marker) {
      const before = p.node.peekBacklog(Number.MAX_SAFE_INTEGER).at(-1)?.id ?? 0;
      const marker = createVaults(p, 1)[0]!;
      p.entries.create(marker.owner, ENTRY, null);
      for (const row of p.node.peekBacklog(Number.MAX_SAFE_INTEGER)) if (row.id > before) p.node.deleteBacklogRow(row.id);
    }
    return { backlog: p.node.backlogStats().count, vaults: p.node.countVaults() };
  } finally {
    p.close();
  }
}
