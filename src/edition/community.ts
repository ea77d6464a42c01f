/**
 * The community edition (DESIGN.md §1 table): a single-node vault. Reads no replication file,
 * registers no replication route, stamps revisions with epoch 0 and POP id `standalone`.
 */
import type { Edition } from './edition.js';
import { NO_HOOKS } from '../vault/writer.js';

/** Builds the community edition. */
export function createCommunityEdition(): Edition {
  return {
    name: 'community',
    hooks: NO_HOOKS,
    identity: () => ({ popId: 'standalone', epoch: 0 }),
    refuseClientWrite: () => undefined,
    afterClientWrite: async () => {},
    serverTls: () => ({}),
    registerRoutes: async () => {},
    status: () => ({ edition: 'community', role: 'standalone', pop_id: null, region: null, epoch: 0, replication: null }),
    start: async () => {},
    close: async () => {},
  };
}
