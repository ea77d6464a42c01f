/**
 * Fuzzing of `loadReplicationConfig` (issue 4 item 6; DESIGN.md §4.1–4.2), with fast-check,
 * seeded and deterministic.
 *
 * Documents are mutations of valid, seed-shaped replication.yaml files (keys dropped, duplicated,
 * renamed or moved; values replaced by wrong types, odd YAML scalars, huge numbers, unicode, file
 * names and URLs from a dictionary, deep nesting; then line and character edits), random YAML
 * built from YAML's own punctuation, random text, random bytes and deeply nested documents. Each
 * one is written to a real file next to real token files (keygen output, weak and unprotected
 * ones), certificates and keys, and loaded.
 *
 * Property: the loader returns a configuration or throws a ConfigError whose `.line` is exactly
 * one line `<file>:<line>:<col>: <key>: <what is wrong>`; it never throws anything else, never
 * crashes the process and never writes a warning to stderr (the design allows one line there).
 *
 * Runs: CLAVITOR_FUZZ_RUNS (default 200; `npm run fuzz` uses 10,000). The seed is fixed (SEED
 * below) and printed in the test name; a failure prints fast-check's seed and path to replay it.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import fc from 'fast-check';
import { ConfigError } from '../../src/config/config-error.js';
import { generateToken, writeKeyFile } from '../../src/config/keygen.js';
import { loadReplicationConfig } from '../../src/config/load.js';
import { issue, makeCa, writePem } from '../kit/pki.js';
import { fuzzRuns } from '../kit/fuzz.js';

const ROOT = resolve(import.meta.dirname, '../..');
const SEED = 0x5eed0401;
const RUNS = fuzzRuns();

// ---------------------------------------------------------------------------------------------
// Fixture directory: the files a replication.yaml may name, good and bad.

const dir = mkdtempSync(join(tmpdir(), 'clavitor-config-fuzz-'));
after(() => rmSync(dir, { recursive: true, force: true }));

writeKeyFile(join(dir, 'replication.key'));
writeKeyFile(join(dir, 'control-plane.key'));
writeFileSync(join(dir, 'two.key'), `${generateToken()}\n${generateToken()}\n`, { mode: 0o600 });
writeFileSync(join(dir, 'open.key'), `${generateToken()}\n`, { mode: 0o644 });
chmodSync(join(dir, 'open.key'), 0o644);
writeFileSync(join(dir, 'weak.key'), 'clavitor-pop-v1-a1b2c3d4e5f6\n', { mode: 0o600 });
writeFileSync(join(dir, 'garbage.crt'), 'not a certificate\n');
mkdirSync(join(dir, 'dir'));
symlinkSync('link-loop', join(dir, 'link-loop'));
symlinkSync(join(dir, 'replication.key'), join(dir, 'link.key'));
const ca = await makeCa();
writePem(dir, 'ca', ca);
writePem(dir, 'pop', await issue(ca, 'calgary-01'));

/** The file every generated document is written to (so error lines name it). */
const YAML_FILE = join(dir, 'replication.yaml');
const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** DESIGN.md §4.1: `<file>:<line>:<col>: <key>: <what is wrong>`, one line. */
const LINE_RE = new RegExp(`^${escapeRe(YAML_FILE)}:\\d+:\\d+: \\S+: .+$`);

// ---------------------------------------------------------------------------------------------
// A small YAML tree that can hold duplicate keys and raw scalar text, and its emitter.

type Y =
  | { readonly t: 'raw'; readonly text: string }
  | { readonly t: 'map'; pairs: [string, Y][]; readonly flow: boolean }
  | { readonly t: 'seq'; items: Y[]; readonly flow: boolean };

const raw = (text: string): Y => ({ t: 'raw', text });
const map = (pairs: [string, Y][], flow = false): Y => ({ t: 'map', pairs, flow });

