/**
 * Generates POP data directories with the real write path, in process: the commercial POP
 * (`createPop`, whose hooks record the backlog entry in each revision's savepoint exactly as a
 * running primary does), the revision writer and its group commit, and the vault and entries
 * services. Writes are issued 2,000 at a time, so each group commit holds up to 2,000 of them.
 * Parts generated in parallel are joined by copying their rows (ATTACH); nothing else is written
 * by hand into SQLite.
 *
 * Run as a child process (`datagen-main.ts`) under `eatmydata` when it is installed: fsync becomes
 * a no-op for the generator only, so a million revisions take a minute or two instead of the
 * ~2 ms per commit of this disk; the benchmarks then start the real servers on the files (after a
 * `sync`), with durability on.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { openNodeStore, type NodeStore } from '../../src/store/node-store.js';
import { createVaultFiles, type VaultFiles } from '../../src/store/vault-files.js';
import type { Db } from '../../src/store/sqlite.js';
import { POP_DB_FILE } from '../../src/store/pop-db.js';
import { createMetrics } from '../../src/lib/metrics.js';
import { loadOrCreateAdminToken } from '../../src/http/admin-token.js';
import { loadReplicationConfig } from '../../src/config/load.js';
import { createPop } from '../../src/replication/pop.js';
import { createRevisionWriter } from '../../src/vault/writer.js';
import { createVaultService } from '../../src/vault/vault-service.js';
import { createEntriesService, type EntryInput } from '../../src/vault/entries-service.js';
import type { OwnerPrincipal } from '../../src/vault/principal.js';
import type { VaultId } from '../../src/lib/ids.js';
import { VALUE_1K } from '../lib/client.js';

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

/** Writes issued at once: one group commit each (src/store/group-commit.ts). */
const CHUNK = 2000;

async function createVaults(p: Primary, n: number): Promise<{ vaultId: VaultId; owner: OwnerPrincipal; ownerToken: string }[]> {
  const out: { vaultId: VaultId; owner: OwnerPrincipal; ownerToken: string }[] = [];
  for (let done = 0; done < n;) {
    const k = Math.min(CHUNK, n - done);
    const vs = await Promise.all(Array.from({ length: k }, () => p.vaults.createVault()));
    for (const v of vs) out.push({ vaultId: v.vaultId, ownerToken: v.ownerToken, owner: p.vaults.authenticate(v.ownerToken) as OwnerPrincipal });
    done += k;
  }
  return out;
}

/** `n` entry writes, each to a vault drawn at random, issued CHUNK at a time. */
async function writeEntries(p: Primary, vaults: readonly { vaultId: VaultId; owner: OwnerPrincipal }[], n: number, seed: number): Promise<void> {
  const r = rng(seed);
  for (let done = 0; done < n;) {
    const k = Math.min(CHUNK, n - done);
    await Promise.all(Array.from({ length: k }, () => p.entries.create(vaults[Math.floor(r() * vaults.length)]!.owner, ENTRY, null)));
    done += k;
  }
}

/**
 * Copies every vault row (vaults, revisions in LSN order, entries, tokens, audit) of the POP
 * database `sourceFile` into `target` in one transaction: what replication of those vaults, or
 * the union of parts generated apart, gives.
 */
function copyVaultRows(target: Db, sourceFile: string): void {
  target.prepare('ATTACH DATABASE ? AS src').run(sourceFile);
  try {
    target.transaction(() => {
      target.exec(`INSERT INTO vaults SELECT * FROM src.vaults;
        INSERT INTO revisions (vault_id, seq, kind, subject, body, epoch, origin_pop, created_at)
          SELECT vault_id, seq, kind, subject, body, epoch, origin_pop, created_at FROM src.revisions ORDER BY lsn;
        INSERT INTO entries SELECT * FROM src.entries;
        INSERT INTO tokens SELECT * FROM src.tokens;
        INSERT INTO audit SELECT * FROM src.audit;`);
    })();
  } finally {
    target.exec('DETACH DATABASE src');
  }
}

