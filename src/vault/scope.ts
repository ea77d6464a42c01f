/**
 * Which entries an agent may read (issue 14 item 2; DESIGN.md §1–3): an agent's scope names
 * entries (by id), folders (an entry is inside folder F when F is the entry itself or appears in
 * its `parent` chain) and tags (an entry carrying one of the tags). Evaluated from the newest
 * revision of each entry, whose `parent` and `tags` are stored in clear, so a backup POP decides
 * exactly like the primary from replicated state, with no key.
 *
 * The parent chain is followed through live entries only, at most `MAX_FOLDER_DEPTH` steps, and
 * stops at a cycle: a deleted folder still covers the entries that name it as their parent, but
 * not what lay above it.
 */
import type { VaultStore } from '../store/vault-store.js';
import { entryBody } from './entry-codec.js';
import type { AgentPrincipal } from './principal.js';
import type { EntryPutBody } from './revision.js';

/** Parent-chain steps followed at most when matching folders. */
export const MAX_FOLDER_DEPTH = 64;

/** The scope of an agent: entry ids, folder ids and tags. */
export type AgentScope = Pick<AgentPrincipal, 'scopes' | 'folders' | 'tags'>;

/**
 * True when entry `entryId`, whose newest `entry.put` body is `body` (read from `store` when not
 * given), is in `scope`. Entries that do not exist or are deleted are in scope only by id (the
 * caller answers those with 404 as before).
 */
export function entryInScope(store: VaultStore, scope: AgentScope, entryId: string, body?: EntryPutBody): boolean {
  if (scope.scopes.has(entryId)) return true;
  if (scope.folders.size === 0 && scope.tags.size === 0) return false;
  const b = body ?? liveBody(store, entryId);
  if (!b) return false;
  if (b.tags?.some((t) => scope.tags.has(t))) return true;
  if (scope.folders.size === 0) return false;
  if (scope.folders.has(entryId)) return true;
  const seen = new Set<string>([entryId]);
  let parent = b.parent;
  for (let depth = 0; parent !== null && depth < MAX_FOLDER_DEPTH && !seen.has(parent); depth++) {
    if (scope.folders.has(parent)) return true;
    seen.add(parent);
    parent = liveBody(store, parent)?.parent ?? null;
  }
  return false;
}

/** The newest body of a live entry, or undefined when it does not exist or is deleted. */
function liveBody(store: VaultStore, entryId: string): EntryPutBody | undefined {
  const e = store.getEntry(entryId);
  if (!e || e.deleted) return undefined;
  return entryBody(store.getRevision(e.headSeq)!);
}
