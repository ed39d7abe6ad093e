// `berth proxy` as a user runs it: prints the DOCKER_HOST line, listens on a private socket,
// serves the docker CLI, and on SIGTERM finishes and removes its socket.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { docker, run } from "./proxy-support.js";

const MAIN = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));
const ENTRY = `const { main } = await import(process.argv[1]); process.exitCode = await main(["node", "berth", ...process.argv.slice(2)]);`;
const berthArgs = (args: string[]) => ["--import", "tsx", "--input-type=module", "-e", ENTRY, MAIN, ...args];

const dir = mkdtempSync(join(tmpdir(), "berth-proxy-command-"));
let child: ChildProcess | undefined;

afterAll(() => {
  child?.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

describe("berth proxy", () => {
  it("prints DOCKER_HOST, listens on a 0600 socket, relays, and cleans up on SIGTERM", async () => {
    const socket = join(dir, "run", "proxy.sock");
    child = spawn(process.execPath, berthArgs(["proxy", "--listen", `unix://${socket}`]), {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr!.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    const firstLine = await new Promise<string>((resolve) =>
      createInterface({ input: child!.stdout! }).once("line", resolve),
    );
    expect(firstLine).toBe(`DOCKER_HOST=unix://${socket}`);
    expect(statSync(socket).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, "run")).mode & 0o777).toBe(0o700);

    const ps = await docker(["ps", "--format", "{{.ID}}"], {
      env: { ...process.env, DOCKER_HOST: `unix://${socket}` },
    });
    expect(ps.code).toBe(0);

    const exited = new Promise<number | null>((resolve) => child!.once("exit", resolve));
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(stderr).toContain("SIGTERM: finishing requests");
    expect(existsSync(socket)).toBe(false);
  });

  it("refuses a non-loopback address as a usage error (exit 2)", async () => {
    const remote = await run(process.execPath, berthArgs(["proxy", "--listen", "tcp://0.0.0.0:0"]), {
      env: process.env,
    });
    expect(remote.code).toBe(2);
    expect(remote.stderr).toMatch(/not a loopback address.*\[BERTH_PROXY_LISTEN\]/);
  });
});
