/**
 * Time in Clavitor (DESIGN.md §2 "Time"; issue 11 item 1; field case F12).
 *
 * Rule: every lease, deadline, window, block and backoff that decides behaviour runs on the
 * process's **monotonic** clock (`performance.now()`), which an NTP step, `date -s` or a VM resume
 * cannot move. The wall clock (`Date`) is for display and for stored records only. Timers
 * (`setTimeout`, `AbortSignal.timeout`) already run on the monotonic clock.
 *
 * Three readings, one per purpose:
 * - `nowMs()`: monotonic milliseconds, arbitrary origin. Compare only with other `nowMs()` values
 *   of the same process: lease ends, drain deadlines, rate-limit windows, throttle blocks.
 * - `wallNow()`: the wall clock as a `Date`, for records (audit, revisions) and display.
 * - `steadyWallMs()`: milliseconds since the Unix epoch, read from the wall clock once when this
 *   module loads and advanced by the monotonic clock after that. For stored timestamps whose age
 *   is later measured in the same process (backlog `queued_at_ms` → `lag_seconds`): a wall-clock
 *   step neither ages nor rejuvenates them. It may differ from `Date.now()` by the size of any
 *   step since start.
 */
import { performance } from 'node:perf_hooks';

/** Milliseconds on this process's monotonic clock (origin: process start; never jumps). */
export function monotonicMs(): number {
  return performance.now();
}

const anchorWallMs = Date.now();
const anchorMonoMs = performance.now();

/** Wall-clock milliseconds at module load plus monotonic elapsed time since; non-decreasing. */
export function steadyWallMs(): number {
  return Math.floor(anchorWallMs + (performance.now() - anchorMonoMs));
}

/** A clock, passed as a dependency so that tests of pure functions can inject one. */
export interface Clock {
  /** Monotonic milliseconds (see the module header): for every decision about durations. */
  nowMs(): number;
  /** Wall-clock time, for stored records and display only. */
  wallNow(): Date;
  /** Wall-clock milliseconds that never jump within a process (see the module header). */
  steadyWallMs(): number;
}

/** The real clock of this process. */
export const systemClock: Clock = {
  nowMs: monotonicMs,
  wallNow: () => new Date(),
  steadyWallMs,
};
