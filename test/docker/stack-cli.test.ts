import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { newSessionId } from "../../src/janitor/session.js";
import {
  berthProcess as berth,
  composeDir,
  HTTP_HEALTHCHECK,
  httpdCommand,
  projectResources,
} from "./stack-fixtures.js";
import { fixtureImage } from "./support.js";

const cli = join(process.cwd(), "bin", "berth.js");

function webFile(image: string): string {
  return `
services:
  web:
    image: ${image}
    command: ${JSON.stringify(httpdCommand("hello-from-web"))}
    ports: ["8080"]
    healthcheck:
      test: ${JSON.stringify(HTTP_HEALTHCHECK)}
      interval: 300ms
      retries: 30
`;
}

describe("berth up / ps / logs / down (CLI)", () => {
  it("brings an environment up and leaves it running, lists it, shows logs, and takes it down twice", {
    timeout: 240_000,
  }, async () => {
    const dir = composeDir();
    const project = `berth-test-cli-${newSessionId().slice(0, 6)}`;
    const envProject = `berth-test-cli-${newSessionId().slice(0, 6)}`;
    try {
      dir.file("compose.yaml", webFile(fixtureImage()));
      // Twice in CI (rarely) the environment went away between `ps` and `down`, its container
      // first: the reaper's order. Its log says whether it was, should it happen again.
      const reaperLog = join(dir.dir, "reaper.log");
      const why = () => {
        try {
          return `reaper log:\n${readFileSync(reaperLog, "utf8")}`;
        } catch {
          return "no reaper log";
        }
      };
      const logged = { BERTH_REAPER_LOG: reaperLog };
      const [upJson, upEnv] = await Promise.all([
        berth(["up", "-p", project, "--json"], dir.dir, logged),
        berth(["up", "-p", envProject, "--env"], dir.dir, logged),
      ]);
      const result = JSON.parse(upJson.stdout.trim()) as {
        ok: boolean;
        project: string;
        services: { name: string; endpoints: { address: string }[] }[];
        env: Record<string, string>;
      };
      expect(result.ok).toBe(true);
      expect(result.project).toBe(project);
      const address = result.services[0]!.endpoints[0]!.address;
      expect(result.env.WEB_8080).toBe(address);
      expect(await (await fetch(`http://${address}/`)).text()).toBe("hello-from-web\n");
      expect(upEnv.stdout).toMatch(new RegExp(`^BERTH_PROJECT=${envProject}$`, "m"));
      expect(upEnv.stdout).toMatch(/^WEB_8080=127\.0\.0\.1:\d+$/m);

      // `up` returned, yet the environment keeps running.
      const ps = JSON.parse((await berth(["ps", "-p", project, "--json"], dir.dir)).stdout) as {
        service: string;
        state: string;
        health: string;
        detached: boolean;
      }[];
      expect(ps).toMatchObject([{ service: "web", state: "running", health: "healthy", detached: true }]);
      const table = (await berth(["ps"], dir.dir)).stdout;
      expect(table).toContain(project);
      expect(table).toContain(envProject);

      const logs = await berth(["logs", "web", "-p", project], dir.dir);
      expect(logs.stderr + logs.stdout, why()).not.toContain("berth:");

      const down = JSON.parse((await berth(["down", "-p", project, "--json"], dir.dir)).stdout) as {
        ok: boolean;
        containers: { service: string; outcome: string }[];
        networks: string[];
      };
      expect(down.ok).toBe(true);
      expect(down.containers, why()).toMatchObject([{ service: "web", outcome: "exited" }]);
      expect(down.networks).toEqual([`${project}_default`]);
      expect(await projectResources(project)).toEqual([]);
      const again = await berth(["down", "-p", project], dir.dir);
      expect(again.stdout).toContain("nothing to remove");
    } finally {
      await berth(["down", "-p", project], dir.dir);
      await berth(["down", "-p", envProject], dir.dir);
      dir.remove();
    }
    expect(await projectResources(envProject)).toEqual([]);
  });

  it("refuses down without a project or session as a usage error", { timeout: 240_000 }, async () => {
    const result = (await berth(["down"], process.cwd())) as { code: number; stderr: string };
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("-p PROJECT");
  });
});

describe("berth run", () => {
  it("runs the command with the endpoints in its environment, exits with its code, and cleans up", {
    timeout: 240_000,
  }, async () => {
    const dir = composeDir();
    const project = `berth-test-run-${newSessionId().slice(0, 6)}`;
    try {
      dir.file("compose.yaml", webFile(fixtureImage()));
      const result = (await berth(
        [
          "run",
          "-p",
          project,
          "--",
          "sh",
          "-c",
          'wget -q -O- "http://$WEB_8080/" && test -n "$BERTH_ENVIRONMENT" && echo "project=$BERTH_PROJECT" && exit 7',
        ],
        dir.dir,
      )) as { code: number; stdout: string };
      expect(result.code).toBe(7);
      expect(result.stdout).toContain("hello-from-web");
      expect(result.stdout).toContain(`project=${project}`);
      expect(await projectResources(project)).toEqual([]);
    } finally {
      dir.remove();
    }
  });

  it("exits with up's error when up fails, and leaves nothing", { timeout: 240_000 }, async () => {
    const dir = composeDir();
    const project = `berth-test-run-${newSessionId().slice(0, 6)}`;
    try {
      dir.file(
        "compose.yaml",
        "services:\n  web:\n    image: berth-test/missing:0\n    pull_policy: never\n",
      );
      const result = (await berth(["run", "-p", project, "--", "true"], dir.dir)) as {
        code: number;
        stderr: string;
      };
      expect(result.code).toBe(1);
      expect(result.stderr).toContain("BERTH_IMAGE_MISSING");
      expect(await projectResources(project)).toEqual([]);
    } finally {
      dir.remove();
    }
  });

  it("takes the environment down on SIGINT and exits 130", { timeout: 240_000 }, async () => {
    const dir = composeDir();
    const project = `berth-test-run-${newSessionId().slice(0, 6)}`;
    try {
      dir.file("compose.yaml", webFile(fixtureImage()));
      const child = spawn(
        process.execPath,
        [cli, "run", "-p", project, "--", "sh", "-c", "echo command-started; exec sleep 60"],
        { cwd: dir.dir, env: { ...process.env, CI: "true" }, stdio: ["ignore", "pipe", "pipe"] },
      );
      let stderr = "";
      child.stderr.on("data", (d: Buffer) => {
        stderr += d.toString();
      });
      const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
      await new Promise<void>((resolve, reject) => {
        child.stdout.on("data", (d: Buffer) => {
          if (d.toString().includes("command-started")) resolve();
        });
        child.once("exit", () => reject(new Error(`berth run ended before the command started:\n${stderr}`)));
      });
      expect(await projectResources(project)).not.toEqual([]);
      child.kill("SIGINT");
      expect(await exited).toBe(130);
      expect(await projectResources(project)).toEqual([]);
    } finally {
      dir.remove();
    }
  });
});
