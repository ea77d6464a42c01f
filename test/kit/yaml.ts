/**
 * The kit's one `replication.yaml` builder (issue 16 item 4), shaped like the seed's "Example POP
 * Provisioning" and docs/config.md: identity, the peer block for the role (`backup_pop` with the
 * token it pushes with for a primary, `primary_pop` for a backup), `auth` (token file, own signing
 * key, the peer's pinned public key; issue 13 §1) and an optional `replication` block. Used by the
 * e2e pairs, the chaos cluster, the benchmarks' pairs and the demo.
 */

/** One POP's replication.yaml settings. */
export interface PopYaml {
  popId: string;
  region: string;
  role: 'primary' | 'backup';
  /** The other POP: `backup_pop` of a primary, `primary_pop` of a backup (a backup may omit it). */
  peer?: { id: string; url: string };
  /** `auth.token_file`, and a primary's `backup_pop.auth_token_file`. */
  tokenFile: string;
  /** `auth.signing_key_file`: this POP's own Ed25519 key. */
  signingKeyFile: string;
  /** `auth.peer_public_key`: the other POP's public key. */
  peerPublicKey: string;
  /** `replication.batch_size` and (optional) `replication.max_retries`; no block when absent. */
  replication?: { batchSize: number; maxRetries?: number };
}

/** YAML text of `o` (strings quoted, one trailing newline). */
export function popYaml(o: PopYaml): string {
  const lines = [`pop_id: "${o.popId}"`, `region: "${o.region}"`, `role: "${o.role}"`];
  if (o.peer && o.role === 'primary') lines.push('backup_pop:', `  id: "${o.peer.id}"`, `  url: "${o.peer.url}"`, `  auth_token_file: "${o.tokenFile}"`);
  else if (o.peer) lines.push('primary_pop:', `  id: "${o.peer.id}"`, `  url: "${o.peer.url}"`);
  lines.push('auth:', `  token_file: "${o.tokenFile}"`, `  signing_key_file: "${o.signingKeyFile}"`, `  peer_public_key: "${o.peerPublicKey}"`);
  if (o.replication) {
    lines.push('replication:', `  batch_size: ${o.replication.batchSize}`);
    if (o.replication.maxRetries !== undefined) lines.push(`  max_retries: ${o.replication.maxRetries}`);
  }
  return lines.join('\n') + '\n';
}
