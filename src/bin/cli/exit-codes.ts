/**
 * Exit statuses of `clavitor-cli` (issue 6 item 6; documented in docs/cli.md) and the rendering of
 * errors as `clavitor-cli: CV-NNNN: message` on stderr.
 */
import { ClavitorError, Errors } from '../../lib/errors.js';
import { HttpError } from '../../lib/http-client.js';

/** Exit statuses. */
export const EXIT = Object.freeze({
  /** Success. */
  OK: 0,
  /** The command ran and the answer is "no": `audit verify` found a broken chain. */
  FAILED_CHECK: 1,
  /**
   * Command-line usage error (unknown command or option, missing argument), or an argument found
   * wrong by the CLI itself before it could be used: a malformed secret reference (CV-3020, nothing
   * sent), an `audit verify --peer` that is the POP itself (CV-6033).
   */
  USAGE: 2,
  /** The server refused the request (4xx: authentication, scope, not found, conflict, rate limit, lock). */
  REFUSED: 3,
  /** The server failed or could not be reached (5xx other than a write refusal, network, TLS). */
  UNAVAILABLE: 4,
  /** The POP accepts no writes now (backup, fenced, draining, starting): write to the primary. */
  NOT_PRIMARY: 5,
  /** A local problem: configuration, seal key, a sealed value that will not open, ambiguous title. */
  LOCAL: 6,
});

/** Codes with which a POP refuses a write it would take as primary (DESIGN.md §4.3). */
const WRITE_REFUSALS = new Set([Errors.READ_ONLY_BACKUP, Errors.FENCED, Errors.DRAINING, Errors.STARTING, Errors.LEASE_EXPIRED, Errors.PEER_IS_PRIMARY, Errors.BACKUP_AHEAD].map((d) => d.code));

/**
 * Codes of arguments the CLI itself finds malformed (USAGE). A ClavitorError is raised locally (an
 * answer of the server is an HttpError), so CV-3020 here means nothing was sent — not the server
 * refusing (found by a newcomer's try-out: `read` of a bad reference exited 3).
 */
const USAGE_CODES = new Set([Errors.REF_INVALID, Errors.AUDIT_PEER_IS_SELF].map((d) => d.code));

/** Exit status for an error thrown by a command. */
export function exitCodeOf(err: unknown): number {
  if (err instanceof HttpError) {
    if (WRITE_REFUSALS.has(err.code)) return EXIT.NOT_PRIMARY;
    return err.status >= 500 ? EXIT.UNAVAILABLE : EXIT.REFUSED;
  }
  if (err instanceof ClavitorError) {
    if (err.code === Errors.CLI_UNREACHABLE.code || err.code === Errors.HTTP_ANSWER_INVALID.code) return EXIT.UNAVAILABLE;
    if (USAGE_CODES.has(err.code)) return EXIT.USAGE;
    return err.code.startsWith('CV-60') ? EXIT.LOCAL : EXIT.REFUSED;
  }
  return EXIT.LOCAL;
}

/**
 * What to do about a write refusal, per code (issue 11 item 9): the reason differs — a backup or a
 * fenced POP sends the write elsewhere, a draining or starting primary only needs a retry, a
 * primary without its lease cannot reach its control plane.
 */
function refusalAdvice(err: HttpError): string {
  const wait = err.retryAfterSeconds !== undefined ? `retry in ${err.retryAfterSeconds} s` : 'retry in a moment';
  switch (err.code) {
    case Errors.DRAINING.code:
      return `clavitor-cli: this primary is draining for a planned switchover: ${wait}; if it keeps refusing, the primary has moved — ask your operator where`;
    case Errors.STARTING.code:
      return `clavitor-cli: this primary is still starting (confirming its epoch with its backup): ${wait}`;
    case Errors.LEASE_EXPIRED.code:
      return `clavitor-cli: this primary cannot reach its control plane to renew its lease, so it takes no writes (it may be cut off, and the backup may be promoted): ${wait}, and tell your operator if it persists`;
    default:
      return err.primaryLocation
        ? `clavitor-cli: the primary is at ${err.primaryLocation}: run the write there (--server ${err.primaryLocation})`
        : `clavitor-cli: this POP is ${err.code === Errors.FENCED.code ? 'fenced' : 'a backup'} and does not say where the primary is; ask your operator`;
  }
}

/** Lines to print on stderr for an error: always with a CV code; what to do for a refused write or a rate limit. */
export function describe(err: unknown): string[] {
  if (err instanceof HttpError) {
    const lines = [`clavitor-cli: ${err.code}: ${err.message}`];
    if (WRITE_REFUSALS.has(err.code)) lines.push(refusalAdvice(err));
    if (err.status === 429) lines.push(`clavitor-cli: rate limited: ${err.retryAfterSeconds !== undefined ? `retry in ${err.retryAfterSeconds} s` : 'retry later'}`);
    return lines;
  }
  if (err instanceof ClavitorError) return [`clavitor-cli: ${err.code}: ${err.message}`];
  return [`clavitor-cli: ${Errors.INTERNAL.code}: ${(err as Error)?.message ?? String(err)}`];
}

/**
 * The error as one JSON document for `--json` (stdout): `{"error":{"code","message","status"?,
 * "retry_after_seconds"?,"primary_location"?}}` — the same shape as the API's error body.
 */
export function errorJson(err: unknown): { error: Record<string, unknown> } {
  if (err instanceof HttpError) {
    return { error: {
      code: err.code, message: err.message, status: err.status,
      ...(err.retryAfterSeconds !== undefined ? { retry_after_seconds: err.retryAfterSeconds } : {}),
      ...(err.primaryLocation ? { primary_location: err.primaryLocation } : {}),
    } };
  }
  if (err instanceof ClavitorError) return { error: { code: err.code, message: err.message } };
  return { error: { code: Errors.INTERNAL.code, message: (err as Error)?.message ?? String(err) } };
}
