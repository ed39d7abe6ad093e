// Builds dist/cli/bundle, the `berth` command line bundled with esbuild (commander, yaml and zod
// included), so that a command loads a file or a few instead of ~300 modules:
// - commands/NAME.cjs, one CommonJS file per command: the entry and that command only (the
//   command table's other entries are left out). bin/berth.js requires the one named on the
//   command line. One CommonJS file loads faster than the same code as ES module chunks (no ES
//   module loader work per file: ~35 ms of CPU less for `berth ps`, ~60 ms for `berth up`, on
//   Node 20), and Node 22.1+ keeps its compiled code in the compile cache.
// - main.js plus chunks, ES modules split per command: for --version, help, no command or an
//   unknown one (commander's "did you mean" needs every command), and for `berth proxy`: a
//   long-running server, where memory counts more than start-up. Its CommonJS file would carry
//   the policy file reader (YAML, zod) it loads only for --policy: ~3 MB more resident.
// bin/berth.js runs them while they are not older than dist/cli/main.js.
//
// Each module's `import.meta.url` becomes the URL of its twin in dist, so files found relative
// to a module (package.json, the reaper's watchdog script) are the same files bundled or not.
// Run after `tsc -p tsconfig.build.json` (the watchdog is a separate process run from dist).
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { LAZY_BUILTIN_LOADER, lazyBuiltins, MONOTONIC_NOW, MONOTONIC_NOW_DEFINE } from "./lazy-builtins.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const src = join(root, "src");
const dist = join(root, "dist");
const out = join(dist, "cli", "bundle");
const commandsOut = join(out, "commands");
const commandTable = join(src, "cli", "commands.ts");

/**
 * Rewrites `import.meta.url` in berth's own modules to their dist twin's URL, relative to the
 * output file's URL (`base`: an expression valid in the output format).
 */
function twinMetaUrl(outdir, base) {
  return {
    name: "twin-import-meta-url",
    setup(builder) {
      builder.onLoad({ filter: /\.ts$/ }, (args) => {
        let code = readFileSync(args.path, "utf8");
        if (code.includes("import.meta.url")) {
          const twin = relative(outdir, join(dist, relative(src, args.path).replace(/\.ts$/, ".js")));
          code = code.replaceAll("import.meta.url", `new URL(${JSON.stringify(twin)}, ${base}).href`);
        }
        return { contents: code, loader: "ts" };
      });
    },
  };
}

/**
 * One entry per command in a single build (so each source is parsed once): `berth-command:NAME`
 * is main.ts again, whose command table imports NAME's module only (the others are left out).
 */
function commandEntries() {
  const main = join(src, "cli", "main.ts");
  return {
    name: "command-entries",
    setup(builder) {
      builder.onResolve({ filter: /^berth-command:/ }, (args) => ({
        path: args.path.slice("berth-command:".length),
        namespace: "berth-main",
      }));
      builder.onLoad({ filter: /.*/, namespace: "berth-main" }, () => ({
        contents: readFileSync(main, "utf8"),
        loader: "ts",
        resolveDir: dirname(main),
      }));
      // main.ts of command NAME imports its own table.
      builder.onResolve({ filter: /^\.\/commands\.js$/, namespace: "berth-main" }, (args) => ({
        path: args.importer,
        namespace: "berth-table",
      }));
      // The table's own command is imported by its file name (resolved by esbuild, so it keeps its
      // package's module type); the others are left out.
      builder.onLoad({ filter: /.*/, namespace: "berth-table" }, (args) => ({
        contents: readFileSync(commandTable, "utf8").replace(
          /import\("\.\/commands\/([a-z-]+)\.js"\)/g,
          (_, name) =>
            name === args.path ? `import("./commands/${name}.ts")` : `import("berth-left-out:${name}")`,
        ),
        loader: "ts",
        resolveDir: dirname(commandTable),
      }));
      builder.onResolve({ filter: /^berth-left-out:/ }, (args) => ({
        path: args.path,
        namespace: "berth-left-out",
      }));
      builder.onLoad({ filter: /.*/, namespace: "berth-left-out" }, () => ({ contents: "export {};" }));
    },
  };
}

// The Compose loader (YAML, zod, the schema: half of a command's file) runs only when files are
// loaded, which `berth up` skips when its model cache answers (docs/performance.md#reuse). The
// commands import it with import(); in their CommonJS files that import becomes a require of
// loader.cjs, a file of its own, so a command that does not load files does not even read or
// compile it. The error classes stay one: loader.cjs takes engine/errors from the command's file
// (through a global slot filled just before the require), so `instanceof BerthError` (exit
// codes) holds for what the loader throws.
const LAZY_LOADER = new Set([
  join(src, "stack", "compose", "load.ts"),
  join(src, "memory", "profile-files.ts"),
]);
const ENGINE_ERRORS = join(src, "engine", "errors.ts");
const SHARED_SLOT = 'Symbol.for("berth.bundle.shared")';
const tsPath = (resolveDir, path) => join(resolveDir, path).replace(/\.js$/, ".ts");

