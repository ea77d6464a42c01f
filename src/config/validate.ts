/**
 * Validates the parsed YAML against `schema.ts` and turns the first problem into a one-line
 * {@link ConfigError} pointing at the right node (DESIGN.md §4.1, §4.2).
 *
 * "First" means: an unknown key before anything else (a misspelt key usually explains a missing
 * one), then the problem nearest the top of the file.
 */
import { Errors } from '../lib/errors.js';
import { ConfigError } from './config-error.js';
import { describeIssue } from './describe-issue.js';
import { locate } from './locate.js';
import { replicationFileSchema, type RawReplicationConfig } from './schema.js';
import type { ParsedYaml } from './yaml-source.js';

/**
 * Check the shape, types, ranges and cross-field rules of the file's content.
 *
 * @returns the typed content (URLs normalised; paths still as written).
 * @throws ConfigError CV-1001 (CONFIG_INVALID) for the first problem found.
 */
export function validateShape(file: string, parsed: ParsedYaml): RawReplicationConfig {
  const result = replicationFileSchema.safeParse(parsed.data);
  if (result.success) return result.data;

  const located = result.error.issues.map((issue, index) => {
    const d = describeIssue(issue, parsed.data);
    const pos = locate(parsed.doc, parsed.lineCounter, d.path, d.at);
    return { d, pos, index };
  });
  located.sort(
    (a, b) =>
      Number(b.d.unknownKey) - Number(a.d.unknownKey) ||
      a.pos.line - b.pos.line ||
      a.pos.col - b.pos.col ||
      a.index - b.index,
  );
  const first = located[0];
  if (first === undefined) {
    throw new ConfigError(Errors.CONFIG_INVALID, { file, line: 1, col: 1, key: '(file)', reason: 'is invalid' });
  }
  throw new ConfigError(Errors.CONFIG_INVALID, {
    file,
    line: first.pos.line,
    col: first.pos.col,
    key: first.d.key,
    reason: first.d.reason,
  });
}
