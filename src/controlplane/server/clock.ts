/**
 * The control plane's clock: wall-clock milliseconds (so received-at times mean something after a
 * restart and across instances) that never go backwards within a process. It is anchored to
 * `Date.now()` once at start and then advanced by the monotonic `performance.now()`, so an NTP
 * step or an operator changing the date cannot shorten a lease in the control plane's view.
 */
import { performance } from 'node:perf_hooks';

/** A source of the current time in milliseconds since the Unix epoch. */
export interface Clock {
  /** Current time, in milliseconds since the Unix epoch; non-decreasing. */
  nowMs(): number;
}

/** The process clock: `Date.now()` at creation plus monotonic elapsed time, in milliseconds. */
export function createClock(): Clock {
  const anchorWallMs = Date.now();
  const anchorMonoMs = performance.now();
  return { nowMs: () => Math.floor(anchorWallMs + (performance.now() - anchorMonoMs)) };
}
