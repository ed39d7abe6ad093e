// Docker contexts made with the real `docker context create` in a temp DOCKER_CONFIG: berth
// finds them as the CLI does (DOCKER_CONTEXT, then `docker context use`), says where its endpoint
// came from, runs a stack through one, and names the context when its daemon cannot be reached.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LABELS } from "../../src/model/labels.js";
import { berthWith } from "./engines-support.js";
import { composeDir } from "./stack-fixtures.js";
import { engine, fixtureImage } from "./support.js";

const run = promisify(execFile);
const config = mkdtempSync(join(tmpdir(), "berth-docker-config-"));
const dir = composeDir();

function docker(...args: string[]) {
  return run("docker", args, {
    env: { ...process.env, DOCKER_CONFIG: config, DOCKER_HOST: "", DOCKER_CONTEXT: "" },
  });
}

beforeAll(async () => {
  await docker("context", "create", "berth-local", "--docker", "host=unix:///var/run/docker.sock");
  await docker("context", "create", "berth-dead", "--docker", `host=unix://${config}/nobody-here.sock`);
});

afterAll(() => {
  dir.remove();
  rmSync(config, { recursive: true, force: true });
});

describe("docker contexts", () => {
  it("DOCKER_CONTEXT picks a context from the store; DOCKER_HOST still wins over it", async () => {
    const viaContext = await berthWith(
      ["doctor", "--no-checks", "--json"],
      { DOCKER_CONFIG: config, DOCKER_CONTEXT: "berth-local" },
      dir.dir,
    );
    expect(viaContext.code, viaContext.stderr).toBe(0);
    expect(JSON.parse(viaContext.stdout).endpoint).toEqual({
      url: "unix:///var/run/docker.sock",
      kind: "unix",
      source: "context berth-local via DOCKER_CONTEXT",
      context: "berth-local",
    });
    const viaHost = await berthWith(
      ["doctor", "--no-checks", "--json"],
      { DOCKER_CONFIG: config, DOCKER_CONTEXT: "berth-dead", DOCKER_HOST: "unix:///var/run/docker.sock" },
      dir.dir,
    );
    expect(JSON.parse(viaHost.stdout).endpoint.source).toBe("DOCKER_HOST");
  });

  it("`docker context use` makes it berth's endpoint too: up, ps and down run through it", async () => {
    await docker("context", "use", "berth-local");
    try {
      const doctor = await berthWith(["doctor", "--no-checks"], { DOCKER_CONFIG: config }, dir.dir);
      expect(doctor.stdout).toContain(
        `chosen:  context berth-local via currentContext in ${config}/config.json`,
      );
      const file = dir.file(
        "compose.yaml",
        `services:\n  app:\n    image: ${fixtureImage()}\n    command: ["sh", "-c", "trap 'exit 0' TERM; echo up; sleep 3600 & wait"]\n    x-berth:\n      wait:\n        - log: up\n`,
      );
      const up = await berthWith(
        ["up", "-f", file, "-p", "berth-ctx-e2e", "--json"],
        { DOCKER_CONFIG: config },
        dir.dir,
      );
      expect(up.code, up.stderr).toBe(0);
      const ps = await berthWith(["ps", "-p", "berth-ctx-e2e", "--json"], { DOCKER_CONFIG: config }, dir.dir);
      expect(
        JSON.parse(ps.stdout).map((r: { service: string; state: string }) => [r.service, r.state]),
      ).toEqual([["app", "running"]]);
      const down = await berthWith(["down", "-p", "berth-ctx-e2e"], { DOCKER_CONFIG: config }, dir.dir);
      expect(down.code, down.stderr).toBe(0);
      const left = await engine.listContainers({
        all: true,
        filters: { label: [`${LABELS.project}=berth-ctx-e2e`] },
      });
      expect(left).toEqual([]);
    } finally {
      await docker("context", "use", "default");
    }
  });

  it("an unreachable context's daemon is exit 3, and the error names the context and how it was chosen", async () => {
    const ps = await berthWith(["ps"], { DOCKER_CONFIG: config, DOCKER_CONTEXT: "berth-dead" }, dir.dir);
    expect(ps.code).toBe(3);
    expect(ps.stderr).toContain(
      `Cannot reach the Docker daemon at unix://${config}/nobody-here.sock (from context berth-dead via DOCKER_CONTEXT)`,
    );
    expect(ps.stderr).toContain("docker context inspect berth-dead");
    const doctor = await berthWith(
      ["doctor", "--json"],
      { DOCKER_CONFIG: config, DOCKER_CONTEXT: "berth-dead" },
      dir.dir,
    );
    expect(doctor.code).toBe(3);
    expect(JSON.parse(doctor.stdout)).toMatchObject({
      reachable: false,
      error: { code: "BERTH_DAEMON_UNAVAILABLE" },
    });
  });

  it("a context that does not exist is a configuration error (exit 2) naming it", async () => {
    const ps = await berthWith(["ps"], { DOCKER_CONFIG: config, DOCKER_CONTEXT: "no-such-context" }, dir.dir);
    expect(ps.code).toBe(2);
    expect(ps.stderr).toContain('Docker context "no-such-context" (named by DOCKER_CONTEXT) does not exist');
  });
});
