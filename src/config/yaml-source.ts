/**
 * Parses replication.yaml text with `yaml`'s `parseDocument` and a `LineCounter`, keeping node
 * ranges for error positions (DESIGN.md §4.1). YAML syntax errors, an empty file and a top level
 * that is not a mapping become a {@link ConfigError} here.
 */
import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { Errors } from '../lib/errors.js';
import { ConfigError, FILE_KEY, YAML_KEY } from './config-error.js';

/** A parsed YAML document, its line index, and its plain-JS value (a mapping). */
export interface ParsedYaml {
  readonly doc: Document;
  readonly lineCounter: LineCounter;
  /** `doc.toJS()`: a plain object (checked to be a mapping, not yet validated). */
  readonly data: Record<string, unknown>;
}

/** Most alias expansions allowed in one file (guards against "billion laughs" documents). */
const MAX_ALIAS_COUNT = 50;

/** Dotted key path of the innermost key/value pair whose range contains `offset` (used for duplicate keys), or `(yaml)`. */
function keyPathAt(doc: Document, offset: number): string {
  const path: string[] = [];
  let node: unknown = doc.contents;
  const within = (n: unknown): boolean => {
    const r = (n as Node | null)?.range;
    return r !== undefined && r !== null && offset >= r[0] && offset < r[1];
  };
  for (let depth = 0; depth < 32 && isMap(node); depth++) {
    const pair = node.items.find((p) => isPair(p) && (within(p.key) || within(p.value)));
    if (pair === undefined || !isScalar(pair.key) || !/^[A-Za-z0-9_.-]+$/.test(String(pair.key.value))) break;
    path.push(String(pair.key.value));
    if (!within(pair.value)) break;
    node = pair.value;
  }
  return path.length === 0 ? YAML_KEY : path.join('.');
}

function firstLine(message: string): string {
  return (message.split('\n')[0] ?? message).replace(/ at line \d+, column \d+:?$/, '').trim();
}

/**
 * Parse `text` (the content of `file`).
 *
 * @throws ConfigError CV-1001 (CONFIG_INVALID) at the first YAML error's position; at 1:1 key
 *   `(file)` when the file is empty or holds only comments; at the top-level node when it is not
 *   a mapping.
 */
export function parseYamlSource(file: string, text: string): ParsedYaml {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const err = doc.errors[0];
  if (err !== undefined) {
    const { line, col } = lineCounter.linePos(err.pos[0]);
    if (err.code === 'MULTIPLE_DOCS') {
      const reason = 'YAML syntax error: the file holds more than one document ("---"); keep a single document';
      throw new ConfigError(Errors.CONFIG_INVALID, { file, line, col, key: YAML_KEY, reason });
    }
    if (err.code === 'DUPLICATE_KEY') {
      const reason = 'key appears twice in the same mapping; keep one';
      throw new ConfigError(Errors.CONFIG_INVALID, { file, line, col, key: keyPathAt(doc, err.pos[0]), reason });
    }
    // Other syntax errors are attributed to no key: where the parser notices a problem is not
    // always the key that caused it (an unclosed "[" is noticed on a later line).
    const reason = `YAML syntax error: ${firstLine(err.message)}`;
    throw new ConfigError(Errors.CONFIG_INVALID, { file, line, col, key: YAML_KEY, reason });
  }
  const contents = doc.contents;
  if (contents === null || (isScalar(contents) && contents.value === null)) {
    throw new ConfigError(Errors.CONFIG_INVALID, {
      file, line: 1, col: 1, key: FILE_KEY,
      reason: 'is empty; expected a mapping with at least pop_id, region, role and auth (see docs/config.md)',
    });
  }
  if (!isMap(contents)) {
    const { line, col } = lineCounter.linePos(contents.range?.[0] ?? 0);
    const what = isSeq(contents) ? 'a list' : isAlias(contents) ? 'an alias' : 'a single value';
    throw new ConfigError(Errors.CONFIG_INVALID, {
      file, line, col, key: FILE_KEY,
      reason: `top level must be a mapping of keys (pop_id: …, role: …), got ${what}`,
    });
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (e) {
    throw new ConfigError(Errors.CONFIG_INVALID, {
      file, line: 1, col: 1, key: YAML_KEY, reason: `cannot be read as data: ${firstLine((e as Error).message)}`,
    });
  }
  return { doc, lineCounter, data: data as Record<string, unknown> };
}
