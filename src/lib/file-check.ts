/**
 * Careful reading of the secret and certificate files named by replication.yaml
 * (DESIGN.md §4.2: "A token or key file readable by group or others … is refused at start, like
 * ssh refuses an unprotected private key").
 *
 * The file is opened once and every check (regular file, permissions, size) is made on the open
 * descriptor, so the bytes read are the bytes checked. Opening is non-blocking, so a FIFO named by
 * mistake is refused instead of hanging the start.
 */
import { closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs';

/**
 * A file named by the configuration cannot be used. `reason` is operator-facing text that never
 * contains file contents; `load.ts` prefixes it with the YAML position of the key naming the file.
 */
export class FileCheckError extends Error {
  /** What is wrong, e.g. `has mode 0644, which lets group or others read it; run: chmod 600 /x`. */
  readonly reason: string;

  constructor(reason: string) {
    super(reason);
    this.name = 'FileCheckError';
    this.reason = reason;
  }
}

/** Options for {@link readCheckedFile}. */
export interface ReadCheckedOptions {
  /** Refuse files larger than this many bytes. */
  readonly maxBytes: number;
  /** Refuse the file when any group or other permission bit is set (0600 and 0400 pass). */
  readonly private: boolean;
}

/** Permission bits of `mode` as four octal digits, e.g. `0644`. */
export function formatMode(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0');
}

function describeOpenError(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'ENOENT':
      return 'does not exist';
    case 'ENOTDIR':
      return 'does not exist (a component of the path is not a directory)';
    case 'EACCES':
    case 'EPERM':
      return `is not readable by this process (uid ${process.getuid?.() ?? '?'}); fix its owner or permissions`;
    case 'ELOOP':
      return 'is a symbolic link loop';
    default:
      return `cannot be opened (${err.code ?? err.message})`;
  }
}

function describeKind(st: import('node:fs').Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  return 'not a regular file';
}

/**
 * Open `absPath`, check it is a readable regular file within `opts.maxBytes` bytes (and, with
 * `opts.private`, that it grants no group/other permission), and return its bytes.
 *
 * @throws FileCheckError with an operator-readable reason (missing, unreadable, not a regular
 *   file, too large, too permissive).
 */
export function readCheckedFile(absPath: string, opts: ReadCheckedOptions): Buffer {
  let fd: number;
  try {
    fd = openSync(absPath, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    throw new FileCheckError(describeOpenError(err as NodeJS.ErrnoException));
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new FileCheckError(`is ${describeKind(st)}, not a regular file`);
    if (opts.private && (st.mode & 0o077) !== 0) {
      throw new FileCheckError(
        `has mode ${formatMode(st.mode)}, which lets group or others access it; run: chmod 600 ${absPath}`,
      );
    }
    if (st.size > opts.maxBytes) {
      throw new FileCheckError(`is ${st.size} bytes, more than the ${opts.maxBytes} bytes expected; is this the right file?`);
    }
    try {
      return readFileSync(fd);
    } catch (err) {
      throw new FileCheckError(describeOpenError(err as NodeJS.ErrnoException));
    }
  } finally {
    closeSync(fd);
  }
}
