// Finds where a path of a Compose file is written (line and column, 1-based), for error messages
// and lint findings. Map entries point at their key, sequence items at the item. Aliases and
// `<<` merge keys are followed, so a value inherited from an anchor points at the anchor.
import { readFileSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { type Document, isAlias, isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from "yaml";
import type { YamlPath } from "./path.js";

export interface Position {
  line: number;
  column: number;
}

interface Found {
  /** Offset of what the path names: the key of a map entry, or the sequence item. */
  offset: number;
  /** True when the whole path was found; otherwise the offset is of the deepest ancestor. */
  exact: boolean;
}

function deref(doc: Document, node: unknown): unknown {
  let current = node;
  for (let hops = 0; isAlias(current) && hops < 100; hops++) current = current.resolve(doc);
  return current;
}

function offsetOf(node: unknown): number | undefined {
  return (node as Node | undefined)?.range?.[0];
}

/** One step down from `node`: the key's and the value's nodes, or undefined when absent. */
function step(
  doc: Document,
  node: unknown,
  segment: string | number,
): { at: unknown; value: unknown } | undefined {
  const here = deref(doc, node);
  if (isSeq(here) && typeof segment === "number") {
    const item = here.items[segment];
    return item === undefined ? undefined : { at: item, value: item };
  }
  if (!isMap(here)) return undefined;
  for (const pair of here.items) {
    const key = isScalar(pair.key) ? pair.key.value : pair.key;
    if (typeof key !== "symbol" && String(key) === String(segment))
      return { at: pair.key, value: pair.value };
  }
  // Entries inherited through `<<: *anchor` (or a list of anchors) live in the anchored maps.
  for (const pair of here.items) {
    // With `merge: true` the parser gives a merge key a symbol value; its source is still `<<`.
    if (!isScalar(pair.key) || pair.key.source !== "<<") continue;
    const sources = deref(doc, pair.value);
    for (const source of isSeq(sources) ? sources.items : [sources]) {
      const found = step(doc, source, segment);
      if (found) return found;
    }
  }
  return undefined;
}

function find(doc: Document, path: YamlPath): Found | undefined {
  let node: unknown = doc.contents;
  let offset = offsetOf(node);
  if (offset === undefined) return undefined;
  for (const segment of path) {
    const next = step(doc, node, segment);
    if (!next) return { offset, exact: false };
    offset = offsetOf(next.at) ?? offsetOf(next.value) ?? offset;
    node = next.value;
  }
  return { offset, exact: true };
}

/** The position of `path` in a parsed document, or of its deepest ancestor that exists. */
export function locateInDocument(doc: Document, lines: LineCounter, path: YamlPath): Position | undefined {
  const found = find(doc, path);
  if (!found) return undefined;
  const { line, col } = lines.linePos(found.offset);
  return { line, column: col };
}

const cache = new Map<string, { stamp: string; doc: Document; lines: LineCounter }>();

/**
 * Where `path` is written in `file`: its line and column (1-based), or those of its deepest
 * ancestor that exists when the path itself is absent (a missing key points at its parent).
 * Undefined when the file cannot be read or holds no YAML.
 */
export function locate(file: string, path: YamlPath): Position | undefined {
  const absolute = resolve(file);
  let stamp: string;
  try {
    const stat = statSync(absolute);
    stamp = `${stat.mtimeMs}:${stat.size}`;
  } catch {
    return undefined;
  }
  let entry = cache.get(absolute);
  if (entry?.stamp !== stamp) {
    let text: string;
    try {
      text = readFileSync(absolute, "utf8");
    } catch {
      return undefined;
    }
    const lines = new LineCounter();
    entry = { stamp, doc: parseDocument(text, { lineCounter: lines, merge: true }), lines };
    cache.set(absolute, entry);
  }
  return locateInDocument(entry.doc, entry.lines, path);
}
