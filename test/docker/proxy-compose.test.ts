// Debian's docker-compose v1 (docker-py, a Python client) through the proxy: up, exec, logs, down.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run, startTestProxy, type TestProxy } from "./proxy-support.js";
import { engine, fixtureImage, testLabels, uniqueName } from "./support.js";

let t: TestProxy;
let dir: string;
let down = false;
const project = uniqueName("compose").replace(/-/g, "");

function composeFile(suite: string): string {
  const labels = `\n      berth.suite: "${suite}"`;
  const service = (name: string, extra = "") => `
  ${name}:
    image: ${fixtureImage()}
    command: ["sh", "-c", "trap 'echo ${name}-stopped > /out/${name}; exit 0' TERM; echo ${name}-up; sleep 3600 & wait"]
    stop_grace_period: 10s
    volumes: ["${dir}:/out"]
    labels:${labels}${extra}`;
  return `version: "2.4"
services:${service("web")}${service("worker", "\n    depends_on: [web]")}
networks:
  default:
    labels:${labels}
`;
}

const compose = (...args: string[]) =>
  run("docker-compose", ["--no-ansi", "-p", project, "-f", join(dir, "docker-compose.yml"), ...args], {
    env: t.env,
    timeoutMs: 90_000,
  });

const projectContainers = () =>
  engine.listContainers({ all: true, filters: { label: [`com.docker.compose.project=${project}`] } });

beforeAll(async () => {
  t = await startTestProxy();
  dir = mkdtempSync(join(tmpdir(), "berth-proxy-compose-"));
  writeFileSync(join(dir, "docker-compose.yml"), composeFile(testLabels()["berth.suite"]!));
});

afterAll(async () => {
  // If the test failed half-way, take the stack down directly (not through the proxy under test).
  if (!down) {
    await run(
      "docker-compose",
      ["--no-ansi", "-p", project, "-f", join(dir, "docker-compose.yml"), "down", "-t", "2"],
      {
        env: process.env,
      },
    );
  }
  await t?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("docker-compose v1 through the proxy", () => {
  it("brings a stack up detached, execs in it, and takes it down gracefully", async () => {
    const up = await compose("up", "-d");
    expect(up.stderr).not.toMatch(/ERROR/);
    expect(up.code).toBe(0);
    const running = await projectContainers();
    expect(running.map((c) => c.State).sort()).toEqual(["running", "running"]);

    const exec = await compose("exec", "-T", "web", "sh", "-c", "echo from-compose-exec");
    expect(exec).toMatchObject({ code: 0, stdout: "from-compose-exec\n" });

    const result = await compose("down");
    expect(result.code).toBe(0);
    down = true;
    expect(await projectContainers()).toEqual([]);
    const networks = await engine.listNetworks({ label: [`com.docker.compose.project=${project}`] });
    expect(networks).toEqual([]);
    // Compose stopped each service with SIGTERM and its trap ran.
    expect(readFileSync(join(dir, "web"), "utf8").trim()).toBe("web-stopped");
    expect(readFileSync(join(dir, "worker"), "utf8").trim()).toBe("worker-stopped");
    expect(t.proxy.metrics().requests.upstreamFailures).toBe(0);
  });
});
