/**
 * The control plane's clock: wall-clock milliseconds (so received-at times mean something after a
 * restart and across instances) that never go backwards within a process: the wall clock read
 * once at start and then advanced by the monotonic clock (`steadyWallMs`, src/lib/clock.ts), so an
 * NTP step or an operator changing the date cannot shorten a lease in the control plane's view.
 */
import { steadyWallMs } from '../../lib/clock.js';

/** A source of the current time in milliseconds since the Unix epoch. */
export interface Clock {
  /** Current time, in milliseconds since the Unix epoch; non-decreasing. */
  nowMs(): number;
}

/** The process clock: wall-clock milliseconds that never jump (src/lib/clock.ts `steadyWallMs`). */
export function createClock(): Clock {
  return { nowMs: steadyWallMs };
}