function fromJs(v: unknown): Y {
  if (Array.isArray(v)) return { t: 'seq', items: v.map(fromJs), flow: false };
  if (v !== null && typeof v === 'object') return map(Object.entries(v).map(([k, x]) => [k, fromJs(x)]));
  return raw(typeof v === 'string' ? JSON.stringify(v) : String(v));
}

const renderKey = (k: string): string => (/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(k) ? k : JSON.stringify(k));

function flow(y: Y): string {
  if (y.t === 'raw') return y.text;
  if (y.t === 'seq') return `[${y.items.map(flow).join(', ')}]`;
  return `{${y.pairs.map(([k, v]) => `${renderKey(k)}: ${flow(v)}`).join(', ')}}`;
}

function block(y: Y, indent: number): string[] {
  const pad = ' '.repeat(indent);
  if (y.t === 'raw' || y.flow || (y.t === 'map' ? y.pairs.length === 0 : y.items.length === 0)) return [`${pad}${flow(y)}`];
  if (y.t === 'seq') {
    return y.items.flatMap((item) => (item.t === 'raw' || item.flow ? [`${pad}- ${flow(item)}`] : [`${pad}-`, ...block(item, indent + 2)]));
  }
  return y.pairs.flatMap(([k, v]) =>
    v.t === 'raw' || v.flow || (v.t === 'map' ? v.pairs.length === 0 : v.items.length === 0)
      ? [`${pad}${renderKey(k)}: ${flow(v)}`]
      : [`${pad}${renderKey(k)}:`, ...block(v, indent + 2)],
  );
}

function clone(y: Y): Y {
  if (y.t === 'raw') return y;
  if (y.t === 'seq') return { t: 'seq', items: y.items.map(clone), flow: y.flow };
  return { t: 'map', pairs: y.pairs.map(([k, v]) => [k, clone(v)]), flow: y.flow };
}

function mapsOf(y: Y, out: Extract<Y, { t: 'map' }>[] = []): Extract<Y, { t: 'map' }>[] {
  if (y.t === 'map') {
    out.push(y);
    for (const [, v] of y.pairs) mapsOf(v, out);
  } else if (y.t === 'seq') {
    for (const v of y.items) mapsOf(v, out);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Seed documents (DESIGN.md §4.2 shapes), all valid against the fixture directory.

const PRIMARY_FULL = {
  pop_id: 'calgary-01',
  region: 'north-america',
  role: 'primary',
  backup_pop: { id: 'zurich-01', url: 'https://zurich-01.clavitor.ai', auth_token_file: 'replication.key' },
  auth: { token_file: 'two.key', mtls_cert: 'pop.crt', mtls_key: 'pop.key', mtls_ca: 'ca.crt' },
  replication: { batch_size: 100, max_retries: 5 },
  control_plane: { url: 'https://control.clavitor.ai', token_file: 'control-plane.key', heartbeat_interval: 60 },
};
const BACKUP_FULL = {
  pop_id: 'zurich-01',
  region: 'europe',
  role: 'backup',
  primary_pop: { id: 'calgary-01', url: 'http://127.0.0.1:8443' },
  auth: { token_file: join(dir, 'replication.key'), mtls_ca: 'ca.crt' },
  replication: { batch_size: 10000, max_retries: 0 },
};
const PRIMARY_MIN = {
  pop_id: 'a',
  region: 'r',
  role: 'primary',
  backup_pop: { id: 'b', url: 'http://[::1]:1', auth_token_file: 'link.key' },
  auth: { token_file: 'replication.key' },
};
const BACKUP_MIN = { pop_id: 'zurich-01', region: 'europe', role: 'backup', auth: { token_file: 'replication.key' } };
const SEEDS = [PRIMARY_FULL, BACKUP_FULL, PRIMARY_MIN, BACKUP_MIN];

const KNOWN_KEYS = [
  'pop_id', 'region', 'role', 'backup_pop', 'primary_pop', 'auth', 'replication', 'control_plane', 'id', 'url',
  'auth_token_file', 'token_file', 'mtls_cert', 'mtls_key', 'mtls_ca', 'batch_size', 'max_retries', 'heartbeat_interval',
];

// ---------------------------------------------------------------------------------------------
// Arbitraries.

/** Nesting depth: mostly shallow, sometimes deep, rarely very deep. */
const depthArb = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 1, max: 80 }) },
  { weight: 3, arbitrary: fc.integer({ min: 80, max: 2000 }) },
  { weight: 1, arbitrary: fc.integer({ min: 2000, max: 30000 }) },
);

