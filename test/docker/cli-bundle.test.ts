// The built `berth` command runs a named command from that command's own CommonJS bundle
// (dist/cli/bundle/commands/NAME.cjs), everything else from the ES module bundle, and the two say
// the same. Creates nothing on the daemon (`berth config` only reads a file).
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { COMMANDS } from "../../src/cli/commands.js";

const run = promisify(execFile);
const ROOT = process.cwd();
const BIN = join(ROOT, "bin", "berth.js");
const dir = mkdtempSync(join(tmpdir(), "berth-cli-bundle-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `berth ARGS` with Node's module loader debug log, which names every CommonJS file it loads. */
async function berth(args: string[], entry = BIN) {
  const { stdout, stderr } = await run(process.execPath, [entry, ...args], {
    cwd: dir,
    env: { ...process.env, NODE_DEBUG: "module" },
  });
  const loaded = [...stderr.matchAll(/dist\/cli\/bundle\/commands\/([a-z-]+)\.cjs/g)].map((m) => m[1]);
  return { stdout, loaded: [...new Set(loaded)] };
}

describe("the built berth command", () => {
  it("has a bundle of its own for every command but the long-running proxy", () => {
    const built = readdirSync(join(ROOT, "dist", "cli", "bundle", "commands")).map((f) =>
      f.replace(/\.cjs$/, ""),
    );
    expect(built.sort()).toEqual(
      Object.keys(COMMANDS)
        .filter((name) => name !== "proxy")
        .sort(),
    );
  });

  it("runs a named command from its bundle, with the same output as the ES module bundle", async () => {
    writeFileSync(
      join(dir, "compose.yaml"),
      "services:\n  web:\n    image: busybox:1.35.0\n    ports: ['127.0.0.1::80']\n",
    );
    const esm = join(dir, "esm.mjs");
    writeFileSync(
      esm,
      `const { main } = await import(${JSON.stringify(new URL("dist/cli/bundle/main.js", `file://${ROOT}/`).href)});\nprocess.exitCode = await main(process.argv);\n`,
    );
    const single = await berth(["config", "--json"]);
    expect(single.loaded).toEqual(["config"]);
    const modules = await berth(["config", "--json"], esm);
    expect(modules.loaded).toEqual([]);
    expect(single.stdout).toBe(modules.stdout);
    expect(JSON.parse(single.stdout).project.services.web.image).toBe("busybox:1.35.0");
  });

  it("runs --version and unknown commands from the ES module bundle", async () => {
    expect((await berth(["--version"])).loaded).toEqual([]);
    const unknown = await run(process.execPath, [BIN, "nope"], { cwd: dir }).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect((unknown as { code: number }).code).toBe(2);
    expect((unknown as { stderr: string }).stderr).toContain("unknown command 'nope'");
  });
});
