/**
 * Test preload (`node --import ./test/kit/clock-shift.mjs`) that steps this process's wall
 * clock, as an NTP correction or `date -s` would, without touching the monotonic clock
 * (`performance.now()`, timers). Issue 11 item 1, field case F12.
 *
 * `CLAVITOR_TEST_CLOCK_FILE` names a file holding an offset in milliseconds (an integer, may be
 * negative). It is read at start and again on each SIGUSR2; `Date.now()` and `new Date()` (no
 * arguments) then return the real time plus that offset. After applying an offset the preload
 * writes it to `<file>.applied`, so a test can wait for the step to have happened.
 */
import { readFileSync, writeFileSync } from 'node:fs';

const file = process.env.CLAVITOR_TEST_CLOCK_FILE;
const RealDate = Date;
let offsetMs = 0;

function load() {
  if (!file) return;
  let text;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch {
    return; // no file yet: no offset
  }
  const n = Number(text);
  if (!Number.isSafeInteger(n)) return;
  offsetMs = n;
  writeFileSync(`${file}.applied`, String(n));
}

class ShiftedDate extends RealDate {
  constructor(...args) {
    if (args.length === 0) super(RealDate.now() + offsetMs);
    else super(...args);
  }

  static now() {
    return RealDate.now() + offsetMs;
  }
}

globalThis.Date = ShiftedDate;
load();
process.on('SIGUSR2', load);