const deepText = fc.tuple(depthArb, fc.constantFrom('seq', 'map', 'open', 'dash', 'block', 'qmark')).map(([d, kind]) => {
  switch (kind) {
    case 'seq':
      return `${'['.repeat(d)}${']'.repeat(d)}`;
    case 'map':
      return `${'{a: '.repeat(d)}1${'}'.repeat(d)}`;
    case 'open':
      return '['.repeat(d);
    case 'dash':
      return `${'- '.repeat(d)}x`;
    case 'qmark':
      return `${'? '.repeat(d)}x`;
    default:
      // Block mappings nested by indentation; capped so the text stays under the 1 MiB limit.
      return Array.from({ length: Math.min(d, 1200) }, (_, i) => `${' '.repeat(i)}a:`).join('\n');
  }
});

const ODD_SCALARS = [
  '~', 'null', 'Null', '', 'true', 'false', 'yes', 'no', 'on', 'off', 'Y', '0', '-0', '+1', '0x1F', '0o17', '0b101', '1e999',
  '-1e999', '.inf', '-.Inf', '.nan', '1.5', '-1', '1e3', '99999999999999999999999999999', '9007199254740993', '1_000', '1,000',
  '2001-12-14', '2001-12-14t21:59:43.10-05:00', '12:30:00', '"100"', "'x'", '!!binary aGVsbG8=', '!!str 5', '!!int "5"',
  '!!float x', '!!bool maybe', '!!null x', '!!set {a, b}', '!!omap [a: 1]', '!!pairs [a: 1]', '!!timestamp 2001-12-14',
  '!!map [1]', '!!seq {a: 1}', '!custom x', '!<tag:yaml.org,2002:str> x', '&a x', '*a', '*undefined', '&a [*a]',
  '&a {k: *a}', '|\n  block', '>-\n  folded', '|\n', '"\\u0000"', '"\\ud800"', '"\\x85"', '"\\L\\P"', '"\\e\\a"',
  '"\\U0001F511"', '[]', '{}', '[1, [2, [3]]]', '{a: {b: {c: d}}}', '? x', '- x', '"unterminated', "'unterminated",
  '#comment', '%YAML 1.1', '@at', '`bt`', '\t', 'a: b', '[a, b', '{a: b', ']', '}', ',', 'x #y', '<<: *a', '=',
  '\u2028', '\u0085', '\ufeff', '\u00a0', 'é', '🔑', '\u202e', 'null\u0000',
];
const FILE_NAMES = [
  'replication.key', 'control-plane.key', 'two.key', 'open.key', 'weak.key', 'missing.key', 'pop.crt', 'pop.key', 'ca.crt',
  'garbage.crt', 'dir', 'link-loop', 'link.key', '.', '..', '/', '/dev/null', '/dev/zero', '/proc/self/status',
  join(dir, 'replication.key'), `${'x'.repeat(300)}.key`, 'a/'.repeat(2100), ' ', 'replication.key ', 'r\u00e9plication.key',
];
const URLS = [
  'https://zurich-01.clavitor.ai', 'https://zurich-01.clavitor.ai/', 'http://127.0.0.1:8443', 'http://localhost', 'http://[::1]:1',
  'http://zurich-01.clavitor.ai', 'https://[::1', 'https://', 'https://user:pw@x.ai', 'https://x.ai/path', 'https://x.ai?q=1',
  'https://x.ai#f', 'https://例え.テスト', 'https://a.ai:99999', 'HTTPS://X.AI/', 'javascript:alert(1)', 'https://%00',
  'ftp://x.ai', 'https://x.ai:0', 'http://127.1', 'http://0x7f.0.0.1', ' https://x.ai ', 'https://\u2028.ai',
];
const ODD_KEYS = [
  ...KNOWN_KEYS, 'regoin', 'Pop_Id', 'POP_ID', 'popid', 'token', 'secret', 'password', 'token_files', '<<', '__proto__',
  'constructor', 'toString', 'hasOwnProperty', '', ' ', 'a b', 'a\tb', '\u2028', '\u00a0', 'é', '🔑', '1', 'null', 'true',
  '~', '-', '?', ':', '#', 'a:b', 'a.b', '[a]', '{a: b}',
];

