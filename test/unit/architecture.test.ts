// The layering of docs/architecture.md, checked on the source: which folder of src/ imports which.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), "../../src");

/** The rows of docs/architecture.md, lowest first: a folder may import its own row or lower ones. */
const LAYERS: readonly (readonly string[])[] = [
  ["engine"],
  ["model", "guard"],
  ["images", "lifecycle", "janitor", "memory"],
  ["stack", "proxy", "fixtures", "doctor"],
  ["validate", "testing"],
  ["cli", "(root)"],
];

interface Import {
  file: string;
  from: string;
  to: string;
  specifier: string;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

function folderOf(path: string): string {
  const parts = relative(SRC, path).split(sep);
  return parts.length > 1 ? (parts[0] as string) : "(root)";
}

const IMPORT =
  /(?:^|\n)\s*(?:import|export)\b[^"'`;]*?\bfrom\s*["']([^"']+)["']|\bimport\(\s*["']([^"']+)["']\s*\)/g;

/** Every import of every file under `root`, static, re-export or dynamic, relative or a package. */
function importsOf(root: string): Import[] {
  return sourceFiles(root).flatMap((file) => {
    const text = readFileSync(file, "utf8");
    return [...text.matchAll(IMPORT)].map((match) => {
      const specifier = (match[1] ?? match[2]) as string;
      const to = specifier.startsWith(".")
        ? folderOf(resolve(dirname(file), specifier))
        : `package:${specifier}`;
      return { file: relative(SRC, file), from: folderOf(file), to, specifier };
    });
  });
}

/** The folder graph's cycles, each as the folders on it (Tarjan's strongly connected components). */
function folderCycles(edges: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (node: string): void => {
    index.set(node, counter);
    low.set(node, counter);
    counter += 1;
    stack.push(node);
    onStack.add(node);
    for (const next of edges.get(node) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node) as number, low.get(next) as number));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node) as number, index.get(next) as number));
      }
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string | undefined;
      do {
        member = stack.pop() as string;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1) cycles.push(component.sort());
    }
  };
  for (const node of edges.keys()) if (!index.has(node)) visit(node);
  return cycles;
}

function folderEdges(imports: readonly Import[]): Map<string, Set<string>> {
  const edges = new Map<string, Set<string>>();
  for (const i of imports) {
    if (i.to.startsWith("package:") || i.to === i.from) continue;
    const targets = edges.get(i.from) ?? new Set<string>();
    targets.add(i.to);
    edges.set(i.from, targets);
  }
  return edges;
}

const rank = (folder: string) => LAYERS.findIndex((row) => row.includes(folder));

describe("the architecture of src/", () => {
  const imports = importsOf(SRC);

  it("finds the imports it checks", () => {
    // A parser that matched nothing would pass every rule below.
    expect(imports.filter((i) => i.from === "stack" && i.to === "engine").length).toBeGreaterThan(10);
    expect(imports.some((i) => i.specifier.startsWith("node:"))).toBe(true);
  });

  it("has no import cycle between top-level folders", () => {
    expect(folderCycles(folderEdges(imports))).toEqual([]);
  });

  it("places every folder in a layer and imports only its own layer or lower ones", () => {
    const folders = new Set(imports.flatMap((i) => [i.from, i.to]).filter((f) => !f.startsWith("package:")));
    expect([...folders].filter((f) => rank(f) < 0)).toEqual([]);
    const upward = imports
      .filter((i) => !i.to.startsWith("package:") && rank(i.to) > rank(i.from))
      .map((i) => `${i.file} -> ${i.specifier}`);
    expect(upward).toEqual([]);
  });

  it("talks to Docker only through src/engine", () => {
    const clients = ["dockerode", "docker-modem", "@types/dockerode"];
    const outside = imports
      .filter((i) => i.from !== "engine" && clients.some((c) => i.to === `package:${c}`))
      .map((i) => `${i.file} -> ${i.specifier}`);
    expect(outside).toEqual([]);
  });
});

describe("the cycle finder", () => {
  it("reports a cycle of two and of three folders, and none in a chain", () => {
    const graph = (pairs: [string, string][]) => {
      const edges = new Map<string, Set<string>>();
      for (const [a, b] of pairs) edges.set(a, new Set([...(edges.get(a) ?? []), b]));
      return edges;
    };
    expect(
      folderCycles(
        graph([
          ["a", "b"],
          ["b", "a"],
        ]),
      ),
    ).toEqual([["a", "b"]]);
    expect(
      folderCycles(
        graph([
          ["a", "b"],
          ["b", "c"],
          ["c", "a"],
          ["c", "d"],
        ]),
      ),
    ).toEqual([["a", "b", "c"]]);
    expect(
      folderCycles(
        graph([
          ["a", "b"],
          ["b", "c"],
        ]),
      ),
    ).toEqual([]);
  });
});
