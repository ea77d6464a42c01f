/**
 * `clavitor-commercial keygen --out FILE` (DESIGN.md §4.1: "256-bit token, mode 0600, never
 * overwrites"; §4.2: keygen writes `clavitor-pop-v1-` followed by 43 base64url characters).
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fchmodSync, fsyncSync, openSync, unlinkSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Errors, type ErrorDef } from '../lib/errors.js';
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
  writeSecretFileExclusive(path, `${generateToken()}\n`, Errors.CONFIG_INVALID);
}

/**
 * The one way Clavitor writes a secret file (a token file, a POP signing key): `path` created
 * exclusively (`wx`, never over an existing file or symbolic link, no parent directories), mode
 * exactly 0600 whatever the umask, `content` written and fsynced; on a failed write the file is
 * removed, so no half-written key stays behind.
 *
 * @throws ConfigError CV-1004 (KEYGEN_EXISTS) when `path` exists; `failure` (with the reason)
 *   when it cannot be created or written. `.line` is `<path>:1:1: (file): …`.
 */
export function writeSecretFileExclusive(path: string, content: string, failure: ErrorDef): void {
  const file = resolve(path);
  const fail = (reason: string, exists = false): ConfigError =>
    new ConfigError(exists ? Errors.KEYGEN_EXISTS : failure, { file, line: 1, col: 1, key: FILE_KEY, reason });
  let fd: number;
  try {
    fd = openSync(file, 'wx', 0o600);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EEXIST') throw fail('already exists; keygen never overwrites a key file (move it away first, or choose another --out)', true);
    if (e.code === 'ENOENT') throw fail('cannot be created: its directory does not exist');
    if (e.code === 'EACCES' || e.code === 'EPERM') throw fail('cannot be created: permission denied on its directory');
    throw fail(`cannot be created (${e.code ?? e.message})`);
  }
  try {
    fchmodSync(fd, 0o600); // the umask may only have removed bits; make the mode exact
    writeFileSync(fd, content);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    try {
      unlinkSync(file);
    } catch {
      /* best effort: leave no half-written key behind */
    }
    const e = err as NodeJS.ErrnoException;
    throw fail(`could not be written (${e.code ?? e.message})`);
  }
  closeSync(fd);
}