const str = (maxLength: number) => fc.string({ unit: 'binary', maxLength });

const scalarArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...ODD_SCALARS) },
  { weight: 3, arbitrary: fc.constantFrom(...FILE_NAMES).map((s) => JSON.stringify(s)) },
  { weight: 3, arbitrary: fc.constantFrom(...URLS).map((s) => JSON.stringify(s)) },
  { weight: 1, arbitrary: fc.integer().map(String) },
  { weight: 1, arbitrary: fc.bigInt({ min: -(2n ** 200n), max: 2n ** 200n }).map(String) },
  { weight: 1, arbitrary: fc.double().map(String) },
  { weight: 2, arbitrary: str(40).map((s) => JSON.stringify(s)) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }) },
  { weight: 1, arbitrary: str(40) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 5000 }).map((n) => 'x'.repeat(n)) },
  { weight: 1, arbitrary: fc.stringMatching(/^[a-z0-9-]{0,70}$/) },
  { weight: 1, arbitrary: deepText },
);

const keyArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...ODD_KEYS) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 12 }) },
  { weight: 1, arbitrary: str(12) },
);

const valueArb: fc.Arbitrary<Y> = fc.letrec<{ value: Y }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { weight: 6, arbitrary: scalarArb.map(raw) },
    { weight: 1, arbitrary: fc.record({ items: fc.array(tie('value'), { maxLength: 3 }), flow: fc.boolean() }).map(({ items, flow: f }): Y => ({ t: 'seq', items, flow: f })) },
    { weight: 1, arbitrary: fc.record({ pairs: fc.array(fc.tuple(keyArb, tie('value')), { maxLength: 3 }), flow: fc.boolean() }).map(({ pairs, flow: f }) => map(pairs, f)) },
  ),
})).value;

/** One structural edit of the tree; `a`/`b` pick mappings and pairs (modulo their counts). */
type TreeEdit =
  | { op: 'drop' | 'dup'; a: number; b: number }
  | { op: 'rename'; a: number; b: number; key: string }
  | { op: 'set'; a: number; b: number; value: Y }
  | { op: 'add'; a: number; key: string; value: Y }
  | { op: 'swap' | 'move'; a: number; b: number; c: number; d: number };

const nat = fc.nat(1000);
const treeEditArb: fc.Arbitrary<TreeEdit> = fc.oneof(
  fc.record({ op: fc.constantFrom('drop' as const, 'dup' as const), a: nat, b: nat }),
  fc.record({ op: fc.constant('rename' as const), a: nat, b: nat, key: keyArb }),
  { weight: 3, arbitrary: fc.record({ op: fc.constant('set' as const), a: nat, b: nat, value: valueArb }) },
  fc.record({ op: fc.constant('add' as const), a: nat, key: keyArb, value: valueArb }),
  fc.record({ op: fc.constantFrom('swap' as const, 'move' as const), a: nat, b: nat, c: nat, d: nat }),
);

