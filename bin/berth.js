#!/usr/bin/env node
// The `berth` command, a CommonJS file (bin/package.json): Node runs it without starting its ES
// module loader, which a command named on the command line never needs (~12 ms of start-up).
// That command runs from its own CommonJS bundle (dist/cli/bundle/commands/NAME.cjs: one file,
// that command only); help, no command or an unknown one run from the ES module bundle
// (dist/cli/bundle/main.js and its chunks), and --version is answered here. Start-up is most of a
// quick command's time. A build of dist without the bundle step leaves the bundles older than
// dist/cli/main.js; then the modules of dist run, which are current.
// Node 22.1 and later also keep the compiled code in their compile cache between runs.
"use strict";
const { readFileSync, statSync } = require("node:fs");
const module_ = require("node:module");
const { join } = require("node:path");
const { pathToFileURL } = require("node:url");

module_.enableCompileCache?.();

const root = join(__dirname, "..");
const cli = join(root, "dist", "cli");
const modules = join(cli, "main.js");

function isCurrent(bundle) {
  try {
    return statSync(bundle).mtimeMs >= statSync(modules).mtimeMs;
  } catch {
    return false;
  }
}

/**
 * Ends the process once stdout and stderr have taken every byte written (the callback of a write
 * runs after the writes before it). A command is done when its main() answers: what is left is
 * Node tearing down the heap and handles, 10-20 ms that no output or daemon call depends on.
 */
function exitWhenFlushed(code) {
  process.exitCode = code;
  let pending = 2;
  const flushed = () => {
    pending -= 1;
    if (pending === 0) process.exit();
  };
  process.stdout.write("", flushed);
  process.stderr.write("", flushed);
}

/** The command's file run with V8's code cache, or undefined (cache off, or a build without it). */
function withCodeCache(file) {
  let codeCache;
  try {
    codeCache = require(join(cli, "bundle", "code-cache.cjs"));
  } catch {
    return undefined;
  }
  return codeCache.requireWithCodeCache(file, packageVersion());
}

function packageVersion() {
  try {
    return JSON.parse(readFileSync(join(root, "package.json"), "utf8")).version ?? "unknown";
  } catch {
    // As `berth --version` of the modules: "unknown".
    return "unknown";
  }
}

const args = process.argv.slice(2);
// The command is the first operand (berth's global options take no values), as in src/cli/commands.ts.
const command = args.find((arg) => !arg.startsWith("-"));
const single =
  command && /^[a-z-]+$/.test(command) ? join(cli, "bundle", "commands", `${command}.cjs`) : undefined;
const bundled = join(cli, "bundle", "main.js");

// A command is a short process that waits on the daemon most of its life. Left alone, V8 grows the
// young generation from 1 MB per semi-space towards 16 MB while the modules load, and compiles the
// code that gets warm (Sparkplug, Maglev, Turbofan), with compiler memory in background threads
// that the process keeps: ~10 MB of `berth up`'s peak resident memory, and no speed a command can
// measure (its CPU time went down too). Nor does it need V8's idle-time young generation
// collection (--no-minor-gc-task: a 3-10 ms scavenge near the end of `berth ps`, which now mostly
// ends without any) or helper threads for the one or two scavenges it has (--no-parallel-scavenge:
// ~5-15 ms less CPU on this 2-core machine). The flags hold when set at run time, before the
// command's code loads (docs/performance.md#memory). Not for `validate`, which generates load for minutes;
// help keeps V8's defaults; `proxy` has its own below.
const LEAN_V8_FLAGS = "--semi-space-growth-factor=1 --max-opt=0 --no-minor-gc-task --no-parallel-scavenge";
// `berth proxy` is a server that lives for hours: it runs from the ES modules with the flags that
// pay for it. Idle, it held ~8-20 MB more with V8's defaults (the optimizing compiler's memory,
// buffers of reads waiting in a young generation grown to 16 MB); the interpreter costs CPU on
// answers that come in pieces only (docs/performance.md#the-proxys-memory-session-10). It keeps
// V8's idle-time and parallel scavenges (measured with them; the commands' other two flags save
// start-up work a server does once).
// bench/proxy.ts reads this line.
const PROXY_V8_FLAGS = "--semi-space-growth-factor=1 --max-opt=0";
if (args.length === 1 && (args[0] === "--version" || args[0] === "-V")) {
  process.stdout.write(`${packageVersion()}\n`);
  exitWhenFlushed(0);
} else if (single && isCurrent(single)) {
  if (command !== "validate") require("node:v8").setFlagsFromString(LEAN_V8_FLAGS);
  // Node 20 has no compile cache of its own: the code V8 compiled in the last run of the file,
  // from the runtime directory (dist/cli/bundle/code-cache.cjs; docs/performance.md).
  const cached = module_.enableCompileCache ? undefined : withCodeCache(single);
  const { main } = cached ? cached.exports : require(single);
  main(process.argv).then((code) => {
    cached?.save();
    exitWhenFlushed(code);
  });
} else {
  if (command === "proxy") require("node:v8").setFlagsFromString(PROXY_V8_FLAGS);
  // The ES modules end as Node ends them: `berth proxy` among them.
  import(pathToFileURL(isCurrent(bundled) ? bundled : modules).href)
    .then(({ main }) => main(process.argv))
    .then((code) => {
      process.exitCode = code;
    });
}
