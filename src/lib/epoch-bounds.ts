/**
 * Bounds of epochs (issue 13 §1; DESIGN.md §4.4.6, §4.5 "Peer claims are authenticated"). An epoch
 * is a small non-negative integer that grows by one per promotion, so every schema that carries
 * one (push, hello, epoch answer, positions, control-plane protocol) uses the same upper bound,
 * and a claim that leaps far above the highest epoch a POP has seen is refused before anything
 * is persisted: a POP can never take an epoch its own schema refuses, and a forged or corrupt
 * claim cannot exhaust the range.
 */

/** Largest epoch any POP accepts or takes: 2^31 − 1 (a signed 32-bit integer; decades of failovers). */
export const MAX_EPOCH = 2_147_483_647;

/**
 * Largest step, above the highest epoch a POP has seen, that a claim may make: 1000. A real peer
 * moves one epoch per promotion; a POP that slept through many failovers may see a few at once.
 */
export const MAX_EPOCH_JUMP = 1000;

/**
 * Why `claim` must not be adopted by a POP whose highest seen epoch is `highestSeen`, or undefined
 * when it is acceptable. Refused: a non-integer or negative value, one above {@link MAX_EPOCH}, or
 * one more than {@link MAX_EPOCH_JUMP} above `highestSeen`. Claims at or below `highestSeen` are
 * always acceptable here (other rules, such as stale epochs, apply to them).
 */
export function epochClaimProblem(claim: unknown, highestSeen: number): string | undefined {
  if (typeof claim !== 'number' || !Number.isSafeInteger(claim) || claim < 0) return 'epoch is not a non-negative integer';
  if (claim > MAX_EPOCH) return `epoch ${claim} is above the largest epoch allowed (${MAX_EPOCH})`;
  if (claim > highestSeen + MAX_EPOCH_JUMP) return `epoch ${claim} jumps more than ${MAX_EPOCH_JUMP} above the highest epoch seen (${highestSeen})`;
  return undefined;
}
