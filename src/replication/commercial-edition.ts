/**
 * The commercial edition (DESIGN.md §4): a POP configured by replication.yaml. The edition is the
 * POP runtime from replication/pop.ts, so it lives here, above `edition/` (which holds only the
 * `Edition` interface and the community edition): an `edition/` module importing `replication/`
 * while `replication/` implements `edition/`'s interface was a cycle (issue 16 item 1; the allowed
 * arrows are in test/unit/import-rules.md). Only the commercial entry point imports this module.
 */
import type { ReplicationConfig } from '../config/types.js';
import type { EditionContext } from '../edition/edition.js';
import { createPop, type Pop } from './pop.js';

/** Builds the commercial edition for a validated configuration. */
export function createCommercialEdition(ctx: EditionContext, cfg: ReplicationConfig): Pop {
  return createPop(ctx, cfg);
}

/**
 * The start-up lines: the one DESIGN.md §4.1 prescribes, exactly, for the role the POP runs as,
 * followed — only when the role comes from a control-plane directive or client writes are refused —
 * by one line each saying so and why (issue 11 items 2, 3 and 7).
 */
export function startupLines(pop: Pop): string[] {
  return [startupLine(pop.config()), ...pop.startupNotes()];
}

/** The startup line DESIGN.md §4.1 prescribes, exactly. */
export function startupLine(cfg: ReplicationConfig): string {
  return cfg.role === 'primary'
    ? `Commercial edition: primary POP, replicating to ${cfg.backupPop!.id}`
    : 'Commercial edition: backup POP, accepting replication from primary';
}
