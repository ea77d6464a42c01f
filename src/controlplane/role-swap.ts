/**
 * The configuration a POP runs with after a control-plane directive (issue 5 item 1): the same
 * file with the roles swapped, exactly as an operator would edit it in the seed's "before/after
 * failover" example. A backup can be promoted only when its file names its `primary_pop` (which
 * becomes its `backup_pop`, reached with the token it accepts); a primary's `backup_pop` becomes
 * its `primary_pop`.
 */
import type { ReplicationConfig } from '../config/types.js';

/** Returns `cfg` with its role swapped, or undefined when the file lacks the peer to swap with. */
export function swapRole(cfg: ReplicationConfig): ReplicationConfig | undefined {
  if (cfg.role === 'primary') {
    if (!cfg.backupPop) return undefined;
    const { backupPop: _b, ...rest } = cfg;
    return Object.freeze({ ...rest, role: 'backup' as const, primaryPop: Object.freeze({ id: cfg.backupPop.id, url: cfg.backupPop.url }) });
  }
  if (!cfg.primaryPop) return undefined;
  const { primaryPop: _p, ...rest } = cfg;
  return Object.freeze({
    ...rest,
    role: 'primary' as const,
    backupPop: Object.freeze({ id: cfg.primaryPop.id, url: cfg.primaryPop.url, authTokenFile: cfg.auth.tokenFile, sendToken: cfg.auth.acceptTokens[0]! }),
  });
}
