// The Compose loader (YAML, zod, the schema) is a file of its own in the built command line,
// dist/cli/bundle/loader.cjs, loaded only when a command loads Compose files; its errors are the
// command's own classes, so they keep their exit code. Creates nothing on the daemon.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const BIN = join(process.cwd(), "bin", "berth.js");
const dir = mkdtempSync(join(tmpdir(), "berth-cli-loader-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `berth ARGS` with Node's module debug log: which bundle files it loaded, its exit code. */
async function berth(args: string[]) {
  const result = await run(process.execPath, [BIN, ...args], {
    cwd: dir,
    env: { ...process.env, NODE_DEBUG: "module", BERTH_MODEL_CACHE: "off" },
  }).then(
    (r) => ({ ...r, code: 0 }),
    (e: { code: number; stdout: string; stderr: string }) => e,
  );
  // code-cache.cjs runs the command's file on Node 20 (bin/berth.js): not a part of the command.
  const loaded = [...result.stderr.matchAll(/dist\/cli\/bundle\/([a-z/-]+)\.cjs/g)]
    .map((m) => m[1])
    .filter((name) => name !== "code-cache");
  return { ...result, loaded: [...new Set(loaded)] };
}

describe("the Compose loader's own file", () => {
  it("is loaded when files are, and its errors keep exit code 2", async () => {
    expect(statSync(join(process.cwd(), "dist", "cli", "bundle", "loader.cjs")).size).toBeGreaterThan(0);
    writeFileSync(join(dir, "bad.yml"), "services:\n  a:\n    imag: x\n");
    const bad = await berth(["down", "-f", "bad.yml"]);
    expect(bad.loaded).toEqual(["commands/down", "loader"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/bad\.yml:3:5: services\.a\.imag: unknown key `imag`.*\[BERTH_COMPOSE\]/);
    const json = await berth(["up", "-f", "bad.yml", "--json"]);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout).error.code).toBe("BERTH_COMPOSE");
  });

  it("is not loaded by a command that loads no files", async () => {
    const down = await berth(["down", "-p", "berth-cli-loader-none"]);
    expect(down.code, down.stderr).toBe(0);
    expect(down.loaded).toEqual(["commands/down"]);
  });
});
