/**
 * Waiting for a child process to catch a signal before sending it (issue 11 item 10). Node's
 * default action for SIGHUP is to exit; a server installs its handler only once it runs
 * JavaScript, which on a busy machine can take far longer than any fixed sleep. Linux shows the
 * caught signals of a process in `/proc/<pid>/status` as the hex mask `SigCgt`, bit n-1 for signal n.
 */
import { readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { waitFor } from './pop.js';

/** True when process `pid` has a handler installed for `signal` (its bit in `SigCgt` is set). */
export function catchesSignal(pid: number, signal: NodeJS.Signals): boolean {
  const n = constants.signals[signal];
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return false;
  }
  const m = /^SigCgt:\s*([0-9a-f]+)$/m.exec(status);
  if (!m) return false;
  return ((BigInt(`0x${m[1]}`) >> BigInt(n - 1)) & 1n) === 1n;
}

/**
 * Resolves once process `pid` catches `signal` (polls `/proc/<pid>/status`); throws after
 * `timeoutMs` milliseconds (default 15000). Use before sending a signal to a process that may
 * still be starting.
 */
export async function waitUntilCatching(pid: number, signal: NodeJS.Signals, timeoutMs = 15000): Promise<void> {
  await waitFor(`process ${pid} to catch ${signal}`, () => catchesSignal(pid, signal), timeoutMs);
}
