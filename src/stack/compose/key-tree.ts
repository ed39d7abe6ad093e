// Strict keys: every key of a Compose file is checked against two trees, the Compose
// specification's keys (spec-keys.ts) and the keys berth honours (supported-keys.ts). A key in
// neither is a typo (reported with the closest key the specification has there); a key in the
// specification that berth does not honour is reported as such. `x-` keys belong to other tools
// and are skipped, except berth's own `x-berth`, which is in both trees.
import type { PathSegment, YamlPath } from "./path.js";

/** `true`: nothing below is checked. `*`: any key. `[]`: each list item. */
export type KeyTree = true | { readonly [key: string]: KeyTree };

/** A map whose keys are free names (labels, sysctls, driver options). */
export const ANY_KEYS: KeyTree = { "*": true };

/** `leaves("a b", "c")` -> `{a: true, b: true, c: true}`. */
export function leaves(...lines: string[]): Record<string, true> {
  return Object.fromEntries(
    lines
      .join(" ")
      .split(/\s+/)
      .filter((k) => k !== "")
      .map((k) => [k, true as const]),
  );
}

export interface KeyFinding {
  path: YamlPath;
  /** `unknown`: not a key of the specification here; `unhonoured`: berth cannot apply it. */
  kind: "unknown" | "unhonoured";
  /** For unknown keys: the closest key the specification allows here. */
  suggestion?: string;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** Levenshtein distance, for "did you mean". */
export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(above + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

/** The candidate closest to `key`, when it is close enough to be a likely typo. */
export function closestKey(key: string, candidates: string[]): string | undefined {
  let best: { key: string; distance: number } | undefined;
  for (const candidate of candidates) {
    if (candidate === "*" || candidate === "[]") continue;
    const distance = editDistance(key.toLowerCase(), candidate);
    if (!best || distance < best.distance) best = { key: candidate, distance };
  }
  if (!best) return undefined;
  const allowed = Math.max(2, Math.floor(best.key.length / 3));
  return best.distance <= allowed ? best.key : undefined;
}

/**
 * Walks `value` and returns every key that is not in `spec` (unknown) or is in `spec` but not in
 * `honoured` (unhonoured). Nothing is changed. Below an unhonoured key nothing more is reported.
 */
export function checkKeys(
  value: unknown,
  spec: KeyTree,
  honoured: KeyTree,
  path: PathSegment[] = [],
): KeyFinding[] {
  if (spec === true) return [];
  const found: KeyFinding[] = [];
  const below = (tree: KeyTree, key: string): KeyTree | undefined =>
    tree === true ? true : (tree[key] ?? tree["*"]);
  if (Array.isArray(value)) {
    const itemSpec = spec["[]"];
    if (!itemSpec) return found;
    const itemHonoured = below(honoured, "[]") ?? true;
    for (const [index, item] of value.entries())
      found.push(...checkKeys(item, itemSpec, itemHonoured, [...path, index]));
    return found;
  }
  if (!isRecord(value)) return found;
  for (const [key, item] of Object.entries(value)) {
    if (key.startsWith("x-") && key !== "x-berth") continue;
    const keySpec = below(spec, key);
    if (keySpec === undefined) {
      const suggestion = closestKey(key, Object.keys(spec));
      found.push({ path: [...path, key], kind: "unknown", ...(suggestion ? { suggestion } : {}) });
      continue;
    }
    const keyHonoured = below(honoured, key);
    if (keyHonoured === undefined) found.push({ path: [...path, key], kind: "unhonoured" });
    else found.push(...checkKeys(item, keySpec, keyHonoured, [...path, key]));
  }
  return found;
}

/** Deletes the key at `path` from `root` (in place). */
export function deleteAt(root: unknown, path: YamlPath): void {
  let node = root as Record<PropertyKey, unknown> | undefined;
  for (const segment of path.slice(0, -1)) node = node?.[segment] as typeof node;
  if (node && typeof node === "object") delete node[path[path.length - 1]!];
}
