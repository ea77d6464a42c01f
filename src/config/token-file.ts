/**
 * Token files: `auth.token_file`, `backup_pop.auth_token_file`, `control_plane.token_file`
 * (DESIGN.md §4.2). Used at start and again on every SIGHUP reload (DESIGN.md §4.4 item 10).
 *
 * A token file is a regular file, readable by this process, with no group or other permission
 * bits (0600 or 0400, like an ssh private key), holding one or two tokens, one per line (the first
 * is sent to peers; every listed one is accepted, which allows rotation). A trailing newline is
 * ignored; blank lines, more than two lines and weak tokens (see `token-strength.ts`) are refused.
 */
import { resolve } from 'node:path';
import { FileCheckError, readCheckedFile } from '../lib/file-check.js';
import { tokenWeakness } from './token-strength.js';

/** Largest token file accepted, in bytes. Two long tokens fit with room to spare. */
export const MAX_TOKEN_FILE_BYTES = 4096;
/** At most this many tokens per file: the current one and the next, during rotation. */
export const MAX_TOKENS_PER_FILE = 2;

/**
 * A token file cannot be used. `reason` says why, for an operator, and never contains a token;
 * `load.ts` turns it into `<yaml>:<line>:<col>: <key>: …` pointing at the key naming the file.
 */
export class TokenFileError extends FileCheckError {
  constructor(reason: string) {
    super(reason);
    this.name = 'TokenFileError';
  }
}

/**
 * Split and check the text of a token file: one or two non-blank lines (trailing newlines and
 * surrounding spaces ignored), each a strong token.
 *
 * @returns the tokens in file order (first = the one to send).
 * @throws TokenFileError when the text is empty, has blank or extra lines, or holds a weak token.
 */
export function parseTokenFileText(text: string): string[] {
  if (text.includes('\0')) throw new TokenFileError('contains binary data; a token file holds text tokens, one per line');
  const body = text.trimEnd();
  if (body.trim() === '') {
    throw new TokenFileError('is empty; put a token on the first line (clavitor-commercial keygen --out FILE writes one)');
  }
  const lines = body.split(/\r?\n/).map((l) => l.trim());
  const blank = lines.indexOf('');
  if (blank >= 0) throw new TokenFileError(`line ${blank + 1} is blank; write one token per line with no blank lines`);
  if (lines.length > MAX_TOKENS_PER_FILE) {
    throw new TokenFileError(
      `has ${lines.length} lines; at most ${MAX_TOKENS_PER_FILE} tokens are allowed (the current one first, the next one second, during rotation)`,
    );
  }
  lines.forEach((line, i) => {
    const weakness = tokenWeakness(line);
    if (weakness !== null) throw new TokenFileError(`token on line ${i + 1} ${weakness}`);
  });
  return lines;
}

/**
 * Read and check a token file (relative paths resolve against the current directory).
 *
 * @returns one or two tokens; element 0 is the token to send, all are accepted.
 * @throws TokenFileError when the file is missing, unreadable, not a regular file, larger than
 *   {@link MAX_TOKEN_FILE_BYTES}, readable or writable by group/others, or its content is invalid.
 */
export function readTokenFile(path: string): string[] {
  const abs = resolve(path);
  let data: Buffer;
  try {
    data = readCheckedFile(abs, { maxBytes: MAX_TOKEN_FILE_BYTES, private: true });
  } catch (err) {
    if (err instanceof FileCheckError) throw new TokenFileError(err.reason);
    throw err;
  }
  return parseTokenFileText(data.toString('utf8'));
}