function applyTreeEdit(root: Y, e: TreeEdit): void {
  const maps = mapsOf(root);
  const m = maps[e.a % maps.length];
  if (m === undefined) return;
  if (e.op === 'add') {
    m.pairs.push([e.key, e.value]);
    return;
  }
  if (m.pairs.length === 0) return;
  const i = e.b % m.pairs.length;
  const pair = m.pairs[i]!;
  switch (e.op) {
    case 'drop':
      m.pairs.splice(i, 1);
      return;
    case 'dup':
      m.pairs.splice(i, 0, [pair[0], clone(pair[1])]);
      return;
    case 'rename':
      pair[0] = e.key;
      return;
    case 'set':
      pair[1] = e.value;
      return;
    case 'swap':
    case 'move': {
      const other = maps[e.c % maps.length]!;
      if (other.pairs.length === 0 || other === m) return;
      const j = e.d % other.pairs.length;
      if (e.op === 'swap') {
        const v = pair[1];
        pair[1] = other.pairs[j]![1];
        other.pairs[j]![1] = v;
      } else if (!mapsOf(pair[1]).includes(other)) {
        m.pairs.splice(i, 1);
        other.pairs.splice(j, 0, pair);
      }
      return;
    }
  }
}

/** One edit of the emitted text. */
type TextEdit =
  | { op: 'dropLine' | 'dupLine'; a: number }
  | { op: 'swapLines'; a: number; b: number }
  | { op: 'insertLine'; a: number; text: string }
  | { op: 'indent'; a: number; pad: string }
  | { op: 'insert'; a: number; text: string }
  | { op: 'delete'; a: number; n: number }
  | { op: 'truncate'; a: number }
  | { op: 'crlf' | 'bom' | 'secondDoc' | 'directive' | 'noFinalNewline' };

const textEditArb: fc.Arbitrary<TextEdit> = fc.oneof(
  fc.record({ op: fc.constantFrom('dropLine' as const, 'dupLine' as const), a: nat }),
  fc.record({ op: fc.constant('swapLines' as const), a: nat, b: nat }),
  fc.record({ op: fc.constant('insertLine' as const), a: nat, text: fc.oneof(scalarArb, fc.tuple(keyArb, scalarArb).map(([k, v]) => `${k}: ${v}`)) }),
  fc.record({ op: fc.constant('indent' as const), a: nat, pad: fc.constantFrom(' ', '  ', '\t', '   ', '- ', '? ', '# ') }),
  fc.record({ op: fc.constant('insert' as const), a: nat, text: fc.oneof(fc.constantFrom(':', '-', '"', "'", '[', ']', '{', '}', '&', '*', '!', '|', '>', '#', '%', '@', '\t', '\n', '\r', '\0', '\\', ','), str(4)) }),
  fc.record({ op: fc.constant('delete' as const), a: nat, n: fc.integer({ min: 1, max: 20 }) }),
  fc.record({ op: fc.constant('truncate' as const), a: nat }),
  fc.record({ op: fc.constantFrom('crlf' as const, 'bom' as const, 'secondDoc' as const, 'directive' as const, 'noFinalNewline' as const) }),
);

