/**
 * The one error a configuration problem produces (DESIGN.md §4.1: "one line on stderr of the
 * form `<file>:<line>:<col>: <key>: <what is wrong>`, no stack trace", exit status 78).
 */
import { ClavitorError, type ErrorDef } from '../lib/errors.js';

/** Key used for problems with the file as a whole (missing, unreadable, empty, not a mapping). */
export const FILE_KEY = '(file)';
/** Key used for YAML syntax errors that belong to no particular key. */
export const YAML_KEY = '(yaml)';

/** One character as `\xNN` or `\uNNNN`. */
function escapeChar(c: string): string {
  const n = c.charCodeAt(0);
  return n < 0x100 ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u${n.toString(16).padStart(4, '0')}`;
}

/** `s` with control characters and Unicode line separators escaped, so the error stays one printable line. */
function printable(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\x00-\x1f\x7f-\x9f\u2028\u2029]/g, escapeChar);
}

/**
 * `key` as one word, since the line is split at `: ` after it: whitespace escaped too, an empty
 * key (`"": 1` or `~: 1` in the YAML) shown as `""` (found by test/fuzz/config.fuzz.test.ts).
 */
function printableKey(key: string): string {
  const word = printable(key).replace(/\s/g, escapeChar);
  return word === '' ? '""' : word;
}

/** Where a configuration problem is and what it is. */
export interface ConfigErrorLocation {
  /** Path of the YAML file (absolute when known). */
  readonly file: string;
  /** 1-based line number in `file`. */
  readonly line: number;
  /** 1-based column number in `file`. */
  readonly col: number;
  /** Dotted key path, e.g. `backup_pop.url`, or {@link FILE_KEY} / {@link YAML_KEY}. */
  readonly key: string;
  /** What is wrong and, where useful, what to do. Never contains a token. */
  readonly reason: string;
}

/**
 * A refused configuration. `line` is exactly one line, `<file>:<line>:<col>: <key>: <reason>`,
 * ready to print on stderr; `message` is the same text. `code` is one of CV-1001
 * (CONFIG_INVALID), CV-1002 (CONFIG_MISSING), CV-1003 (TOKEN_FILE_INVALID) or CV-1004
 * (KEYGEN_EXISTS) from `src/lib/errors.ts`.
 */
export class ConfigError extends ClavitorError {
  /** The one-line rendering: `<file>:<line>:<col>: <key>: <reason>`. */
  readonly line: string;
  /** Path of the YAML (or key) file the error is about. */
  readonly file: string;
  /** 1-based line number. */
  readonly lineNumber: number;
  /** 1-based column number. */
  readonly column: number;
  /** Dotted key path, `(file)` or `(yaml)`. */
  readonly key: string;
  /** The `<what is wrong>` part alone. */
  readonly reason: string;

  constructor(defn: ErrorDef, loc: ConfigErrorLocation) {
    const reason = printable(loc.reason.replace(/[\r\n]+/g, ' ').trim());
    const key = printableKey(loc.key);
    const line = `${printable(loc.file)}:${loc.line}:${loc.col}: ${key}: ${reason}`;
    super(defn, line);
    this.name = 'ConfigError';
    this.line = line;
    this.file = loc.file;
    this.lineNumber = loc.line;
    this.column = loc.col;
    this.key = key;
    this.reason = reason;
  }
}

/** True when `err` is a {@link ConfigError}. */
export function isConfigError(err: unknown): err is ConfigError {
  return err instanceof ConfigError;
}
