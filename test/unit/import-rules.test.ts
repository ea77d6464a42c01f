/**
 * DESIGN.md §5 and issue 16 item 1: arrows between `src/` folders point one way only. The allowed
 * arrows are the table in test/unit/import-rules.md (read here, so the written table is the rule);
 * the import graph is the real one, parsed with the TypeScript compiler from every src/**\/*.ts:
 * `import`, `import type`, `export … from`, `import()` and `import('…').T`. Also refuses an import
 * cycle between files anywhere in src/ (no two modules import each other, directly or by a chain).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

const ROOT = resolve(import.meta.dirname, '../..');
const SRC = join(ROOT, 'src');
const TABLE = 'test/unit/import-rules.md';

/** One row of the table: a folder, the folders it may import, and its edition. */
interface Rule { readonly may: ReadonlySet<string>; readonly edition: string; readonly order: number }

/** Parses the rows of the table whose first cell is a folder in backticks. */
function readTable(): Map<string, Rule> {
  const rules = new Map<string, Rule>();
  for (const line of readFileSync(join(ROOT, TABLE), 'utf8').split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    const m = /^`([a-z-]+)`$/.exec(cells[1] ?? '');
    if (!m) continue;
    const may = new Set([...(cells[2] ?? '').matchAll(/`([a-z-]+)`/g)].map((x) => x[1]!));
    rules.set(m[1]!, { may, edition: cells[3] ?? '', order: rules.size });
  }
  return rules;
}

/** One relative import: the importing file (relative to the repository), its line, the imported file. */
interface Arrow { readonly file: string; readonly line: number; readonly target: string }

/** Every .ts file under `dir`. */
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = join(dir, d.name);
    return d.isDirectory() ? sources(p) : d.name.endsWith('.ts') ? [p] : [];
  });
}

/** The relative imports of one file, from its syntax tree (type-only ones included). */
function importsOf(path: string): Arrow[] {
  const text = readFileSync(path, 'utf8');
  const sf = ts.createSourceFile(path, text, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const out: Arrow[] = [];
  const add = (spec: ts.Node | undefined): void => {
    if (!spec || !ts.isStringLiteralLike(spec) || !spec.text.startsWith('.')) return;
    const target = join(dirname(path), spec.text).replace(/\.js$/, '.ts');
    out.push({ file: relative(ROOT, path), line: sf.getLineAndCharacterOfPosition(spec.getStart(sf)).line + 1, target: relative(ROOT, target) });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) add(node.moduleSpecifier);
    else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) add(node.moduleReference.expression);
    else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) add(node.argument.literal);
    else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) add(node.arguments[0]);
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

/** The top-level folder under src/ of a repository-relative path. */
const folderOf = (file: string): string => file.split('/')[1]!;

const FILES = sources(SRC);
const ARROWS = FILES.flatMap(importsOf);
const RULES = readTable();

test('the table is well formed: every src/ folder has a row, rows only point up the table, commercial-only folders are not allowed to community ones', () => {
  assert.ok(RULES.size >= 9, `${TABLE} has its rows`);
  const folders = new Set(FILES.map((f) => folderOf(relative(ROOT, f))));
  assert.ok(folders.size >= 9, 'the walk finds the src/ folders');
  assert.deepEqual([...folders].filter((f) => !RULES.has(f)), [], `every src/ folder needs a row in ${TABLE}`);
  const problems: string[] = [];
  for (const [name, rule] of RULES) {
    for (const to of rule.may) {
      const target = RULES.get(to);
      if (!target) problems.push(`${name} → ${to}: no such row`);
      else if (target.order >= rule.order) problems.push(`${name} → ${to}: points down the table (a cycle is possible)`);
      else if (rule.edition === 'community' && target.edition === 'commercial only') problems.push(`${name} → ${to}: community folder may import a commercial-only one`);
    }
  }
  assert.deepEqual(problems, []);
});

test('every import between src/ folders is an arrow of the table (file:line and arrow otherwise)', () => {
  const crossing = ARROWS.filter((a) => folderOf(a.file) !== folderOf(a.target));
  assert.ok(crossing.length > 50, 'the parse finds the imports between folders');
  assert.ok(ARROWS.some((a) => a.file === 'src/http/app.ts' && a.target.startsWith('src/http/routes/')), 'the parse follows imports inside a folder too');
  const bad = crossing
    .filter((a) => !a.target.startsWith('src/') || !RULES.get(folderOf(a.file))?.may.has(folderOf(a.target)))
    .map((a) => `${a.file}:${a.line}  ${folderOf(a.file)} → ${a.target.startsWith('src/') ? folderOf(a.target) : a.target} (not in ${TABLE})`);
  assert.deepEqual(bad, []);
});

test('no import cycle between files in src/ (each cycle printed with the line of every import)', () => {
  const edges = new Map<string, Arrow[]>();
  for (const a of ARROWS) edges.set(a.file, [...(edges.get(a.file) ?? []), a]);
  // Tarjan's strongly connected components; a component of two or more files is a cycle.
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const { target: w } of edges.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const c: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      c.push(w);
    } while (w !== v);
    if (c.length > 1) components.push(c);
  };
  for (const f of FILES.map((p) => relative(ROOT, p))) if (!index.has(f)) visit(f);
  assert.ok(index.size === FILES.length && FILES.length > 100, 'the walk visits every source file');
  const cycles = components.map((c) => {
    const inside = new Set(c);
    const lines = c.flatMap((f) => (edges.get(f) ?? []).filter((a) => inside.has(a.target)).map((a) => `  ${a.file}:${a.line} → ${a.target}`));
    return `cycle of ${c.length} files:\n${lines.join('\n')}`;
  });
  assert.deepEqual(cycles, []);
});
