/**
 * Imported first by the server entry points, so that SIGHUP is caught from the moment the process
 * runs JavaScript — Node's default action for SIGHUP is to exit, and an operator (or systemd's
 * ExecReload) may send it while the server is still starting. A SIGHUP that arrives before the
 * server installs its reload handler is remembered and applied once, when it does.
 */
let handler: (() => void) | undefined;
let pending = false;

process.on('SIGHUP', () => {
  if (handler) handler();
  else pending = true;
});

/** Installs the reload handler; runs it at once if a SIGHUP arrived earlier. */
export function onReload(h: () => void): void {
  handler = h;
  if (pending) {
    pending = false;
    h();
  }
}
