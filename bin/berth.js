#!/usr/bin/env node
// The `berth` command. It runs the bundled CLI (dist/cli/bundle, a few files instead of ~300
// modules: start-up is most of a quick command's time) unless a build of dist without the
// bundle step left it older than dist/cli/main.js; then the modules of dist, which are current.
// Node 22.1 and later also keep the compiled code in their compile cache between runs.
import { statSync } from "node:fs";
import module from "node:module";

module.enableCompileCache?.();

const cli = new URL("../dist/cli/", import.meta.url);
const bundled = new URL("bundle/main.js", cli);
const modules = new URL("main.js", cli);

function bundleIsCurrent() {
  try {
    return statSync(bundled).mtimeMs >= statSync(modules).mtimeMs;
  } catch {
    return false;
  }
}

const { main } = await import(bundleIsCurrent() ? bundled.href : modules.href);
process.exitCode = await main(process.argv);