function applyTextEdit(text: string, e: TextEdit): string {
  const lines = text.split('\n');
  const at = (n: number, len: number) => (len === 0 ? 0 : n % len);
  switch (e.op) {
    case 'dropLine':
      lines.splice(at(e.a, lines.length), 1);
      return lines.join('\n');
    case 'dupLine': {
      const i = at(e.a, lines.length);
      lines.splice(i, 0, lines[i] ?? '');
      return lines.join('\n');
    }
    case 'swapLines': {
      const i = at(e.a, lines.length);
      const j = at(e.b, lines.length);
      [lines[i], lines[j]] = [lines[j] ?? '', lines[i] ?? ''];
      return lines.join('\n');
    }
    case 'insertLine':
      lines.splice(at(e.a, lines.length + 1), 0, e.text);
      return lines.join('\n');
    case 'indent': {
      const i = at(e.a, lines.length);
      lines[i] = `${e.pad}${lines[i] ?? ''}`;
      return lines.join('\n');
    }
    case 'insert': {
      const i = at(e.a, text.length + 1);
      return text.slice(0, i) + e.text + text.slice(i);
    }
    case 'delete': {
      const i = at(e.a, text.length + 1);
      return text.slice(0, i) + text.slice(i + e.n);
    }
    case 'truncate':
      return text.slice(0, at(e.a, text.length + 1));
    case 'crlf':
      return text.replace(/\n/g, '\r\n');
    case 'bom':
      return `\ufeff${text}`;
    case 'secondDoc':
      return `${text}\n---\n${text}`;
    case 'directive':
      return `%YAML 1.1\n---\n${text}`;
    case 'noFinalNewline':
      return text.replace(/\n+$/, '');
  }
}

interface MutatedSeed {
  readonly seed: number;
  readonly edits: readonly TreeEdit[];
  readonly flowStyle: boolean;
  readonly textEdits: readonly TextEdit[];
}

function renderMutated(m: MutatedSeed): string {
  const root = fromJs(SEEDS[m.seed]);
  for (const e of m.edits) applyTreeEdit(root, e);
  let text = m.flowStyle ? `${flow(root)}\n` : `${block(root, 0).join('\n')}\n`;
  for (const e of m.textEdits) text = applyTextEdit(text, e);
  return text;
}

const mutatedSeedArb: fc.Arbitrary<string> = fc
  .record({
    seed: fc.integer({ min: 0, max: SEEDS.length - 1 }),
    edits: fc.array(treeEditArb, { maxLength: 4 }),
    flowStyle: fc.boolean(),
    textEdits: fc.oneof({ weight: 3, arbitrary: fc.constant([]) }, { weight: 1, arbitrary: fc.array(textEditArb, { minLength: 1, maxLength: 3 }) }),
  })
  .map(renderMutated);

/** Random YAML: YAML's punctuation, the schema's keys and odd scalars, glued together. */
const randomYamlArb: fc.Arbitrary<string> = fc
  .array(
    fc.oneof(
      fc.constantFrom(':', ': ', '-', '- ', ' ', '  ', '\n', '\n  ', '[', ']', '{', '}', ',', '&a ', '*a', '!!str ', '!!map', '? ', '|', '>', '"', "'", '#', '---', '...', '%TAG ! tag:x,2000:', '<<: '),
      fc.constantFrom(...KNOWN_KEYS),
      scalarArb,
    ),
    { maxLength: 60 },
  )
  .map((parts) => parts.join(''));

/** A document: text, or raw bytes (possibly not UTF-8). */
const documentArb: fc.Arbitrary<string | Uint8Array> = fc.oneof(
  { weight: 12, arbitrary: mutatedSeedArb },
  { weight: 3, arbitrary: randomYamlArb },
  { weight: 1, arbitrary: str(300) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }) },
  { weight: 1, arbitrary: deepText },
  {
    weight: 1,
    // Alias chains and fan-out ("billion laughs"), inside an otherwise valid document.
    arbitrary: fc.tuple(fc.integer({ min: 1, max: 400 }), fc.integer({ min: 1, max: 12 }), fc.boolean()).map(([n, fan, nested]) => {
      const lines = [...block(fromJs(BACKUP_MIN), 0), 'a0: &a0 [x]'];
      for (let i = 1; i < n; i++) lines.push(`a${i}: &a${i} [${Array.from({ length: fan }, () => `*a${nested ? i - 1 : 0}`).join(', ')}]`);
      return `${lines.join('\n')}\n`;
    }),
  },
);

// ---------------------------------------------------------------------------------------------
// The property.

const warnings: string[] = [];
process.on('warning', (w) => warnings.push(`${w.name}: ${w.message}`));

