/**
 * Random passwords for `GET /api/generate` (issue 6 item 5). Characters are drawn with
 * `crypto.randomInt`, which is uniform (no modulo bias). When several classes are asked for, each
 * appears at least once: a candidate missing one is discarded and a fresh one drawn (rejection
 * sampling keeps the result uniform over all passwords that satisfy the rule).
 */
import { randomInt } from 'node:crypto';

/** Character classes by name. Symbols are the printable ASCII punctuation characters. */
export const CHAR_CLASSES = {
  lower: 'abcdefghijklmnopqrstuvwxyz',
  upper: 'ABCDEFGHIJKLMNOPQRSTUVWXYZ',
  digits: '0123456789',
  symbols: '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~',
} as const;
/** One class name. */
export type CharClass = keyof typeof CHAR_CLASSES;
/** Class names, in canonical order. */
export const CLASS_NAMES = Object.keys(CHAR_CLASSES) as CharClass[];

/** Shortest and longest password `generatePassword` makes, in characters. */
export const MIN_LENGTH = 4;
/** See MIN_LENGTH. */
export const MAX_LENGTH = 1024;
/** Default length in characters. */
export const DEFAULT_LENGTH = 24;

/**
 * A password of `length` characters (MIN_LENGTH..MAX_LENGTH, and at least one per class) drawn
 * from the union of `classes` (non-empty, no duplicates), containing each class at least once.
 * Throws RangeError on bad arguments.
 */
export function generatePassword(length: number, classes: readonly CharClass[]): string {
  const set = [...new Set(classes)];
  if (set.length === 0) throw new RangeError('at least one character class is required');
  if (!Number.isInteger(length) || length < Math.max(MIN_LENGTH, set.length) || length > MAX_LENGTH) {
    throw new RangeError(`length must be an integer from ${Math.max(MIN_LENGTH, set.length)} to ${MAX_LENGTH}`);
  }
  const alphabet = set.map((c) => CHAR_CLASSES[c]).join('');
  for (;;) {
    let out = '';
    for (let i = 0; i < length; i++) out += alphabet[randomInt(alphabet.length)];
    if (set.every((c) => [...out].some((ch) => CHAR_CLASSES[c].includes(ch)))) return out;
  }
}
