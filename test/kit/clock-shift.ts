/**
 * Steps the wall clock of a server process started with the clock-shift preload
 * (test/kit/clock-shift.mjs): issue 11 item 1, field case F12.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { waitFor, type ServerProc } from './pop.js';

/** Absolute path of the preload module. */
export const CLOCK_SHIFT_PRELOAD = resolve(import.meta.dirname, 'clock-shift.mjs');

/** Makes `proc` start with the preload, its offset kept in `<dir>/<name>.clock`; returns that file. */
export function withClockShift(proc: ServerProc, dir: string): string {
  const file = join(dir, `${proc.name}.clock`);
  writeFileSync(file, '0');
  proc.nodeArgs = ['--import', CLOCK_SHIFT_PRELOAD];
  proc.env = { ...proc.env, CLAVITOR_TEST_CLOCK_FILE: file };
  return file;
}

/**
 * Sets `proc`'s wall-clock offset to `offsetMs` milliseconds (negative: back in time) and resolves
 * once the process has applied it.
 */
export async function stepWallClock(proc: ServerProc, file: string, offsetMs: number): Promise<void> {
  writeFileSync(file, String(offsetMs));
  proc.signal('SIGUSR2');
  await waitFor(`${proc.name} to apply a wall-clock offset of ${offsetMs} ms`, () => existsSync(`${file}.applied`) && readFileSync(`${file}.applied`, 'utf8') === String(offsetMs), 5000);
}
