/**
 * Maps a key path in `replication.yaml` (e.g. `['backup_pop', 'url']`, or `['trusted_proxies', 1]`
 * for the second item of a sequence) to a 1-based line and
 * column, using the node ranges that `yaml`'s `parseDocument` keeps and a `LineCounter`
 * (DESIGN.md §4.1: errors are reported as `<file>:<line>:<col>`).
 */
import { isAlias, isMap, isScalar, isSeq, type Document, type LineCounter, type Node, type Pair } from 'yaml';

/**
 * Which node to point at: `key` (the key itself, e.g. an unknown key), `value` (its value, e.g. a
 * wrong type) or `parent` (the mapping that should contain a missing key: the parent's key line, or
 * the start of the document for a top-level key).
 */
export type LocateTarget = 'key' | 'value' | 'parent';

/** A 1-based position in the YAML file. */
export interface SourcePosition {
  readonly line: number;
  readonly col: number;
}

const START: SourcePosition = Object.freeze({ line: 1, col: 1 });

interface Step {
  readonly key: Node | null;
  readonly value: Node | null;
}

function deref(doc: Document, node: unknown): Node | null {
  if (isAlias(node)) return (node.resolve(doc) as Node | undefined) ?? node;
  return (node as Node | null) ?? null;
}

function findPair(doc: Document, container: Node | null, seg: PropertyKey): Pair<unknown, unknown> | undefined {
  if (!isMap(container)) return undefined;
  return container.items.find((p) => {
    const k = deref(doc, p.key);
    return isScalar(k) && String(k.value) === String(seg);
  });
}

function positionOf(node: Node | null, lc: LineCounter): SourcePosition | null {
  const offset = node?.range?.[0];
  return offset === undefined ? null : lc.linePos(offset);
}

/**
 * Position of `path` in `doc` for the chosen `target`. Falls back to the nearest enclosing node
 * that exists, and finally to line 1, column 1; never throws.
 */
export function locate(doc: Document, lc: LineCounter, path: readonly PropertyKey[], target: LocateTarget): SourcePosition {
  const root = deref(doc, doc.contents);
  const steps: Step[] = [];
  let current: Node | null = root;
  for (const seg of path) {
    // An item of a sequence (e.g. `trusted_proxies[1]`): the item is both "key" and value.
    if (isSeq(current) && typeof seg === 'number') {
      const item = deref(doc, current.items[seg]);
      if (!item) break;
      steps.push({ key: item, value: item });
      current = item;
      continue;
    }
    const pair = findPair(doc, current, seg);
    if (pair === undefined) break;
    current = deref(doc, pair.value);
    steps.push({ key: (pair.key as Node | null) ?? null, value: current });
  }
  const resolvedAll = steps.length === path.length;
  const last = steps[steps.length - 1];

  const parentPosition = (): SourcePosition => {
    // The mapping that lacks the key: its own key line, or the document start at the top level.
    const parentStep = resolvedAll ? steps[steps.length - 2] : last;
    if (parentStep === undefined) return positionOf(root, lc) ?? START;
    return positionOf(parentStep.key, lc) ?? positionOf(parentStep.value, lc) ?? START;
  };

  if (!resolvedAll || last === undefined || target === 'parent') return parentPosition();
  if (target === 'key') return positionOf(last.key, lc) ?? parentPosition();
  return positionOf(last.value, lc) ?? positionOf(last.key, lc) ?? parentPosition();
}
