/**
 * The commercial edition (DESIGN.md §4): a POP configured by replication.yaml. The edition is the
 * POP runtime from replication/pop.ts; this module exists so that the entry points choose an
 * edition by name and the community entry point never imports replication code.
 */
import type { ReplicationConfig } from '../config/types.js';
import type { EditionContext } from '../http/server.js';
import { createPop, type Pop } from '../replication/pop.js';

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
