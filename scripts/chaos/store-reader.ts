/**
 * Reads a stopped POP's database `<data>/clavitor.db` READ-ONLY for the checkers: every revision
 * of every vault, and every quarantined revision (its `revision` column is the JSON of the
 * revision as it was stored).
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { PopName, StoredRevision } from './types.js';

/** What one POP holds. */
export interface PopData {
  revisions: StoredRevision[];
  quarantine: StoredRevision[];
}

/** Reads the revisions and quarantine of the POP whose data directory is `dataDir`. */
export function readPopData(pop: PopName, dataDir: string): PopData {
  const revisions: StoredRevision[] = [];
  const node = new Database(join(dataDir, 'clavitor.db'), { readonly: true, fileMustExist: true });
  const quarantine: StoredRevision[] = [];
  try {
    const revs = node.prepare('SELECT vault_id, seq, kind, subject, epoch, origin_pop, created_at FROM revisions ORDER BY vault_id, seq').all() as { vault_id: string; seq: number; kind: string; subject: string | null; epoch: number; origin_pop: string; created_at: string }[];
    for (const r of revs) revisions.push({ pop, vault: r.vault_id, seq: r.seq, kind: r.kind, subject: r.subject, epoch: r.epoch, originPop: r.origin_pop, createdAt: r.created_at });
    const rows = node.prepare('SELECT vault_id, revision, reason, quarantined_at FROM quarantine ORDER BY id').all() as { vault_id: string; revision: string; reason: string; quarantined_at: string }[];
    for (const r of rows) {
      const rev = JSON.parse(r.revision) as { seq: number; kind: string; subject: string | null; epoch: number; originPop: string; createdAt: string };
      quarantine.push({ pop, vault: r.vault_id, seq: rev.seq, kind: rev.kind, subject: rev.subject, epoch: rev.epoch, originPop: rev.originPop, createdAt: rev.createdAt, quarantineReason: r.reason, quarantinedAt: r.quarantined_at });
    }
  } finally {
    node.close();
  }
  return { revisions, quarantine };
}
