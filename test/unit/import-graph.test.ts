/**
 * DESIGN.md §5: the community entry point must not import `replication/` or `controlplane/` (and,
 * since it never reads replication.yaml, not the config loader either). Walks the static import
 * graph of the TypeScript sources from src/bin/clavitor.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');

/** Every project file reachable by static or dynamic import from `entry`. */
function reachable(entry: string): Set<string> {
  const seen = new Set<string>();
  const stack = [entry];
  while (stack.length > 0) {
    const file = stack.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const src = readFileSync(file, 'utf8');
    for (const m of src.matchAll(/(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|import\s+['"]([^'"]+)['"]/g)) {
      const spec = m[1] ?? m[2] ?? m[3]!;
      if (!spec.startsWith('.')) continue;
      stack.push(join(dirname(file), spec.replace(/\.js$/, '.ts')));
    }
  }
  return seen;
}

// The community binaries: the server and the CLI (the CLI ships with both editions). Allowed
// arrows between folders: test/unit/import-rules.md and import-rules.test.ts (issue 16 item 1).
for (const entry of ['src/bin/clavitor.ts', 'src/bin/clavitor-cli.ts']) {
  test(`${entry} reaches nothing in replication/, controlplane/ or the replication config loader`, () => {
    const files = [...reachable(join(ROOT, entry))].map((f) => relative(ROOT, f));
    assert.ok(files.length > 10, 'the walk follows imports');
    if (entry === 'src/bin/clavitor.ts') assert.ok(files.includes('src/http/server.ts'), 'the walk follows the dynamic import of the server');
    const bad = files.filter((f) => f.startsWith('src/replication/') || f.startsWith('src/controlplane/') || f.startsWith('src/config/'));
    assert.deepEqual(bad, []);
  });
}

test('the commercial entry point does reach replication/ (the walk is not vacuous)', () => {
  const files = [...reachable(join(ROOT, 'src/bin/clavitor-commercial.ts'))].map((f) => relative(ROOT, f));
  assert.ok(files.some((f) => f.startsWith('src/replication/')));
  assert.ok(files.includes('src/replication/commercial-edition.ts'), 'the commercial edition is reached from the commercial entry point');
});
