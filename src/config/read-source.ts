/**
 * Reads the text of `replication.yaml` (DESIGN.md §4.1: "Without the file … the process refuses
 * to start" with one `<file>:<line>:<col>: <key>: <what is wrong>` line).
 */
import { closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs';
import { Errors } from '../lib/errors.js';
import { ConfigError, FILE_KEY } from './config-error.js';

/** Largest replication.yaml accepted, in bytes. */
export const MAX_CONFIG_BYTES = 1024 * 1024;

const SEE_DOCS = 'commercial edition requires replication.yaml; see docs/config.md';

function fail(file: string, code: keyof typeof Errors, reason: string): ConfigError {
  return new ConfigError(Errors[code], { file, line: 1, col: 1, key: FILE_KEY, reason });
}

function openError(file: string, err: NodeJS.ErrnoException): ConfigError {
  switch (err.code) {
    case 'ENOENT':
    case 'ENOTDIR':
      return fail(file, 'CONFIG_MISSING', `not found — ${SEE_DOCS}`);
    case 'EACCES':
    case 'EPERM':
      return fail(file, 'CONFIG_MISSING', `not readable by this process (uid ${process.getuid?.() ?? '?'}) — fix its owner or permissions; ${SEE_DOCS}`);
    default:
      return fail(file, 'CONFIG_MISSING', `cannot be read (${err.code ?? err.message}) — ${SEE_DOCS}`);
  }
}

/**
 * Read `file` (an absolute path) as UTF-8 text.
 *
 * @throws ConfigError CV-1002 (CONFIG_MISSING) when the file does not exist, cannot be read or
 *   is not a regular file; CV-1001 (CONFIG_INVALID) when it is over {@link MAX_CONFIG_BYTES} or
 *   not UTF-8. The error points at `<file>:1:1` with key `(file)`.
 */
export function readConfigSource(file: string): string {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    throw openError(file, err as NodeJS.ErrnoException);
  }
  let data: Buffer;
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw fail(file, 'CONFIG_MISSING', `is a directory, not a file — ${SEE_DOCS}`);
    if (!st.isFile()) throw fail(file, 'CONFIG_MISSING', `is not a regular file — ${SEE_DOCS}`);
    if (st.size > MAX_CONFIG_BYTES) {
      throw fail(file, 'CONFIG_INVALID', `is ${st.size} bytes; a replication.yaml is far smaller (limit ${MAX_CONFIG_BYTES}), is this the right file?`);
    }
    try {
      data = readFileSync(fd);
    } catch (err) {
      throw openError(file, err as NodeJS.ErrnoException);
    }
  } finally {
    closeSync(fd);
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(data);
  } catch {
    throw fail(file, 'CONFIG_INVALID', 'is not UTF-8 text');
  }
}
