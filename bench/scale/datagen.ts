/**
 * Generates POP data directories with the real write path, in process: the commercial POP
 * (`createPop`, which records where its epoch's log begins), the revision writer and its group
 * commit (each revision gets its log position, LSN, in its commit), and the vault and entries
 * services. Writes are issued 2,000 at a time, so each group commit holds up to 2,000 of them.
 * Parts generated in parallel are joined by copying their rows (ATTACH), renumbering the log
 * positions in one interleaved order (the only rows written by hand); a backup in sync is then
 * given the primary's log through the product's receiver (`applyPush`, as pushes would: the same
 * revisions at the same LSNs, the primary's epoch history, its epoch and push counter), and the
 * primary's acknowledged position (`meta.acked_lsn`) is moved as the backup's acknowledgement would.
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
import { createEpochStore } from '../../src/replication/epoch.js';
import { applyPush } from '../../src/replication/receiver.js';
import { toWire } from '../../src/vault/revision.js';
import type { OwnerPrincipal } from '../../src/vault/principal.js';
import type { VaultId } from '../../src/lib/ids.js';
import { VALUE_1K } from '../lib/client.js';

/** An entry with one 1 KiB owner-tier field (the payload of every benchmark). */
const ENTRY: EntryInput = { type: 'credential', parent: null, title: 'generated', fields: [{ label: 'v', value: VALUE_1K, kind: 'text', tier: 'owner' }] };

