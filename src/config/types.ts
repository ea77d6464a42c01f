/**
 * The validated, resolved form of `/etc/clavitor/replication.yaml` (DESIGN.md §4.2; seed
 * "Config File"). Produced by `loadReplicationConfig` in `./load.ts`; plain frozen objects, all
 * paths absolute (relative paths in the YAML resolve against the YAML file's directory) and all
 * token files already read and checked.
 */
import type { KeyObject } from 'node:crypto';
import type { PopId } from '../lib/ids.js';
import type { Cidr } from '../lib/cidr.js';

/** POP role as written in the file (DESIGN.md §4.3). `fenced` is derived at run time, never configured. */
export type ConfiguredRole = 'primary' | 'backup';

/** A peer POP (the backup of a primary, or the primary of a backup). */
export interface PeerConfig {
  /** Peer POP id. */
  readonly id: PopId;
  /** Base URL of the peer, `https://…` unless the host is loopback; no trailing slash. */
  readonly url: string;
}

/** The backup a primary replicates to. */
export interface BackupPopConfig extends PeerConfig {
  /** Absolute path of the token file this POP presents to its backup. */
  readonly authTokenFile: string;
  /** Token sent as `Authorization: Bearer` to the backup: the first line of `authTokenFile`. */
  readonly sendToken: string;
}

/** Inter-POP authentication settings (`auth:` block). */
export interface AuthConfig {
  /** Absolute path of the file holding the token(s) this POP accepts from peers. */
  readonly tokenFile: string;
  /** Accepted tokens: every line of `tokenFile` (one or two, for rotation). */
  readonly acceptTokens: readonly string[];
  /** Optional client/server certificate for mutual TLS (absolute path). */
  readonly mtlsCert?: string;
  /** Optional private key for `mtlsCert` (absolute path; never the token file). */
  readonly mtlsKey?: string;
  /** Optional CA that peer certificates must chain to (absolute path). */
  readonly mtlsCa?: string;
  /** `auth.signing_key_file`: absolute path of this POP's Ed25519 private key (issue 13 §1). */
  readonly signingKeyFile?: string;
  /** This POP's Ed25519 private key, read from `signingKeyFile` (never logged: a KeyObject serialises to `{}`). */
  readonly signingKey?: KeyObject;
  /** `auth.peer_public_key`: the peer POP's pinned Ed25519 public key. */
  readonly peerPublicKey?: KeyObject;
}

/** Replication tuning (`replication:` block, defaults from DESIGN.md §4.2). */
export interface ReplicationTuning {
  /** Revisions per push, 1..10000; default 100. */
  readonly batchSize: number;
  /** Retries before an operator alert, 0..100; default 5. */
  readonly maxRetries: number;
}

/** Control-plane settings (`control_plane:` block). */
export interface ControlPlaneConfig {
  /** Control plane base URL. */
  readonly url: string;
  /** Absolute path of the control-plane token file. */
  readonly tokenFile: string;
  /** Token sent to the control plane (first line of `tokenFile`). */
  readonly token: string;
  /** Heartbeat period in seconds; default 60. */
  readonly heartbeatIntervalSeconds: number;
  /** `control_plane.ca_file`: absolute path of the PEM bundle trusted for the control plane's HTTPS (system CAs when absent). */
  readonly caFile?: string;
}

/** The whole validated replication configuration. */
export interface ReplicationConfig {
  /** Absolute path of the YAML file this was loaded from. */
  readonly path: string;
  readonly popId: PopId;
  readonly region: string;
  readonly role: ConfiguredRole;
  /** Required for a primary, absent for a backup (no cascade). */
  readonly backupPop?: BackupPopConfig;
  /** Optional for a backup (announced in X-Primary-Location, told "I am up"); absent for a primary. */
  readonly primaryPop?: PeerConfig;
  readonly auth: AuthConfig;
  readonly replication: ReplicationTuning;
  readonly controlPlane?: ControlPlaneConfig;
  /**
   * `trusted_proxies`: address ranges whose `X-Forwarded-For` names the client address (for the
   * authentication throttle and the audit trail); empty (the default) trusts no proxy.
   */
  readonly trustedProxies: readonly Cidr[];
}
