/**
 * The zod schema of `replication.yaml` as written (DESIGN.md §4.2), before paths are resolved and
 * files are read (that is `load.ts`). Field names are the YAML keys.
 *
 * Every mapping is strict: an unknown key is an error (DESIGN.md §4.2, "a misspelt key must not
 * be silently ignored"). Rules that span fields (role versus backup_pop/primary_pop, peer id versus
 * pop_id, mtls_cert with mtls_key) run in one `superRefine` after the shape is valid; their issues
 * carry {@link IssueParams} telling `locate.ts` where to point.
 */
import { z } from 'zod';
import { POP_ID_PATTERN } from '../lib/ids.js';
import { normalizePeerUrl } from './url.js';
import { parseCidr } from '../lib/cidr.js';
import { publicKeyProblem } from './signing-key.js';

/** Defaults for optional settings (DESIGN.md §4.2). */
export const DEFAULTS = Object.freeze({
  /** `replication.batch_size`: revisions per push. */
  batchSize: 100,
  /** `replication.max_retries`: retries before an operator alert. */
  maxRetries: 5,
  /** `control_plane.heartbeat_interval`, in seconds. */
  heartbeatIntervalSeconds: 60,
});

/** Inclusive bounds of the integer settings (DESIGN.md §4.2). */
export const LIMITS = Object.freeze({
  batchSize: { min: 1, max: 10_000 },
  maxRetries: { min: 0, max: 100 },
  heartbeatIntervalSeconds: { min: 1, max: 3600 },
});

/**
 * Extra data on custom issues, for `locate.ts`: `at` chooses the node pointed at (`key`: the key
 * itself, `value`: its value, `parent`: the mapping that lacks it); `label` overrides the dotted
 * key printed in the error line.
 */
export interface IssueParams {
  readonly at?: 'key' | 'value' | 'parent';
  readonly label?: string;
}

const POP_ID_RULE = 'must be 1 to 63 characters from a-z, 0-9 and "-" (e.g. "calgary-01")';

const popId = z.string().regex(POP_ID_PATTERN, { error: POP_ID_RULE });
const nonEmpty = z.string().refine((s) => s.trim() !== '', { error: 'must not be empty' });
const filePath = z.string().refine((s) => s.trim() !== '', { error: 'must not be empty; give the path of a file' });

const peerUrl = z.string().transform((raw, ctx) => {
  const r = normalizePeerUrl(raw);
  if (!r.ok) {
    ctx.addIssue({ code: 'custom', message: r.reason, input: raw });
    return z.NEVER;
  }
  return r.url;
});

const cidr = z.string().transform((raw, ctx) => {
  const r = parseCidr(raw);
  if (typeof r === 'string') {
    ctx.addIssue({ code: 'custom', message: r, input: raw });
    return z.NEVER;
  }
  return r;
});

function boundedInt(limits: { min: number; max: number }) {
  return z.int().min(limits.min).max(limits.max);
}

const backupPopShape = { id: popId, url: peerUrl, auth_token_file: filePath };
const primaryPopShape = { id: popId, url: peerUrl };
// The peer POP's Ed25519 public key, inline as printed by keygen (issue 13 §1).
const peerPublicKey = z.string().refine((s) => publicKeyProblem(s) === undefined, { error: (iss) => publicKeyProblem(String(iss.input)) ?? 'is invalid' });
const authShape = {
  token_file: filePath,
  mtls_cert: filePath.optional(),
  mtls_key: filePath.optional(),
  mtls_ca: filePath.optional(),
  // This POP's Ed25519 private key (keygen --signing-key) and the peer's public key (issue 13 §1).
  signing_key_file: filePath.optional(),
  peer_public_key: peerPublicKey.optional(),
};
const replicationShape = {
  batch_size: boundedInt(LIMITS.batchSize).optional(),
  max_retries: boundedInt(LIMITS.maxRetries).optional(),
};
const controlPlaneShape = {
  url: peerUrl,
  token_file: filePath,
  heartbeat_interval: boundedInt(LIMITS.heartbeatIntervalSeconds).optional(),
  // PEM bundle trusted for the control plane's HTTPS certificate (issue 11 item 4); system CAs when absent.
  ca_file: filePath.optional(),
};

