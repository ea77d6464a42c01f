/**
 * The one error registry of Clavitor (DESIGN.md §3: "one registry with stable codes").
 *
 * Every error that leaves a process — an HTTP response body, a CLI line, a startup refusal —
 * carries a stable `CV-NNNN` code from this table, modelled on fastify's `lib/errors.js`.
 * Codes are never reused or renumbered; `docs/errors.md` documents each one.
 *
 * Ranges: 1xxx configuration and startup, 2xxx authentication, 3xxx client API input,
 * 4xxx vault state, 5xxx roles and replication, 6xxx command-line client (60xx clavitor-cli, never
 * sent over HTTP) and control plane (61xx clavitor-control), 9xxx internal.
 */

/** Definition of one registered error: HTTP status and an operator-readable message. */
export interface ErrorDef {
  /** Stable code, `CV-NNNN`. */
  readonly code: string;
  /** HTTP status used when the error crosses the client or replication API. */
  readonly status: number;
  /** Default message: says what is wrong and, where useful, what to do. Never holds a secret. */
  readonly message: string;
}

function def(code: string, status: number, message: string): ErrorDef {
  return Object.freeze({ code, status, message });
}

/** All registered errors, by symbolic name. */
export const Errors = Object.freeze({
  // 1xxx — configuration and startup
  CONFIG_INVALID: def('CV-1001', 500, 'replication configuration is invalid'),
  CONFIG_MISSING: def('CV-1002', 500, 'replication configuration file not found'),
  TOKEN_FILE_INVALID: def('CV-1003', 500, 'token file is missing, unprotected or too weak'),
  KEYGEN_EXISTS: def('CV-1004', 500, 'refusing to overwrite an existing key file'),
  DATA_DIR_INVALID: def('CV-1005', 500, 'data directory cannot be used'),
  DATA_DIR_LOCKED: def('CV-1006', 500, 'the data directory is in use by another Clavitor server'),
  SIGNING_KEY_INVALID: def('CV-1010', 500, 'POP signing key file or pinned peer public key cannot be used'),
  SIGNING_KEYS_REQUIRED: def('CV-1011', 500, 'a commercial POP needs auth.signing_key_file and auth.peer_public_key (clavitor-commercial keygen --signing-key)'),

  // 2xxx — authentication and authorisation
  AUTH_MISSING: def('CV-2001', 401, 'missing bearer token: send Authorization: Bearer <token>'),
  AUTH_INVALID: def('CV-2002', 401, 'invalid token'),
  FORBIDDEN: def('CV-2003', 403, 'this token may not perform that action'),
  AGENT_REVOKED: def('CV-2004', 401, 'invalid token'),
  REPLICATION_AUTH: def('CV-2005', 401, 'replication peer authentication failed'),
  RATE_LIMITED: def('CV-2006', 429, 'too many requests; retry later'),
  AGENT_SCOPE: def('CV-2007', 403, 'entry is outside this agent\'s scope'),
  AGENT_LIST_FORBIDDEN: def('CV-2008', 403, 'agents cannot list or search entries'),
  AGENT_RATE_LIMITED: def('CV-2009', 429, 'agent rate limit exceeded (distinct entries per minute or per hour); wait Retry-After seconds — a second breach within 2 hours locks the agent'),
  REQUEST_TOO_SLOW: def('CV-2011', 408, 'the request body did not arrive in time; the connection is closed (send the whole request promptly)'),
  REQUEST_TIMEOUT: def('CV-2013', 408, 'the request headers (or the whole request) did not arrive in time; the connection is closed'),
  CONNECTION_LIMIT: def('CV-2012', 503, 'connection limits reached: connections were closed (per source address or in total); see docs/security.md "Connection limits"'),
  AGENT_LOCKED: def('CV-2010', 403, 'agent is locked after repeated rate-limit breaches; the vault owner must unlock it (clavitor-cli agent unlock <id>)'),

  // 3xxx — client input
  BAD_REQUEST: def('CV-3001', 400, 'request body is invalid'),
  BAD_JSON: def('CV-3002', 400, 'request body is not valid JSON'),
  BODY_TOO_LARGE: def('CV-3003', 413, 'request body is too large'),
  NOT_FOUND: def('CV-3004', 404, 'not found'),
  UNSUPPORTED_MEDIA: def('CV-3005', 415, 'content type must be application/json'),
  PRECONDITION_REQUIRED: def('CV-3006', 428, 'If-Match header with the entry version is required'),
  METHOD_NOT_ALLOWED: def('CV-3007', 405, 'method not allowed'),
  REF_INVALID: def('CV-3020', 400, 'not a secret reference: write clavitor://<vault>/<entry title or id>/<field label>[?totp], with / in a title or label as %2F'),
  WEB_NOT_BUILT: def('CV-3040', 404, 'the web vault is not built on this server (run npm run build)'),
  IMPORT_ENTRY_INVALID: def('CV-3041', 400, 'an entry of the import is refused (details.index names it, from 0); nothing was imported'),
  IMPORT_ENTRY_TOO_LARGE: def('CV-3042', 413, 'an entry of the import is larger than one entry may be (8 MiB as JSON, what POST /api/entries accepts; details.index names it); nothing was imported'),
  IMPORT_FILE_INVALID: def('CV-3043', 400, 'the uploaded file cannot be read in that format (the message names the line or path); nothing was imported'),
  IMPORT_FILE_DECRYPT: def('CV-3044', 400, 'the uploaded Clavitor export did not decrypt: wrong passphrase, or the file was altered; nothing was imported'),

  // 4xxx — vault state
  VERSION_CONFLICT: def('CV-4001', 409, 'entry was changed since that version; re-read and retry'),
  ENTRY_DELETED: def('CV-4002', 404, 'entry was deleted'),
  VAULT_NOT_FOUND: def('CV-4003', 404, 'vault not found'),
  DECRYPT_FAILED: def('CV-4004', 500, 'stored ciphertext failed authentication'),
  TOTP_SEALED: def('CV-4005', 409, 'the TOTP secret is in the sealed tier; compute the code client-side (clavitor-cli totp does)'),
  TOTP_INVALID: def('CV-4006', 422, 'the totp field holds neither an otpauth://totp/ URI nor a base32 secret'),
  REF_AMBIGUOUS: def('CV-4020', 409, 'more than one entry this token may read has that title; use the entry id (e_…) in the reference'),
  REF_VAULT_MISMATCH: def('CV-4021', 404, 'the reference names another vault than this token\'s; use the vault id from the token (cvt1.<vault_id>.…)'),
  FIELD_NOT_FOUND: def('CV-4022', 404, 'the entry has no field with that label (labels are exact and case-sensitive)'),

  // 30xx/40xx issue 14 item 2 (agent scopes and expiry)
  AGENT_SCOPE_INVALID: def('CV-3030', 400, 'agent scope or expiry is invalid: give expires_at (a future ISO-8601 date) or ttl_seconds, not both, within 10 years'),
  AGENT_REVOKED_UPDATE: def('CV-4031', 409, 'this agent is revoked; its scope cannot change: create a new agent'),
  TOKEN_EXPIRED: def('CV-4030', 401, 'this agent token has expired; the vault owner can extend it (clavitor-cli agent update <id> --ttl …) or create a new agent'),
  VERSION_NOT_RESTORABLE: def('CV-4040', 422, 'that version holds no value of this entry (a deletion, or another entry\'s revision); list the versions with clavitor-cli history <id>'),
  AGENT_FOLDER_INVALID: def('CV-4023', 400, 'a folder in an agent\'s scope must be a live entry of type folder: give a folder entry\'s id or title (--scope names single entries)'),
  ENTRY_NOT_DELETED: def('CV-4041', 409, 'the entry is not deleted, so there is nothing to undelete; to go back to an old version pass a version (clavitor-cli restore <id> --version N)'),

  // 5xxx — roles and replication
  READ_ONLY_BACKUP: def('CV-5001', 503, 'this POP is a backup and accepts no client writes; write to the primary'),
  FENCED: def('CV-5002', 503, 'this POP is fenced: a higher epoch exists elsewhere; it accepts no client writes until an operator reloads it'),
  NOT_A_BACKUP: def('CV-5003', 409, 'this POP is a primary and accepts no replication pushes'),
  STALE_EPOCH: def('CV-5004', 409, 'push refused: sender epoch is lower than this POP\'s'),
  REPLICATION_GAP: def('CV-5005', 409, 'push refused: revision sequence gap'),
  PUSH_INVALID: def('CV-5006', 400, 'replication push is malformed'),
  REPLICATION_ALERT: def('CV-5007', 500, 'replication to the backup failed after max_retries; backlog kept'),
  DRAINING: def('CV-5008', 503, 'this POP is draining for a switchover and accepts no client writes'),
  REPLICATION_DIVERGED: def('CV-5010', 409, 'push refused: this POP holds a different revision at that position'),
  PEER_UNREACHABLE: def('CV-5011', 503, 'replication peer could not be reached'),
  REPLAYED_PUSH: def('CV-5013', 409, 'push refused: already seen (replayed or out of order)'),
  PUSH_MAC_INVALID: def('CV-5014', 401, 'push refused: integrity check failed'),
  LEASE_EXPIRED: def('CV-5015', 503, 'this primary cannot renew its control-plane lease; it accepts no client writes until it can'),
  CONTROL_PLANE_UNREACHABLE: def('CV-5016', 503, 'control plane unreachable'),
  PEER_IS_PRIMARY: def('CV-5017', 503, 'this POP is configured primary but its peer answers as a live primary; it takes no client writes until an operator demotes the peer (then SIGHUP or resume this POP) or forces the promotion (clavitor-commercial promote --force)'),
  BACKUP_AHEAD: def('CV-5018', 503, 'this primary is behind its own backup (data restored from an older snapshot?): the backup holds revisions this POP lacks, so it takes no client writes until an operator resolves it (docs/operations.md)'),
  PUSH_COUNTER_BEHIND: def('CV-5019', 409, 'push counter behind the backup\'s: the primary was restored from an older snapshot?'),
  ROLE_FILE_DISAGREES: def('CV-5020', 409, 'the running role comes from a control-plane directive and replication.yaml says otherwise; no role change happens until the file agrees'),
  NOTHING_TO_FORCE: def('CV-5021', 409, 'nothing to force: this POP is not holding back a promotion over a live primary peer'),
  LEGACY_CONVERSION_FAILED: def('CV-5022', 500, 'the data directory is in the old layout (node.db, vaults/) and could not be converted to clavitor.db; the old files are untouched (docs/install.md "Data directory")'),
  WAL_SYNC_FAILED: def('CV-5023', 500, 'fsync of the database\'s write-ahead log failed: the POP stops (exit 74) rather than acknowledge writes that may not be on disk; check the disk, then restart (docs/replication.md "The write path")'),
  ANCHOR_SENDER_REFUSED: def('CV-5050', 403, 'audit anchors refused: the sender is not this POP\'s replication peer'),
  ANCHOR_INVALID: def('CV-5051', 400, 'audit anchors refused: malformed body'),
  ANCHOR_CONFLICT: def('CV-5052', 409, 'an audit anchor from the peer contradicts one it sent before: the peer\'s audit trail was changed on its host'),
  PEER_SIGNATURE_INVALID: def('CV-5040', 401, 'replication request refused: its signature is missing or not made by the pinned peer key'),
  EPOCH_REFUSED: def('CV-5041', 400, 'epoch claim refused: above the allowed range or an implausible jump above the highest epoch seen'),
  PEER_ANSWER_UNSIGNED: def('CV-5042', 502, 'the peer\'s answer is not signed by its pinned key; nothing in it was adopted'),
  STARTING: def('CV-5012', 503, 'this POP is confirming its epoch with its peer before taking writes; retry in a moment'),
  REPLICATION_TIMEOUT: def('CV-5009', 504, 'write committed on the primary but not acknowledged by the backup in time'),

  // 6xxx — command-line client (clavitor-cli; status unused, these never cross HTTP)
  CLI_NOT_CONFIGURED: def('CV-6001', 400, 'no server configured: run `clavitor-cli init <url>` (token on stdin) or set CLAVITOR_URL and CLAVITOR_TOKEN'),
  CLI_SEAL_KEY: def('CV-6002', 400, 'no usable seal key: pass --seal-key-file FILE (mode 0600) or set CLAVITOR_SEAL_KEY_FILE or CLAVITOR_SEAL_PASSPHRASE'),
  CLI_SEALED_OPEN: def('CV-6003', 400, 'a sealed value could not be decrypted with this seal key (wrong key, or the value was moved)'),
  CLI_AMBIGUOUS: def('CV-6004', 400, 'more than one entry has that title; use the entry id'),
  CLI_UNREACHABLE: def('CV-6005', 503, 'the server could not be reached'),
  CLI_BAD_INPUT: def('CV-6006', 400, 'invalid command-line input'),
  CLIENT_TLS_FILE: def('CV-6007', 400, 'a CA bundle, client certificate or client key file cannot be used (missing, unreadable, not PEM, or a certificate without its key)'),
  AUDIT_PEER_IS_SELF: def('CV-6033', 400, 'the peer named for audit verify is the POP being verified: its anchors must come from the other POP of the pair'),
  AUDIT_PEER_NO_ANCHORS: def('CV-6034', 503, 'the peer POP holds no audit anchors of this POP for this vault although its trail has records, so the trail was not checked against the peer'),
  EXPORT_NEEDS_OWNER: def('CV-6035', 403, 'export needs the vault owner\'s token: this token is an agent\'s (an agent reads only its scope, one entry at a time)'),
  VERIFY_SAME_POP: def('CV-6036', 400, 'verify was given the same POP as primary and backup: comparing a POP with itself checks nothing'),
  CLI_OUTPUT_EXISTS: def('CV-6030', 400, 'the output file exists; pass --force to replace it'),
  CLI_ENV_FILE: def('CV-6031', 400, 'the env file cannot be read or has a line that is not KEY=VALUE'),
  CLI_CHILD_START: def('CV-6032', 400, 'the command could not be started (not found or not executable)'),
  IMPORT_INVALID: def('CV-6040', 400, 'the import file cannot be read in that format; nothing was imported'),
  IMPORT_DECRYPT: def('CV-6041', 400, 'the export file did not decrypt: wrong passphrase, or the file was altered; nothing was imported'),
  EXPORT_FILE: def('CV-6042', 400, 'the export file cannot be created (it exists, or the directory is not writable)'),
  CLI_NOT_RESTORABLE: def('CV-6010', 400, 'this quarantined revision is not an entry change and cannot be restored by the CLI; re-create it by hand (e.g. clavitor-cli agent add)'),
  AUDIT_ANCHOR_MISSING: def('CV-6020', 400, 'the audit trail no longer holds a record that was anchored: records were deleted or the newest ones cut off'),
  AUDIT_ANCHOR_CHANGED: def('CV-6021', 400, 'an anchored audit record now has another hash: the trail was rewritten (edited, deleted or inserted records, re-hashed)'),
  AUDIT_PEER_UNCHECKED: def('CV-6022', 503, 'the peer POP\'s audit anchors could not be fetched, so the trail was not checked against them'),
  AUDIT_STATE_FILE: def('CV-6023', 400, 'the file of remembered audit anchors cannot be used (readable by group or others, or not valid JSON)'),
  HTTP_ANSWER_INVALID: def('CV-6050', 502, 'the server answered with a body this version does not understand (not JSON, or another shape): is the URL that of a Clavitor server of this version?'),
  HTTP_UNREACHABLE: def('CV-6051', 503, 'the server could not be reached (connection refused or reset, TLS failure, or no answer in time)'),

  // 61xx — control plane (clavitor-control; docs/control-plane.md)
  CP_TIMING_RULE: def('CV-6101', 400, 'heartbeat refused: heartbeat_interval breaks the timing rule interval + 2 × request timeout ≤ lease ttl'),
  CP_STORE_UNAVAILABLE: def('CV-6102', 503, 'the control plane cannot reach its state store (SQLite or etcd); retry, and check its log'),
  CP_UNREACHABLE: def('CV-6103', 503, 'the control plane could not be reached or gave an unexpected answer'),

  // 9xxx — internal
  INTERNAL: def('CV-9001', 500, 'internal error; see the server log'),
} as const);

