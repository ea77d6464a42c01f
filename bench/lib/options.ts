/**
 * Sizes and durations of every benchmark, full and `--quick`. One place, so that the report can
 * say what was measured and a smoke run (`npm run bench -- --quick`, under ~3 minutes) exercises
 * every code path with smaller numbers.
 */

/** What one run measures. Durations in seconds, sizes in revisions, vaults or keys. */
export interface BenchPlan {
  readonly quick: boolean;
  /** Offered write rates of the lag benchmark, writes per second. */
  readonly lagRates: readonly number[];
  /** Duration of each paced rate, seconds. */
  readonly lagSeconds: number;
  /** Revisions queued while the backup is down (catch-up; the same count for Redis). */
  readonly catchUpRevisions: number;
  /** Duration of each autocannon measurement (write overhead, GET, PUT), seconds. */
  readonly loadSeconds: number;
  /** Rounds of the replication on/off comparison (variants interleaved to average out machine noise). */
  readonly overheadRounds: number;
  /** autocannon connections (also the Redis clients' concurrency). */
  readonly connections: number;
  /** Idle window, seconds. */
  readonly idleSeconds: number;
  /** Backlog of the memory benchmark, revisions. */
  readonly memoryBacklog: number;
  /** Vault counts of the scale benchmark; the first (20) is the reference of the 100,000-vault replication target, the last the target's size. */
  readonly scaleVaults: readonly number[];
  /** Revisions queued over random vaults for the scale benchmark's replication throughput. */
  readonly scaleRevisions: number;
}

/** The full run (issue 7 item 5). */
export const FULL: BenchPlan = {
  quick: false,
  lagRates: [100, 200, 500],
  lagSeconds: 20,
  catchUpRevisions: 100_000,
  loadSeconds: 10,
  overheadRounds: 3,
  connections: 10,
  idleSeconds: 60,
  memoryBacklog: 1_000_000,
  scaleVaults: [20, 10_000, 100_000],
  scaleRevisions: 2_000,
};

/** The smoke-test run: same code paths, smaller numbers. */
export const QUICK: BenchPlan = {
  quick: true,
  lagRates: [100, 200, 500],
  lagSeconds: 3,
  catchUpRevisions: 5_000,
  loadSeconds: 2,
  overheadRounds: 1,
  connections: 10,
  idleSeconds: 5,
  memoryBacklog: 20_000,
  scaleVaults: [20, 500, 2_000],
  scaleRevisions: 500,
};
