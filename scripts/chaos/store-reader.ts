/**
 * Reads a stopped POP's SQLite files READ-ONLY for the checkers: every revision of every vault file
 * under `<data>/vaults/`, and every quarantined revision in `<data>/node.db` (its `revision`
 * column is the JSON of the revision as it was stored).
 */
import { readdirSync } from 'node:fs';
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
  const dir = join(dataDir, 'vaults');
  for (const name of readdirSync(dir)) {
    const m = /^(v_[A-Za-z0-9_-]+)\.db$/.exec(name);
    if (!m) continue;
    const db = new Database(join(dir, name), { readonly: true, fileMustExist: true });
    try {
      const rows = db.prepare('SELECT seq, kind, subject, epoch, origin_pop, created_at FROM revisions ORDER BY seq').all() as { seq: number; kind: string; subject: string | null; epoch: number; origin_pop: string; created_at: string }[];
      for (const r of rows) revisions.push({ pop, vault: m[1]!, seq: r.seq, kind: r.kind, subject: r.subject, epoch: r.epoch, originPop: r.origin_pop, createdAt: r.created_at });
    } finally {
      db.close();
    }
  }
  const quarantine: StoredRevision[] = [];
  const node = new Database(join(dataDir, 'node.db'), { readonly: true, fileMustExist: true });
  try {
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
