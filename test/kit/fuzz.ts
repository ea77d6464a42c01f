/** Fuzz and property-test run counts (the kit's only reader of CLAVITOR_FUZZ_RUNS). */

/**
 * Runs per property: CLAVITOR_FUZZ_RUNS when set (`npm run fuzz` sets 10,000), else `fallback`
 * (200 for the fuzz suites). Throws a RangeError when the variable is not a positive integer, so a
 * typo never silently runs zero cases.
 */
export function fuzzRuns(fallback = 200): number {
  const n = Number(process.env.CLAVITOR_FUZZ_RUNS ?? fallback);
  if (!Number.isSafeInteger(n) || n < 1) throw new RangeError('CLAVITOR_FUZZ_RUNS must be a positive integer');
  return n;
}