/** Outcome tally, printed after the run. */
const tally = new Map<string, number>();
const count = (k: string): void => void tally.set(k, (tally.get(k) ?? 0) + 1);

/** Loads `doc` from YAML_FILE and checks the property; throws an AssertionError when it fails. */
function check(doc: string | Uint8Array): void {
  writeFileSync(YAML_FILE, doc);
  const before = warnings.length;
  try {
    const config = loadReplicationConfig(YAML_FILE);
    assert.ok(Object.isFrozen(config), 'a loaded configuration is frozen');
    count('loaded');
  } catch (err) {
    if (!(err instanceof ConfigError)) {
      const e = err as Error | undefined;
      assert.fail(`loadReplicationConfig threw ${e?.constructor?.name ?? typeof err}, not ConfigError: ${String(e?.message ?? err)}`);
    }
    assert.match(err.line, LINE_RE);
    assert.equal(err.message, err.line);
    assert.ok(err.lineNumber >= 1 && err.column >= 1, `position is 1-based: ${err.line}`);
    assert.match(err.code, /^CV-100[1-3]$/);
    count(err.code);
  }
  assert.deepEqual(warnings.slice(before), [], 'loading wrote a process warning to stderr');
}

test('every seed document loads (sanity check of the fixtures)', () => {
  for (const seed of SEEDS) {
    writeFileSync(YAML_FILE, `${block(fromJs(seed), 0).join('\n')}\n`);
    assert.doesNotThrow(() => loadReplicationConfig(YAML_FILE));
    writeFileSync(YAML_FILE, `${flow(fromJs(seed))}\n`);
    assert.doesNotThrow(() => loadReplicationConfig(YAML_FILE));
  }
});