/** A primary's storage and services opened in process. */
interface Primary {
  node: NodeStore;
  popId: string;
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
    node, files, popId: pop.config().popId,
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
 * Copies every part's vault rows (vaults, revisions, entries, tokens, audit) into `target`, a POP
 * database holding no revisions yet, in one transaction: what writers on one POP would have
 * produced. The log positions are renumbered from 1 in one order: first every part's revisions at
 * or below its acknowledged position (`meta.acked_lsn`, the part in sync), then the rest; within
 * each, the parts' revisions round-robin (the k-th of every part, then the (k+1)-th…), so the log
 * mixes the parts' vaults as concurrent writers would. Each vault's revisions keep their seq
 * order. Returns how many revisions were in sync (the merged acknowledged position).
 */
function copyParts(target: Db, sourceFiles: readonly string[]): number {
  const names = sourceFiles.map((_, k) => `p${k}`);
  sourceFiles.forEach((f, k) => target.prepare(`ATTACH DATABASE ? AS ${names[k]}`).run(f));
  try {
    return target.transaction(() => {
      for (const n of names) {
        target.exec(`INSERT INTO vaults SELECT * FROM ${n}.vaults;
          INSERT INTO entries SELECT * FROM ${n}.entries;
          INSERT INTO tokens SELECT * FROM ${n}.tokens;
          INSERT INTO audit SELECT * FROM ${n}.audit;`);
      }
      const parts = names.map((n, k) => `SELECT r.*, ${k} AS part, r.lsn > coalesce((SELECT CAST(value AS INTEGER) FROM ${n}.meta WHERE key = 'acked_lsn'), 0) AS phase FROM ${n}.revisions r`).join(' UNION ALL ');
      target.exec(`INSERT INTO revisions (lsn, vault_id, seq, kind, subject, body, epoch, origin_pop, created_at)
        SELECT row_number() OVER (ORDER BY phase, rk, part), vault_id, seq, kind, subject, body, epoch, origin_pop, created_at
        FROM (SELECT *, row_number() OVER (PARTITION BY part, phase ORDER BY lsn) AS rk FROM (${parts}))
        ORDER BY phase, rk, part`);
      return target.prepare<[], { n: number }>(`SELECT (${names.map((n) => `(SELECT count(*) FROM ${n}.revisions WHERE lsn <= coalesce((SELECT CAST(value AS INTEGER) FROM ${n}.meta WHERE key = 'acked_lsn'), 0))`).join(' + ')}) AS n`).get()!.n;
    })();
  } finally {
    for (const n of names) target.exec(`DETACH DATABASE ${n}`);
  }
}

/** Revisions per generated push (the receiver's bound is 10,000). */
const PUSH_ITEMS = 2000;

/**
 * Gives the backup in `backupDataDir` the primary's log up to `upToLsn` exactly as replication
 * would: pushes built like the sender's (src/replication/sender.ts: the revisions in log order at
 * their LSNs, `prev_lsn`, the primary's epoch history, its epoch and next push counter) applied
 * by the product's receiver (`applyPush`: revisions stored at the primary's positions, the
 * history and epoch adopted, the sender's last push counter recorded), then moves the primary's
 * acknowledged position to `upToLsn`, as the acknowledgement would.
 */
function replicateTo(p: Primary, backupDataDir: string, upToLsn: number): void {
  mkdirSync(backupDataDir, { recursive: true, mode: 0o700 });
  const bnode = openNodeStore(backupDataDir);
  const bfiles = createVaultFiles(backupDataDir);
  try {
    const epochs = createEpochStore(bnode);
    const deps = { node: bnode, files: bfiles, getEpoch: () => epochs.epoch(), adoptEpoch: (e: number) => epochs.setEpoch(e) };
    const epoch = Number(p.node.getMeta('epoch') ?? '1');
    const history = p.node.epochHistory().map((e) => ({ epoch: e.epoch, start_lsn: e.startLsn, pop_id: e.popId }));
    for (let after = bnode.lastLsn(); after < upToLsn;) {
      const rows = p.node.logAfter(after, Math.min(PUSH_ITEMS, upToLsn - after));
      if (rows.length === 0) break;
      applyPush(deps, { epoch, sender: p.popId, push_seq: p.node.nextPushSeq(), prev_lsn: after, history, items: rows.map((r) => ({ ...toWire(r.rev), lsn: r.lsn })) });
      after = rows.at(-1)!.lsn;
    }
    bnode.setMeta('last_role', 'backup');
    p.node.setAckedLsn(bnode.lastLsn());
  } finally {
    bfiles.closeAll();
    bnode.close();
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
 * One part of a scale data set (parts run in parallel processes, one per core): `vaults` vaults
 * (their vault.create revision each), acknowledged (`acked_lsn` at the end of them: the pair is in
 * sync), then `queued` entry writes spread at random over the part's vaults, past it (the backup
 * was down). The backup's data is made when the parts are merged (`mergeParts`).
 */
export async function generateScalePart(o: { dataDir: string; configFile: string; vaults: number; queued: number; seed: number }): Promise<{ sample: { vault_id: string; owner_token: string }[] }> {
  const p = openPrimary(o.dataDir, o.configFile);
  try {
    const vs = await createVaults(p, o.vaults);
    const sample = vs.slice(0, 50).map((v) => ({ vault_id: v.vaultId, owner_token: v.ownerToken }));
    p.node.setAckedLsn(p.node.lastLsn());
    await writeEntries(p, vs, o.queued, o.seed);
    return { sample };
  } finally {
    p.close();
  }
}

/**
 * Joins parts generated in parallel into a fresh primary database in `dataDir` (`copyParts`: one
 * log, in-sync revisions first), then, with `backupDataDir`, replicates the in-sync part of the log
 * to the backup through the product's receiver (`replicateTo`) and moves the primary's
 * acknowledged position there. With `marker`, the backup is given every in-sync revision but the
 * last (a vault.create) while the primary's acknowledged position includes it — a backup that lost
 * its last acknowledged push — so that the primary's start-up position check finds it behind and
 * logs `replication.resync`: the marker of the end of that check, which the scale benchmark times.
 */
export async function mergeParts(o: { dataDir: string; configFile: string; backupDataDir?: string; parts: { dataDir: string }[]; marker: boolean }): Promise<{ backlog: number; vaults: number }> {
  const p = openPrimary(o.dataDir, o.configFile);
  try {
    if (p.node.lastLsn() !== 0) throw new Error(`datagen: ${o.dataDir} already holds revisions`);
    const inSync = copyParts(p.node.db, o.parts.map((part) => join(part.dataDir, POP_DB_FILE)));
    for (const part of o.parts) rmSync(part.dataDir, { recursive: true, force: true });
    p.node.setAckedLsn(0);
    if (o.backupDataDir) {
      replicateTo(p, o.backupDataDir, o.marker ? inSync - 1 : inSync);
      p.node.setAckedLsn(inSync);
    }
    return { backlog: p.node.backlogStats().count, vaults: p.node.countVaults() };
  } finally {
    p.close();
  }
}