/**
 * A primary whose backup never acknowledged anything: `vaults` vaults, then `revisions − vaults`
 * entry writes spread at random over them. Every revision is in the backlog (= `revisions`).
 */
export async function generateBacklog(o: { dataDir: string; configFile: string; vaults: number; revisions: number }): Promise<{ backlog: number }> {
  const p = openPrimary(o.dataDir, o.configFile);
  try {
    const vs = await createVaults(p, o.vaults);
    await writeEntries(p, vs, o.revisions - o.vaults, 1);
    return { backlog: p.node.backlogStats().count };
  } finally {
    p.close();
  }
}

/**
 * One part of a scale data set (parts run in parallel processes, one per core), for a pair in
 * sync holding `vaults` vaults (their vault.create revision each): the primary's database is
 * generated; the backup's holds copies of its vault rows (what replication gives it: the same
 * revisions); the primary's backlog is then emptied, as after the
 * backup acknowledged everything. Then, on the primary only, `queued` entry writes spread at
 * random over the part's vaults, in the backlog (the backup was down).
 */
export async function generateScalePart(o: { dataDir: string; configFile: string; backupDataDir: string; vaults: number; queued: number; seed: number }): Promise<{ sample: { vault_id: string; owner_token: string }[] }> {
  const p = openPrimary(o.dataDir, o.configFile);
  try {
    const vs = await createVaults(p, o.vaults);
    const sample = vs.slice(0, 50).map((v) => ({ vault_id: v.vaultId, owner_token: v.ownerToken }));
    p.node.setAckedLsn(p.node.lastLsn());
    mkdirSync(o.backupDataDir, { recursive: true, mode: 0o700 });
    const bnode = openNodeStore(o.backupDataDir);
    copyVaultRows(bnode.db, join(o.dataDir, POP_DB_FILE));
    bnode.close();
    await writeEntries(p, vs, o.queued, o.seed);
    return { sample };
  } finally {
    p.close();
  }
}

/**
 * Joins parts generated in parallel into part 0 (the pair's data directories): copies the other
 * parts' vault rows in (and into the backup's, when there is one), and
 * rebuilds the primary's backlog with every part's records interleaved (addBacklog, in
 * round-robin order, so that the queue mixes the parts' vaults as concurrent writers would).
 * With `marker`, then adds one more vault on the primary whose backlog records are removed, so
 * that the primary's start-up resync check finds it missing on the backup and logs
 * `replication.resync`: the marker of the end of that check, which the scale benchmark times.
 */
export async function mergeParts(o: { dataDir: string; configFile: string; backupDataDir?: string; parts: { dataDir: string; backupDataDir?: string }[]; marker: boolean }): Promise<{ backlog: number; vaults: number }> {
  const pnode = openNodeStore(o.dataDir);
  const bnode = o.backupDataDir ? openNodeStore(o.backupDataDir) : undefined;
  try {
    for (const part of o.parts) {
      copyVaultRows(pnode.db, join(part.dataDir, POP_DB_FILE));
      if (bnode && part.backupDataDir) copyVaultRows(bnode.db, join(part.backupDataDir, POP_DB_FILE));
      rmSync(part.dataDir, { recursive: true, force: true });
      if (part.backupDataDir) rmSync(part.backupDataDir, { recursive: true, force: true });
    }
  } finally {
    pnode.close();
    bnode?.close();
  }
  const p = openPrimary(o.dataDir, o.configFile);
  try {
    if (o.marker) {
      // Issue 12 item 3: the backlog is the log past the acknowledged position, so the marker's
      // revisions are queued like any other (the parts' rows are appended in part order).
      const marker = (await createVaults(p, 1))[0]!;
      await p.entries.create(marker.owner, ENTRY, null);
    }
    return { backlog: p.node.backlogStats().count, vaults: p.node.countVaults() };
  } finally {
    p.close();
  }
}
