// `berth proxy` as a user runs it: prints the DOCKER_HOST line, listens on a private socket,
// serves the docker CLI, and on SIGTERM finishes and removes its socket.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { docker, run } from "./proxy-support.js";

const MAIN = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));
const BIN = fileURLToPath(new URL("../../bin/berth.js", import.meta.url));
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

  it("runs from bin/berth.js with a young generation that does not grow under reads", async () => {
    // The hook reports the young generation's size as the proxy exits. With V8's defaults it
    // has grown to 4 MB by then (while the proxy loads, then more under reads: dead read buffers
    // wait in it); with --semi-space-growth-factor=1, set by bin/berth.js for `berth proxy`, it
    // stays at 2 MB.
    const hook = join(dir, "young-generation.mjs");
    writeFileSync(
      hook,
      `import { getHeapSpaceStatistics } from "node:v8";
process.on("exit", () => {
  const young = getHeapSpaceStatistics().find((space) => space.space_name === "new_space");
  process.stderr.write(\`YOUNG \${young.space_size}\\n\`);
});
`,
    );
    const socket = join(dir, "bin.sock");
    const proxy = spawn(process.execPath, ["--import", hook, BIN, "proxy", "--listen", `unix://${socket}`], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    child = proxy;
    let stderr = "";
    proxy.stderr!.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    await new Promise((resolve) => createInterface({ input: proxy.stdout! }).once("line", resolve));
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const list = () =>
      new Promise<number>((resolve, reject) =>
        request({ socketPath: socket, agent, path: "/v1.41/containers/json?all=1" }, (res) => {
          res.resume();
          res.on("end", () => resolve(res.statusCode ?? 0));
        })
          .on("error", reject)
          .end(),
      );
    for (let i = 0; i < 20; i++) expect(await list()).toBe(200);
    agent.destroy();
    const exited = new Promise<number | null>((resolve) => proxy.once("exit", resolve));
    proxy.kill("SIGTERM");
    expect(await exited).toBe(0);
    const size = Number(/YOUNG (\d+)/.exec(stderr)?.[1]);
    expect(size).toBeGreaterThan(0);
    expect(size).toBeLessThanOrEqual(2 * 1024 * 1024);
  });

  it("refuses a non-loopback address as a usage error (exit 2)", async () => {
    const remote = await run(process.execPath, berthArgs(["proxy", "--listen", "tcp://0.0.0.0:0"]), {
      env: process.env,
    });
    expect(remote.code).toBe(2);
    expect(remote.stderr).toMatch(/not a loopback address.*\[BERTH_PROXY_LISTEN\]/);
  });
});
