#!/usr/bin/env node
// The `berth` command. A command named on the command line runs from its own CommonJS bundle
// (dist/cli/bundle/commands/NAME.cjs: one file, that command only); --version, help, no command
// or an unknown one run from the ES module bundle (dist/cli/bundle/main.js and its chunks). Start-up
// is most of a quick command's time. A build of dist without the bundle step leaves the bundles
// older than dist/cli/main.js; then the modules of dist run, which are current.
// Node 22.1 and later also keep the compiled code in their compile cache between runs.
import { statSync } from "node:fs";
import module, { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

module.enableCompileCache?.();

const cli = new URL("../dist/cli/", import.meta.url);
const modules = new URL("main.js", cli);

function isCurrent(bundle) {
  try {
    return statSync(bundle).mtimeMs >= statSync(modules).mtimeMs;
  } catch {
    return false;
  }
}

// The command is the first operand (berth's global options take no values), as in src/cli/commands.ts.
const command = process.argv.slice(2).find((arg) => !arg.startsWith("-"));
const single =
  command && /^[a-z-]+$/.test(command) ? new URL(`bundle/commands/${command}.cjs`, cli) : undefined;
const bundled = new URL("bundle/main.js", cli);

// A command is a short process that waits on the daemon most of its life. Left alone, V8 grows the
// young generation from 1 MB per semi-space towards 16 MB while the modules load, and compiles the
// code that gets warm (Sparkplug, Maglev, Turbofan), with compiler memory in background threads
// that the process keeps: ~10 MB of `berth up`'s peak resident memory, and no speed a command can
// measure (its CPU time went down too). Both flags hold when set at run time, before the command's
// code loads (docs/performance.md#memory). Not for `validate`, which generates load for minutes;
// `proxy`, help and --version run from the ES modules and keep V8's defaults.
const LEAN_V8_FLAGS = "--semi-space-growth-factor=1 --max-opt=0";
const lean = single && isCurrent(single);
if (lean && command !== "validate") (await import("node:v8")).setFlagsFromString(LEAN_V8_FLAGS);
const { main } = lean
  ? createRequire(import.meta.url)(fileURLToPath(single))
  : await import(isCurrent(bundled) ? bundled.href : modules.href);
process.exitCode = await main(process.argv);
