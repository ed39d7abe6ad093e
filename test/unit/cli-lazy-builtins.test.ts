// The stand-ins that let a command's bundle load Node's modules on first use
// (scripts/lazy-builtins.mjs, applied by scripts/build-cli.mjs).
import { describe, expect, it } from "vitest";
import {
  LAZY_BUILTIN_LOADER,
  LAZY_BUILTINS,
  lazyBuiltins,
  MONOTONIC_NOW,
} from "../../scripts/lazy-builtins.mjs";

/** __berthLazyBuiltin as a bundle's banner defines it, with `require` recorded. */
function loader() {
  const required: string[] = [];
  const modules: Record<string, object> = {
    "node:tls": { connect: () => "tls socket", DEFAULT_MIN_VERSION: "TLSv1.2" },
  };
  const fakeRequire = (id: string) => {
    required.push(id);
    return modules[id];
  };
  const lazy = new Function("require", `${LAZY_BUILTIN_LOADER}\nreturn __berthLazyBuiltin;`)(fakeRequire) as (
    id: string,
  ) => Record<string, unknown>;
  return { lazy, required };
}

describe("lazy built-in modules in a command's file", () => {
  it("requires the module on the first property read, once, and answers as the module", () => {
    const { lazy, required } = loader();
    const tls = lazy("node:tls");
    expect(required).toEqual([]);
    expect((tls.connect as () => string)()).toBe("tls socket");
    expect(tls.DEFAULT_MIN_VERSION).toBe("TLSv1.2");
    expect("connect" in tls).toBe(true);
    expect("nope" in tls).toBe(false);
    expect(tls.nope).toBeUndefined();
    expect(required).toEqual(["node:tls"]);
  });

  it("rewrites the require of each listed module and of no other", () => {
    const code = [
      'var import_node_tls = require("node:tls");',
      'var childProcess = require("node:child_process");',
      'var import_node_fs = require("node:fs");',
      'var import_node_http = require("node:http");',
    ].join("\n");
    const out = lazyBuiltins(code);
    expect(out).toContain('var import_node_tls = __berthLazyBuiltin("node:tls");');
    expect(out).toContain('var childProcess = __berthLazyBuiltin("node:child_process");');
    expect(out).toContain('require("node:fs")');
    expect(out).toContain('require("node:http")');
    expect(LAZY_BUILTINS).toEqual(["node:child_process", "node:crypto", "node:https", "node:tls"]);
  });

  it("gives performance.now's clock without node:perf_hooks: monotonic ms", async () => {
    const now = new Function(`${MONOTONIC_NOW}\nreturn __berthNow;`)() as () => number;
    const a = now();
    const p = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const b = now();
    expect(b - a).toBeGreaterThanOrEqual(15);
    expect(b - a).toBeCloseTo(performance.now() - p, -1);
  });
});