/** Symbolic name of a registered error. */
export type ErrorName = keyof typeof Errors;

/**
 * An error carrying a registered code. Thrown by domain code, rendered by the HTTP error
 * handler as `{"error":{"code","message"}}` and by the CLIs as `CV-NNNN: message`.
 * `details` is optional structured data safe to show a client (never a secret, path or SQL).
 */
export class ClavitorError extends Error {
  /** Stable `CV-NNNN` code. */
  readonly code: string;
  /** HTTP status for this error. */
  readonly status: number;
  /** Extra client-safe fields merged into the error body (e.g. `expected` for a gap). */
  readonly details: Record<string, unknown> | undefined;
  /** Response headers to send with the error (e.g. Retry-After and X-Primary-Location of a refused write). */
  readonly headers: Record<string, string> | undefined;

  constructor(defn: ErrorDef, message?: string, details?: Record<string, unknown>, headers?: Record<string, string>) {
    super(message ?? defn.message);
    this.name = 'ClavitorError';
    this.code = defn.code;
    this.status = defn.status;
    this.details = details;
    this.headers = headers;
  }
}

/** Shorthand: `throw cvError('NOT_FOUND')`. */
export function cvError(name: ErrorName, message?: string, details?: Record<string, unknown>): ClavitorError {
  return new ClavitorError(Errors[name], message, details);
}

/** True when `err` is a ClavitorError with the given registered name. */
export function isCvError(err: unknown, name?: ErrorName): err is ClavitorError {
  return err instanceof ClavitorError && (name === undefined || err.code === Errors[name].code);
}
