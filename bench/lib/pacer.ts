/**
 * Open-loop pacing: write `i` is started at `t0 + i / rate` whatever happened to earlier ones, so a
 * slow response never lowers the offered rate (no coordinated omission). When the timer wakes late,
 * every write that is due is started at once, keeping the long-run rate exact.
 */
import { nowMs, sleep } from './stats.js';

/**
 * Calls `fire(i, scheduledAt)` for i = 0..rate×seconds−1 at `rate` per second; resolves when the
 * last one has been started (not finished). `scheduledAt` is in ms on the monotonic clock.
 */
export async function paced(rate: number, seconds: number, fire: (i: number, scheduledAt: number) => void): Promise<void> {
  const n = Math.round(rate * seconds);
  const step = 1000 / rate;
  const t0 = nowMs();
  let i = 0;
  while (i < n) {
    const now = nowMs();
    while (i < n && t0 + i * step <= now) {
      fire(i, t0 + i * step);
      i++;
    }
    if (i < n) await sleep(Math.max(0, t0 + i * step - nowMs()));
  }
}