test('regressions found by this fuzzer', async (t) => {
  await t.test('two deeply nested documents in a row do not abort the process (V8: "RegExpCompiler Allocation failed")', () => {
    // Before the nesting limit in yaml-source.ts, the first document exhausted the stack inside
    // `yaml`'s composer (caught there as RESOURCE_EXHAUSTION) and the second then killed the
    // process with a fatal out-of-memory error: two bad SIGHUP reloads could abort a running POP.
    // It needs a process whose regular expressions are still cold, hence a child process.
    const probe = join(dir, 'deep-probe.mts');
    writeFileSync(probe, [
      "import { writeFileSync } from 'node:fs';",
      `import { loadReplicationConfig } from ${JSON.stringify(pathToFileURL(join(ROOT, 'src/config/load.ts')).href)};`,
      `const file = ${JSON.stringify(join(dir, 'deep.yaml'))};`,
      "for (const text of ['['.repeat(1000), '['.repeat(20000) + ']'.repeat(20000), '- '.repeat(30000) + 'x']) {",
      '  writeFileSync(file, text);',
      '  try { loadReplicationConfig(file); } catch (e) { console.log(e.name); }',
      '}',
    ].join('\n'));
    const r = spawnSync(process.execPath, ['--import', 'tsx', probe], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 0, `child died (signal ${r.signal}): ${r.stderr.slice(-500)}`);
    assert.equal(r.stdout, 'ConfigError\nConfigError\nConfigError\n');
    check(`${'['.repeat(20000)}${']'.repeat(20000)}`);
    check(Array.from({ length: 1200 }, (_, i) => `${' '.repeat(i)}a:`).join('\n'));
  });
  await t.test('a long run of indicators on one line is refused before the YAML lexer recurses on it', () => {
    // Seed run, 10,000 documents: `yaml`'s lexer recursed once per `? ` and threw a RangeError
    // (Maximum call stack size exceeded) out of loadReplicationConfig, past the composer's check.
    const seed = ['pop_id: "calgary-01"', 'region: "north-america"', 'role: "primary"', 'backup_pop:'];
    for (const run of ['? ', '- ', '!t ', '&a ', ': ']) {
      check([...seed, `  id: ${run.repeat(2279)}x`, '  url: "https://zurich-01.clavitor.ai"', ''].join('\n'));
    }
  });
  await t.test('nesting below the limit is parsed and reported by key, not refused as too deep', () => {
    writeFileSync(YAML_FILE, `${block(fromJs(BACKUP_MIN), 0).join('\n')}\nextra: ${'['.repeat(60)}${']'.repeat(60)}\n`);
    assert.throws(() => loadReplicationConfig(YAML_FILE), (e: unknown) => e instanceof ConfigError && e.key === 'extra');
    writeFileSync(YAML_FILE, `${block(fromJs(BACKUP_MIN), 0).join('\n')}\nextra: ${'['.repeat(70)}${']'.repeat(70)}\n`);
    assert.throws(() => loadReplicationConfig(YAML_FILE), (e: unknown) => e instanceof ConfigError && e.key === '(yaml)' && /nested more than/.test(e.reason));
  });
  await t.test('a mapping with tens of thousands of keys is refused before the quadratic duplicate-key check', () => {
    // Seed run, 10,000 documents: the slowest were 400 lines of aliases; 40,000 keys took 25 s,
    // a whole 1 MiB file minutes, all of it blocking the event loop on a SIGHUP reload.
    const keys = Array.from({ length: 40_000 }, (_, i) => `k${i}: *a`);
    writeFileSync(YAML_FILE, `${block(fromJs(BACKUP_MIN), 0).join('\n')}\na: &a [x]\n${keys.join('\n')}\n`);
    const started = Date.now();
    assert.throws(() => loadReplicationConfig(YAML_FILE), (e: unknown) => e instanceof ConfigError && /more than 1000 entries/.test(e.reason));
    t.diagnostic(`refused in ${Date.now() - started} ms`);
  });
  await t.test('keys with spaces, empty keys and Unicode line separators keep the error on one line with a one-word key', () => {
    for (const key of ['my key', '', '~', 'a\u2028b', 'a\u0085b', '\u00a0', 'a\tb']) {
      check(`${block(fromJs(BACKUP_MIN), 0).join('\n')}\n${JSON.stringify(key)}: 1\n`);
    }
    check(`${block(fromJs(BACKUP_MIN), 0).join('\n')}\n~: 1\n`);
    check('pop_id: "zurich-01"\nregion: "europe"\nrole: "backup"\nauth:\n  token_file: "a\\u2028b.key"\n');
  });
  await t.test('a collection used as a key writes no process warning', () => {
    check('? [a, b]\n: 1\n');
    check(`${block(fromJs(BACKUP_MIN), 0).join('\n')}\n? {a: 1}\n: 1\n`);
  });
});

test(`fuzz: generated replication.yaml documents load or throw one ConfigError line (seed ${SEED}, ${RUNS} runs)`, (t) => {
  tally.clear();
  const started = Date.now();
  fc.assert(fc.property(documentArb, (doc) => check(doc)), { seed: SEED, numRuns: RUNS });
  t.diagnostic(`seed ${SEED}: ${RUNS} documents in ${((Date.now() - started) / 1000).toFixed(1)} s; outcomes ${JSON.stringify(Object.fromEntries([...tally].sort()))}`);
  // Checked, not only printed: one outcome per document, some documents load, and refusals come
  // with more than one registered code (the generator reaches past the first rule).
  assert.ok(tally.size > 0);
  assert.equal([...tally.values()].reduce((a, b) => a + b, 0), RUNS, 'one outcome per document');
  assert.ok((tally.get('loaded') ?? 0) > 0, 'some generated documents load');
  assert.ok((tally.get('CV-1001') ?? 0) > 0, 'some are refused as CONFIG_INVALID');
  assert.ok([...tally.keys()].filter((k) => k.startsWith('CV-')).length >= 2, `more than one refusal code: ${[...tally.keys()].join(', ')}`);
});
