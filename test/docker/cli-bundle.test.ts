// The built `berth` command runs a named command from that command's own CommonJS bundle
// (dist/cli/bundle/commands/NAME.cjs), everything else from the ES module bundle, and the two say
// the same. Creates nothing on the daemon (`berth config` only reads a file).
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
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

  it("keeps every bundle in Latin-1, which V8 holds at one byte per character", () => {
    const bundle = join(ROOT, "dist", "cli", "bundle");
    const files = [
      ...readdirSync(join(bundle, "commands")).map((f) => join(bundle, "commands", f)),
      ...readdirSync(bundle)
        .filter((f) => f.endsWith(".js"))
        .map((f) => join(bundle, f)),
    ];
    const wide = files.filter((file) => /[^\0-\xff]/.test(readFileSync(file, "utf8")));
    expect(wide).toEqual([]);
  });

  it("runs a command with a young generation that does not grow (V8 flags set by bin/berth.js)", async () => {
    // The hook reports the young generation's size as the command exits. V8's default doubles
    // it to 8 MB while a command loads; with --semi-space-growth-factor=1 it stays at 2 MB.
    const hook = join(dir, "new-space.mjs");
    writeFileSync(
      hook,
      [
        'import v8 from "node:v8";',
        'const young = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === "new_space").space_size;',
        'process.on("exit", () => process.stderr.write("NEW_SPACE " + young() + "\\n"));',
      ].join("\n"),
    );
    writeFileSync(join(dir, "compose.yaml"), "services:\n  web:\n    image: busybox:1.35.0\n");
    const { stderr } = await run(process.execPath, ["--import", hook, BIN, "config", "--json"], { cwd: dir });
    const size = Number(/NEW_SPACE (\d+)/.exec(stderr)?.[1]);
    expect(size).toBeGreaterThan(0);
    expect(size).toBeLessThanOrEqual(2 * 1024 * 1024);
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
