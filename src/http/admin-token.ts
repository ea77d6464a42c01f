/**
 * The operator's admin token (DESIGN.md §3): `<data>/admin.token`, created with mode 0600 on first
 * start when absent. Like the replication token files, an existing file readable by group or others
 * is refused at start. Compared in constant time.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cvError } from '../lib/errors.js';

/** Reads `<dataDir>/admin.token`, creating it (0600) when absent. Throws TOKEN_FILE_INVALID when unprotected or empty. */
export function loadOrCreateAdminToken(dataDir: string): string {
  const file = join(dataDir, 'admin.token');
  try {
    writeFileSync(file, `clavitor-admin-v1-${randomBytes(32).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw cvError('DATA_DIR_INVALID', `${file}: cannot create admin token`);
  }
  const st = statSync(file);
  if ((st.mode & 0o077) !== 0) throw cvError('TOKEN_FILE_INVALID', `${file}: admin token file is readable by group or others; chmod 600 it`);
  const token = readFileSync(file, 'utf8').trim();
  if (token.length < 32) throw cvError('TOKEN_FILE_INVALID', `${file}: admin token file is empty or too short`);
  return token;
}

/** Constant-time check of a presented token against the admin token. */
export function adminTokenMatches(presented: string, expected: string): boolean {
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}
