/**
 * Zod validation at the HTTP edge (STYLE.md: "zod schemas at every edge"). Failures become
 * BAD_REQUEST (CV-3001) naming the offending field path, never echoing the value (it may be a secret).
 */
import type { z } from 'zod';
import { cvError } from '../lib/errors.js';

/** Parses `data` with `schema` or throws BAD_REQUEST naming the first bad field. */
export function parseInput<T extends z.ZodType>(schema: T, data: unknown): z.infer<T> {
  const r = schema.safeParse(data);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const where = issue && issue.path.length > 0 ? issue.path.join('.') : 'body';
  throw cvError('BAD_REQUEST', `${where}: ${issue?.message ?? 'invalid'}`);
}
