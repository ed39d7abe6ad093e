// The package's entry points as package.json declares them: each has its source, Node's
// `require()` of the ES modules needs a library graph without top-level await (Node refuses
// such a graph with ERR_REQUIRE_ASYNC_MODULE), and the root lists each value once.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const root = process.cwd();
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
  exports: Record<string, string | Record<string, unknown>>;
};

/** The source file of each entry point: `./dist/testing/jest.js` -> `src/testing/jest.ts`. */
function entrySources(): string[] {
  return Object.entries(pkg.exports)
    .filter(([subpath]) => subpath !== "./package.json")
    .map(([, target]) => {
      const esm = JSON.stringify(target).match(/"(\.\/dist\/(?!cjs\/)[^"]+\.js)"/)?.[1];
      if (!esm) throw new Error(`no ES module target in ${JSON.stringify(target)}`);
      return join(root, esm.replace(/^\.\/dist\//, "src/").replace(/\.js$/, ".ts"));
    });
}

function parse(file: string): ts.SourceFile {
  return ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
}

/** Relative modules a file loads when it is evaluated (static imports and re-exports; not `import()`). */
function staticImports(source: ts.SourceFile): string[] {
  const found: string[] = [];
  for (const statement of source.statements) {
    const isTypeOnly =
      (ts.isImportDeclaration(statement) && statement.importClause?.isTypeOnly) ||
      (ts.isExportDeclaration(statement) && statement.isTypeOnly);
    const specifier =
      (ts.isImportDeclaration(statement) || ts.isExportDeclaration(statement)) && statement.moduleSpecifier;
    if (!specifier || isTypeOnly || !ts.isStringLiteral(specifier)) continue;
    if (!specifier.text.startsWith(".")) continue;
    found.push(resolve(dirname(source.fileName), specifier.text.replace(/\.js$/, ".ts")));
  }
  return found;
}

/** Positions of `await` (and `for await`, `await using`) outside any function. */
function topLevelAwaits(source: ts.SourceFile): string[] {
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) || ts.isClassStaticBlockDeclaration(node)) return;
    const awaits =
      ts.isAwaitExpression(node) ||
      (ts.isForOfStatement(node) && node.awaitModifier !== undefined) ||
      (ts.isVariableDeclarationList(node) &&
        (node.flags & ts.NodeFlags.AwaitUsing) === ts.NodeFlags.AwaitUsing);
    if (awaits) {
      const { line } = source.getLineAndCharacterOfPosition(node.getStart(source));
      found.push(`${relative(root, source.fileName)}:${line + 1}`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

function libraryGraph(entries: string[]): Map<string, ts.SourceFile> {
  const graph = new Map<string, ts.SourceFile>();
  const pending = [...entries];
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (graph.has(file)) continue;
    const source = parse(file);
    graph.set(file, source);
    pending.push(...staticImports(source));
  }
  return graph;
}

describe("package entry points", () => {
  it("each export of package.json has its source", () => {
    const sources = entrySources();
    expect(sources.map((file) => relative(root, file))).toContain("src/testing/jest.ts");
    for (const file of sources) expect(existsSync(file), file).toBe(true);
  });

  it("no module reachable from an entry point awaits at its top level", { timeout: 60_000 }, () => {
    const graph = libraryGraph(entrySources());
    expect(graph.size).toBeGreaterThan(50);
    expect([...graph.values()].flatMap(topLevelAwaits)).toEqual([]);
  });

  it("finds a top-level await where there is one", () => {
    // Guards the scan: a script that awaits at its top level is found, an async function's body is not.
    const script = ts.createSourceFile(
      join(root, "x.ts"),
      "const a = await f();\nasync function g() { await h(); }\nfor await (const x of y) {}\n",
      ts.ScriptTarget.Latest,
      true,
    );
    expect(topLevelAwaits(script)).toEqual(["x.ts:1", "x.ts:3"]);
  });

  it("the root entry exports each value under one name", { timeout: 60_000 }, async () => {
    const api = (await import("../../src/index.js")) as Record<string, unknown>;
    const names = new Map<unknown, string[]>();
    for (const [name, value] of Object.entries(api)) names.set(value, [...(names.get(value) ?? []), name]);
    expect([...names.values()].filter((list) => list.length > 1)).toEqual([]);
    expect(api.parseDuration).toBeTypeOf("function");
    for (const internal of ["GradientLaw", "renderHtml", "ensureBusyboxFixture", "parseComposeDuration"]) {
      expect(api[internal], internal).toBeUndefined();
    }
  });
});
