/**
 * What the routes of the HTTP app receive (DESIGN.md §3): the vault services, the edition, the
 * metrics registry and the admin token. Its own module so that `app.ts` imports the routes and the
 * routes import only this, not `app.ts` (no import cycle; issue 16 item 1, test/unit/import-rules.md).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Edition } from '../edition/edition.js';
import type { VaultService } from '../vault/vault-service.js';
import type { EntriesService } from '../vault/entries-service.js';
import type { AgentsService } from '../vault/agents-service.js';
import type { QuarantineService } from '../vault/quarantine-service.js';
import type { RefsService } from '../vault/refs-service.js';
import type { VaultFiles } from '../store/vault-files.js';
import type { Metrics } from '../lib/metrics.js';

/** Everything the routes need. */
export interface AppServices {
  readonly vaults: VaultService;
  readonly entries: EntriesService;
  readonly agents: AgentsService;
  /** The owner's read of quarantined revisions (issue 11 item 8). */
  readonly quarantine: QuarantineService;
  /** Secret references and the listing of what a token may read (issue 14 item 1). */
  readonly refs: RefsService;
  readonly files: VaultFiles;
  readonly edition: Edition;
  readonly metrics: Metrics;
  /** Operator admin token (DESIGN.md §3). */
  readonly adminToken: string;
  /** Runs after a client write commits (synchronous-write wait). */
  afterWrite(req: FastifyRequest, reply: FastifyReply): Promise<void>;
}