/** In a command's file: `import()` of the loader's modules -> loader.cjs, given the error classes. */
function lazyLoaderImports() {
  return {
    name: "lazy-loader-imports",
    setup(builder) {
      builder.onResolve({ filter: /\.js$/ }, (args) => {
        if (args.kind !== "dynamic-import" || !LAZY_LOADER.has(tsPath(args.resolveDir, args.path)))
          return undefined;
        return { path: "loader", namespace: "berth-lazy-loader" };
      });
      builder.onLoad({ filter: /.*/, namespace: "berth-lazy-loader" }, () => ({
        contents: `import * as errors from ${JSON.stringify(ENGINE_ERRORS)};
globalThis[${SHARED_SLOT}] = { errors };
module.exports = require("../loader.cjs");`,
        resolveDir: src,
        loader: "js",
      }));
      builder.onResolve({ filter: /^\.\.\/loader\.cjs$/ }, () => ({ path: "../loader.cjs", external: true }));
    },
  };
}

/** In loader.cjs: engine/errors is the command file's (see above). */
function sharedErrors() {
  return {
    name: "shared-errors",
    setup(builder) {
      builder.onResolve({ filter: /errors\.js$/ }, (args) =>
        tsPath(args.resolveDir, args.path) === ENGINE_ERRORS
          ? { path: "errors", namespace: "berth-shared" }
          : undefined,
      );
      builder.onLoad({ filter: /.*/, namespace: "berth-shared" }, () => ({
        contents: `module.exports = globalThis[${SHARED_SLOT}].errors;`,
        loader: "js",
      }));
    },
  };
}

const commandNames = [...readFileSync(commandTable, "utf8").matchAll(/^ {2}([a-z-]+): async \(\) =>/gm)].map(
  (m) => m[1],
);
if (commandNames.length === 0) throw new Error(`no commands found in ${commandTable}`);
const ES_MODULES_ONLY = new Set(["proxy"]);
const singleFiles = commandNames.filter((name) => !ES_MODULES_ONLY.has(name));

const common = {
  entryPoints: [join(src, "cli", "main.ts")],
  bundle: true,
  platform: "node",
  target: "node20",
  metafile: true,
  logLevel: "warning",
};

rmSync(out, { recursive: true, force: true });
const results = await Promise.all([
  build({
    ...common,
    splitting: true,
    format: "esm",
    outdir: out,
    // commander is CommonJS: its require() of Node's modules needs a require in an ES module.
    banner: {
      js: 'import { createRequire as __berthCreateRequire } from "node:module"; const require = __berthCreateRequire(import.meta.url);',
    },
    plugins: [twinMetaUrl(out, "import.meta.url")],
  }),
  build({
    ...common,
    entryPoints: Object.fromEntries(singleFiles.map((name) => [name, `berth-command:${name}`])),
    format: "cjs",
    outdir: commandsOut,
    outExtension: { ".js": ".cjs" },
    // Strict as the ES modules it comes from (esbuild adds this only for files under tsconfig's
    // `strict`, which the generated entries are not); then what loads Node's modules on first use
    // and the clock that needs none (scripts/lazy-builtins.mjs; the requires are rewritten below).
    banner: { js: `"use strict";\n${LAZY_BUILTIN_LOADER}\n${MONOTONIC_NOW}` },
    define: MONOTONIC_NOW_DEFINE,
    plugins: [
      lazyLoaderImports(),
      commandEntries(),
      twinMetaUrl(commandsOut, 'require("node:url").pathToFileURL(__filename)'),
    ],
  }),
  // bin/berth.js on Node 20: V8's code cache for the command's file (src/cli/code-cache.ts).
  build({
    ...common,
    entryPoints: [join(src, "cli", "code-cache.ts")],
    format: "cjs",
    outfile: join(out, "code-cache.cjs"),
    banner: { js: '"use strict";' },
  }),
  build({
    ...common,
    entryPoints: [join(src, "cli", "bundle-loader.ts")],
    format: "cjs",
    outfile: join(out, "loader.cjs"),
    banner: { js: '"use strict";' },
    plugins: [sharedErrors(), twinMetaUrl(out, 'require("node:url").pathToFileURL(__filename)')],
  }),
]);
// V8 keeps a script's source for as long as its functions live, at one byte per character when
// every character is Latin-1 and two otherwise. esbuild escapes what is not ASCII in strings,
// but keeps comments as written: one em dash in a comment of zod's doubled the ~1 MB source
// kept in memory. What is left above U+007F can only be in comments (or regular expressions,
// where the escape means the same), so it is escaped: pure ASCII, which Node also reads faster
// (no UTF-8 decoding: reading up.cjs took 13-20 ms instead of 18-36).
for (const file of results.flatMap((r) => Object.keys(r.metafile.outputs))) {
  const path = resolve(file); // metafile paths are relative to the working directory
  const read = readFileSync(path, "utf8");
  const code = dirname(path) === commandsOut ? lazyBuiltins(read) : read;
  // Per UTF-16 unit: a pair of escaped surrogates means the same character, in a `u` regexp too.
  const ascii = code.replace(/[^\0-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
  if (ascii !== read) writeFileSync(path, ascii);
}
const outputs = results.flatMap((r) => Object.values(r.metafile.outputs));
const kib = Math.round(outputs.reduce((sum, o) => sum + o.bytes, 0) / 1024);
console.log(
  `dist/cli/bundle: ${outputs.length} files, ${kib} KiB (${singleFiles.length} commands in one file each)`,
);
