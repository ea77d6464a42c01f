/** The machine a run measured: CPU model and cores, memory, Node version, kernel, date. */
import { readFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';

/** Facts about this machine for the report. */
export interface Machine {
  cpu_model: string;
  cores: number;
  memory_gib: number;
  node: string;
  kernel: string;
  /** 1, 5 and 15 minute load averages when the run started (other work on the machine). */
  load_average_at_start: number[];
  date: string;
}

/** Reads the machine facts now. */
export function machine(): Machine {
  let load: number[] = [];
  try {
    load = readFileSync('/proc/loadavg', 'utf8').trim().split(' ').slice(0, 3).map(Number);
  } catch {
    load = [];
  }
  return {
    cpu_model: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memory_gib: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    kernel: release(),
    load_average_at_start: load,
    date: new Date().toISOString(),
  };
}