const rootShape = {
  pop_id: popId,
  region: nonEmpty.refine((s) => s.length <= 256 && ![...s].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f), { error: 'must be at most 256 characters with no control characters' }),
  role: z.enum(['primary', 'backup']),
  backup_pop: z.strictObject(backupPopShape).optional(),
  primary_pop: z.strictObject(primaryPopShape).optional(),
  auth: z.strictObject(authShape),
  // An empty `replication:` (every line commented out) means "all defaults".
  replication: z.preprocess((v) => (v === null ? undefined : v), z.strictObject(replicationShape).optional()),
  control_plane: z.strictObject(controlPlaneShape).optional(),
  // Addresses (CIDR) whose X-Forwarded-For names the client, for throttling and audit (issue 13 §2); none by default.
  trusted_proxies: z.preprocess((v) => (v === null ? undefined : v), z.array(cidr).max(256).optional()),
};

/**
 * Allowed keys of every mapping, by the dotted path of the mapping (`''` is the top level), in
 * documentation order. Used to suggest the intended key for a misspelt one and to describe what
 * a mapping should contain.
 */
export const MAPPING_KEYS: Readonly<Record<string, readonly string[]>> = Object.freeze({
  '': Object.keys(rootShape),
  backup_pop: Object.keys(backupPopShape),
  primary_pop: Object.keys(primaryPopShape),
  auth: Object.keys(authShape),
  replication: Object.keys(replicationShape),
  control_plane: Object.keys(controlPlaneShape),
});

function custom(ctx: z.RefinementCtx, path: (string | number)[], message: string, params: IssueParams): void {
  ctx.addIssue({ code: 'custom', path, message, params: { ...params } });
}

/** Schema of the whole file; its output is {@link RawReplicationConfig}. */
export const replicationFileSchema = z.strictObject(rootShape).superRefine((c, ctx) => {
  if (c.role === 'primary') {
    if (c.backup_pop === undefined) {
      custom(ctx, ['role'], 'required when role is "primary": add a backup_pop block with id, url and auth_token_file (or set role: "backup")', {
        at: 'value',
        label: 'backup_pop',
      });
    }
    if (c.primary_pop !== undefined) {
      custom(ctx, ['primary_pop'], 'only allowed when role is "backup"; a primary names its peer in backup_pop', { at: 'key' });
    }
  } else if (c.backup_pop !== undefined) {
    custom(ctx, ['backup_pop'], 'not allowed when role is "backup": a backup never replicates further (no cascade); remove backup_pop or set role: "primary"', {
      at: 'key',
    });
  }
  if (c.backup_pop !== undefined && c.backup_pop.id === c.pop_id) {
    custom(ctx, ['backup_pop', 'id'], `must differ from pop_id ("${c.pop_id}"): a POP cannot replicate to itself`, { at: 'value' });
  }
  if (c.primary_pop !== undefined && c.primary_pop.id === c.pop_id) {
    custom(ctx, ['primary_pop', 'id'], `must differ from pop_id ("${c.pop_id}"): a backup's primary is another POP`, { at: 'value' });
  }
  if (c.auth.mtls_ca !== undefined && c.auth.mtls_ca.trim() !== '' && c.role === 'backup' && c.primary_pop === undefined) {
    // Issue 13 §1: with mTLS on, the peer's certificate is always checked against the named peer.
    custom(ctx, ['role'], 'required when role is "backup" and auth.mtls_ca is set: add a primary_pop block with id and url, so that only a certificate naming the primary is accepted', {
      at: 'value',
      label: 'primary_pop',
    });
  }
  if (c.auth.mtls_cert !== undefined && c.auth.mtls_key === undefined) {
    custom(ctx, ['auth', 'mtls_key'], 'required when auth.mtls_cert is set (give both mtls_cert and mtls_key, or neither)', { at: 'parent' });
  }
  if (c.auth.mtls_key !== undefined && c.auth.mtls_cert === undefined) {
    custom(ctx, ['auth', 'mtls_cert'], 'required when auth.mtls_key is set (give both mtls_cert and mtls_key, or neither)', { at: 'parent' });
  }
});

/** The file's content once its shape and cross-field rules hold; paths still as written. */
export type RawReplicationConfig = z.output<typeof replicationFileSchema>;
