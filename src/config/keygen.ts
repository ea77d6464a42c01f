/**
 * `clavitor-commercial keygen --out FILE` (DESIGN.md §4.1: "256-bit token, mode 0600, never
 * overwrites"; §4.2: keygen writes `clavitor-pop-v1-` followed by 43 base64url characters).
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fchmodSync, fsyncSync, openSync, unlinkSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Errors } from '../lib/errors.js';
import { ConfigError, FILE_KEY } from './config-error.js';
import { TOKEN_PREFIX } from './token-strength.js';

/** Random bytes in a generated token (256 bits). */
export const TOKEN_RANDOM_BYTES = 32;

/**
 * A fresh inter-POP token: `clavitor-pop-v1-` + 43 base64url characters encoding 32 bytes
 * from the operating system's CSPRNG (`node:crypto.randomBytes`).
 */
export function generateToken(): string {
  return TOKEN_PREFIX + randomBytes(TOKEN_RANDOM_BYTES).toString('base64url');
}

function fail(file: string, reason: string, exists = false): ConfigError {
  return new ConfigError(exists ? Errors.KEYGEN_EXISTS : Errors.CONFIG_INVALID, { file, line: 1, col: 1, key: FILE_KEY, reason });
}

/**
 * Create `path` holding one new token and a newline, mode 0600, flushed to disk. The file is
 * created exclusively (`wx`): an existing file — or a symbolic link, even a dangling one — is
 * never overwritten. Nothing else is created (no parent directories). The token is not returned,
 * so callers cannot print it by accident.
 *
 * @throws ConfigError CV-1004 (KEYGEN_EXISTS) when `path` exists, or CV-1001 (CONFIG_INVALID)
 *   when it cannot be created (missing directory, permissions); `.line` is `<path>:1:1: (file): …`.
 */
export function writeKeyFile(path: string): void {
  const file = resolve(path);
  let fd: number;
  try {
    fd = openSync(file, 'wx', 0o600);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EEXIST') throw fail(file, 'already exists; keygen never overwrites a key file (move it away first, or choose another --out)', true);
    if (e.code === 'ENOENT') throw fail(file, 'cannot be created: its directory does not exist');
    if (e.code === 'EACCES' || e.code === 'EPERM') throw fail(file, 'cannot be created: permission denied on its directory');
    throw fail(file, `cannot be created (${e.code ?? e.message})`);
  }
  try {
    fchmodSync(fd, 0o600); // the umask may only have removed bits; make the mode exact
    writeFileSync(fd, `${generateToken()}\n`);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    try {
      unlinkSync(file);
    } catch {
      /* best effort: leave no half-written key behind */
    }
    const e = err as NodeJS.ErrnoException;
    throw fail(file, `could not be written (${e.code ?? e.message})`);
  }
  closeSync(fd);
}
