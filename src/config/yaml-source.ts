/**
 * Parses replication.yaml text with `yaml`'s parser and composer and a `LineCounter`, keeping node
 * ranges for error positions (DESIGN.md §4.1). YAML syntax errors, nesting deeper than a config
 * needs, an empty file and a top level that is not a mapping become a {@link ConfigError} here.
 */
import { Composer, isAlias, isMap, isPair, isScalar, isSeq, LineCounter, Parser, YAMLParseError, type CST, type Document, type Node } from 'yaml';
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

/**
 * Deepest nesting of mappings and lists accepted; a replication.yaml nests two levels. `yaml`'s
 * lexer, parser and composer recurse per level (and per indicator on a line), so a far deeper
 * document exhausts the stack, and after such an overflow V8 was seen to abort the whole process
 * on the next deep parse (found by test/fuzz/config.fuzz.test.ts): a bad file sent with SIGHUP
 * must not kill a running POP.
 */
const MAX_NESTING = 64;

/**
 * Offset where `text` may nest deeper than {@link MAX_NESTING}, judged from the raw text before
 * `yaml` sees it: open flow brackets, plus the block levels still open (the columns of line
 * indentation and of `-`, `?`, `:`, tag and anchor indicators after a blank). An upper bound, as
 * quotes, comments and block scalars are not told apart, that no sensible replication.yaml nears.
 */
function rawTooDeepAt(text: string): number | undefined {
  let flow = 0;
  const open: number[] = [];
  let offset = 0;
  for (const line of text.split('\n')) {
    const indent = /^[ \t]*/.exec(line)?.[0].length ?? 0;
    if (flow === 0 && indent < line.length && line[indent] !== '#') {
      while (open.length > 0 && open[open.length - 1]! >= indent) open.pop();
      open.push(indent);
    }
    let inFlow = 0;
    for (let i = 0; i < line.length; i++) {
      const c = line[i]!;
      if (c === '[' || c === '{') flow++;
      else if ((c === ']' || c === '}') && flow > 0) flow--;
      else if ('-?:!&'.includes(c) && (i === 0 || line[i - 1] === ' ' || line[i - 1] === '\t')) {
        if (flow === 0) open.push(i);
        else inFlow++;
      }
      if (open.length + flow + inFlow > MAX_NESTING) return offset + i;
    }
    offset += line.length + 1;
  }
  return undefined;
}

/**
 * Most entries in one mapping or list; a replication.yaml mapping has at most eight keys. `yaml`
 * compares each key of a mapping with the earlier ones, so 40,000 keys took 25 s of a blocked
 * event loop (found by test/fuzz/config.fuzz.test.ts).
 */
const MAX_ITEMS = 1000;

const TOO_DEEP = `nested more than ${MAX_NESTING} levels deep; a replication.yaml nests two (see docs/config.md)`;

/** The first collection nested deeper than {@link MAX_NESTING} or longer than {@link MAX_ITEMS}, or undefined. Iterative. */
function cstProblem(tokens: readonly CST.Token[]): { offset: number; reason: string } | undefined {
  const stack: [CST.Token | null | undefined, number][] = tokens.map((t) => [t, 0]);
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    const [token, depth] = top;
    if (token?.type === 'document') stack.push([token.value, depth]);
    if (token?.type !== 'block-map' && token?.type !== 'block-seq' && token?.type !== 'flow-collection') continue;
    if (depth >= MAX_NESTING) return { offset: token.offset, reason: TOO_DEEP };
    if (token.items.length > MAX_ITEMS) return { offset: token.offset, reason: `has more than ${MAX_ITEMS} entries in one mapping or list; a replication.yaml has a handful (see docs/config.md)` };
    for (const item of token.items) stack.push([item.key, depth + 1], [item.value, depth + 1]);
  }
  return undefined;
}

/**
 * `parseDocument(text)` in steps, so that nesting is checked on the raw text before `yaml`'s lexer
 * and parser, and nesting and size exactly between its parser and composer. Process warnings are
 * off: the error line is the only output.
 */
function parseChecked(file: string, text: string, lineCounter: LineCounter): Document {
  const rawDeep = rawTooDeepAt(text);
  if (rawDeep !== undefined) {
    const line = text.slice(0, rawDeep).split('\n').length;
    throw new ConfigError(Errors.CONFIG_INVALID, { file, line, col: rawDeep - text.lastIndexOf('\n', rawDeep - 1), key: YAML_KEY, reason: TOO_DEEP });
  }
  const tokens = Array.from(new Parser(lineCounter.addNewLine).parse(text));
  const problem = cstProblem(tokens);
  if (problem !== undefined) {
    const { line, col } = lineCounter.linePos(problem.offset);
    throw new ConfigError(Errors.CONFIG_INVALID, { file, line, col, key: YAML_KEY, reason: problem.reason });
  }
  let doc: Document | undefined;
  for (const next of new Composer({ prettyErrors: false, uniqueKeys: true, logLevel: 'error' }).compose(tokens, true, text.length)) {
    if (doc === undefined) doc = next;
    else {
      doc.errors.push(new YAMLParseError([next.range[0], next.range[1]], 'MULTIPLE_DOCS', 'Source contains multiple documents'));
      break;
    }
  }
  if (doc === undefined) throw new Error('unreachable: compose(…, forceDoc) yields a document');
  return doc;
}

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
 * @throws ConfigError CV-1001 (CONFIG_INVALID) at the first YAML error's position (key `(yaml)`,
 *   also for nesting deeper than {@link MAX_NESTING} or more than {@link MAX_ITEMS} entries in a
 *   collection); at 1:1 key
 *   `(file)` when the file is empty or holds only comments; at the top-level node when it is not
 *   a mapping.
 */
export function parseYamlSource(file: string, text: string): ParsedYaml {
  const lineCounter = new LineCounter();
  const doc = parseChecked(file, text, lineCounter);
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
