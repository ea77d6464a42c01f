/**
 * Reading a process's resident memory and context switches from `/proc` (Linux). Used for the
 * idle benchmark (wake-ups) and the memory benchmark (RSS). Sizes in MiB, counts as integers.
 */
import { readdirSync, readFileSync } from 'node:fs';

function field(text: string, name: string): number {
  const m = new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

/** Resident set size now and at its peak (VmHWM), MiB. */
export function memoryOf(pid: number): { rss_mib: number; peak_rss_mib: number } {
  const t = readFileSync(`/proc/${pid}/status`, 'utf8');
  return { rss_mib: field(t, 'VmRSS') / 1024, peak_rss_mib: field(t, 'VmHWM') / 1024 };
}

/** Context switches of a process: its main thread, and the sum over all its threads. */
export interface SwitchCounts {
  /** Voluntary switches of the main thread: each is one sleep → wake-up of the event loop. */
  main_voluntary: number;
  main_involuntary: number;
  /** Voluntary switches summed over every thread (libuv pool, V8 platform threads, …). */
  all_voluntary: number;
  threads: number;
}

/** Reads the context-switch counters of `pid` and its threads. */
export function switchesOf(pid: number): SwitchCounts {
  const main = readFileSync(`/proc/${pid}/status`, 'utf8');
  let all = 0;
  let threads = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      all += field(readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8'), 'voluntary_ctxt_switches');
      threads++;
    } catch {
      // thread exited between readdir and read
    }
  }
  return { main_voluntary: field(main, 'voluntary_ctxt_switches'), main_involuntary: field(main, 'nonvoluntary_ctxt_switches'), all_voluntary: all, threads };
}

/** Difference of two readings (after − before). */
export function switchesDelta(before: SwitchCounts, after: SwitchCounts): SwitchCounts {
  return {
    main_voluntary: after.main_voluntary - before.main_voluntary,
    main_involuntary: after.main_involuntary - before.main_involuntary,
    all_voluntary: after.all_voluntary - before.all_voluntary,
    threads: after.threads,
  };
}

/** CPU time (user + system) a process has used so far, seconds. */
export function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[11] = utime, fields[12] = stime (clock ticks; 100 per second on Linux)
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
