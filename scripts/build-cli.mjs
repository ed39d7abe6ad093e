// Builds dist/cli/bundle: the `berth` command line as a few ES module files (its entry plus one
// chunk per command and the chunks they share, commander, yaml and zod included), so that a
// command loads a handful of files instead of ~300 (`berth up --reuse` spends most of its time
// loading modules otherwise). bin/berth.js runs it while it is not older than dist/cli/main.js.
//
// Each module's `import.meta.url` becomes the URL of its twin in dist, so files found relative
// to a module (package.json, the reaper's watchdog script) are the same files bundled or not.
// Run after `tsc -p tsconfig.build.json` (the watchdog is a separate process run from dist).
import { readFileSync, rmSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const src = join(root, "src");
const dist = join(root, "dist");
const out = join(dist, "cli", "bundle");

/** Rewrites `import.meta.url` in berth's own modules to their dist twin's URL. */
const twinMetaUrl = {
  name: "twin-import-meta-url",
  setup(builder) {
    builder.onLoad({ filter: /\.ts$/ }, (args) => {
      let code = readFileSync(args.path, "utf8");
      if (code.includes("import.meta.url")) {
        const twin = relative(out, join(dist, relative(src, args.path).replace(/\.ts$/, ".js")));
        code = code.replaceAll("import.meta.url", `new URL(${JSON.stringify(twin)}, import.meta.url).href`);
      }
      return { contents: code, loader: "ts" };
    });
  },
};

rmSync(out, { recursive: true, force: true });
const result = await build({
  entryPoints: [join(src, "cli", "main.ts")],
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  outdir: out,
  metafile: true,
  logLevel: "warning",
  // commander is CommonJS: its require() of Node's modules needs a require in an ES module.
  banner: {
    js: 'import { createRequire as __berthCreateRequire } from "node:module"; const require = __berthCreateRequire(import.meta.url);',
  },
  plugins: [twinMetaUrl],
});
const outputs = Object.values(result.metafile.outputs);
const kib = Math.round(outputs.reduce((sum, o) => sum + o.bytes, 0) / 1024);
console.log(`dist/cli/bundle: ${outputs.length} files, ${kib} KiB`);
