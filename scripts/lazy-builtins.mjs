// What scripts/build-cli.mjs does to a command's CommonJS file so that it loads Node's modules
// only when it uses them (docs/performance.md#session-10-what-a-short-command-no-longer-loads).
//
// node:tls and node:https serve a tcp+tls endpoint only, node:crypto (which node:tls loads too) a
// Docker context's directory name and a few ids, node:child_process an ssh:// endpoint, `exec`,
// and commander's own subcommand executables, which berth has none of (commander requires it at
// the top of lib/command.js, with net and dgram behind it). Each is a few ms of Node compiling its
// own modules at start-up: ~12 ms of `berth ps` together. Every use of them in a bundle is a
// property read at call time (`(0, import_node_tls.connect)(...)`, `childProcess.spawn(...)`),
// so a stand-in that requires the module on its first property read is enough. The require calls
// are rewritten in esbuild's output: a bundled stand-in module would be wrapped in esbuild's
// `__toESM`, which lists the module's keys and so would load it at once.
export const LAZY_BUILTINS = ["node:child_process", "node:crypto", "node:https", "node:tls"];

/** Defines __berthLazyBuiltin(id) in a command's file (its banner). */
export const LAZY_BUILTIN_LOADER = `function __berthLazyBuiltin(id) {
  let loaded;
  const load = () => (loaded ??= require(id));
  return new Proxy({}, { get: (_, key) => load()[key], has: (_, key) => key in load() });
}`;

// The global `performance` is a getter that loads node:perf_hooks and the user-timing modules on
// first use (~3 ms of a command's start-up), and berth reads only its `now()`: the guard's and
// the limiter's durations, only ever compared with each other. In a command's file the global
// `performance.now` (esbuild's `define`, which leaves local variables of that name alone) is this
// one: the same monotonic clock in ms, read from process.uptime(), which needs no module.
export const MONOTONIC_NOW = "const __berthNow = () => process.uptime() * 1000;";
export const MONOTONIC_NOW_DEFINE = { "performance.now": "__berthNow" };

/** `code` (a command's file) with LAZY_BUILTINS required through __berthLazyBuiltin. */
export function lazyBuiltins(code) {
  let out = code;
  for (const id of LAZY_BUILTINS) {
    out = out.replaceAll(`require(${JSON.stringify(id)})`, `__berthLazyBuiltin(${JSON.stringify(id)})`);
  }
  return out;
}
