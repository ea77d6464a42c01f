/**
 * A reader that closes our stdout early (`clavitor-cli get x | head -1`, `clavitor-commercial
 * status | true`) ends the process with status 0 instead of an unhandled EPIPE stack trace (issue
 * 11 item 9). One handler for every binary; installed once per process. Other stdout errors are
 * rethrown. Imports nothing, so a client binary can use it without the servers' signal set-up.
 */
let installed = false;

/** Installs the handler on `process.stdout` (idempotent). */
export function exitQuietlyOnEpipe(): void {
  if (installed) return;
  installed = true;
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
}
