// Builds dist/cjs: the CommonJS twin of the entry points that `require()` may load, for runtimes
// that resolve `require` themselves and cannot load ES modules that way (Jest's default CommonJS
// mode before Node 24.9). Node itself loads the ES modules for both import and require (the
// `module-sync` condition), so one process normally holds one copy of berth.
//
// Each module reachable from an entry is transformed on its own (same layout as dist), and its
// `import.meta.url` is the URL of its ES twin in dist, so files found relative to a module
// (package.json, the reaper's watchdog script) are the same files in both formats. The
// declarations are copied beside them; dist/cjs/package.json makes both read as CommonJS.
// Run after `tsc -p tsconfig.build.json` (it needs dist/**/*.d.ts).
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { build, transform } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const src = join(root, "src");
const dist = join(root, "dist");
const out = join(dist, "cjs");

/** The entry points with a `require` condition in package.json (berth-docker/vitest is ESM-only, as Vitest is). */
const CJS_ENTRIES = ["index.ts", "testing/jest.ts", "proxy/index.ts", "validate/index.ts"];

const META_URL = "__berthImportMetaUrl";

async function reachableModules() {
  const result = await build({
    entryPoints: CJS_ENTRIES.map((entry) => join(src, entry)),
    bundle: true,
    write: false,
    metafile: true,
    platform: "node",
    format: "cjs",
    packages: "external",
    outdir: out,
    logLevel: "silent",
  });
  return Object.keys(result.metafile.inputs)
    .map((input) => relative(src, join(root, input)))
    .filter((path) => path.endsWith(".ts"));
}

async function emitModule(path) {
  const code = readFileSync(join(src, path), "utf8");
  const target = join(out, path.replace(/\.ts$/, ".js"));
  const esmTwin = relative(dirname(target), join(dist, path.replace(/\.ts$/, ".js")));
  const usesMeta = code.includes("import.meta");
  const result = await transform(code, {
    loader: "ts",
    format: "cjs",
    platform: "node",
    target: "node20",
    sourcefile: path,
    define: usesMeta ? { "import.meta.url": META_URL } : {},
    banner: usesMeta
      ? `const ${META_URL} = require("node:url").pathToFileURL(require("node:path").join(__dirname, ${JSON.stringify(esmTwin)})).href;`
      : "",
  });
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, result.code);
}

/** Copies a declaration file and, transitively, the relative declarations it imports. */
function copyDeclarations(path, seen) {
  if (seen.has(path)) return;
  seen.add(path);
  const from = join(dist, path);
  if (!existsSync(from)) throw new Error(`build-cjs: ${from} is missing (run tsc first)`);
  mkdirSync(dirname(join(out, path)), { recursive: true });
  copyFileSync(from, join(out, path));
  const text = readFileSync(from, "utf8");
  for (const match of text.matchAll(/(?:from|import\()\s*"(\.{1,2}\/[^"]+)\.js"/g)) {
    copyDeclarations(join(dirname(path), `${match[1]}.d.ts`), seen);
  }
}

rmSync(out, { recursive: true, force: true });
const modules = await reachableModules();
await Promise.all(modules.map(emitModule));
const declarations = new Set();
for (const entry of CJS_ENTRIES) copyDeclarations(entry.replace(/\.ts$/, ".d.ts"), declarations);
writeFileSync(join(out, "package.json"), `${JSON.stringify({ type: "commonjs" }, null, 2)}\n`);
console.log(`dist/cjs: ${modules.length} modules, ${declarations.size} declaration files`);
