// berth as a user gets it: `npm pack`, the tarball installed into a new project, and there a
// Vitest project, a Jest project (CommonJS and ESM mode), a node:test file, `tsc --strict`
// without skipLibCheck, `require` on Node 20, 22 and 24, and `npx berth`. Every container the
// consumers create carries the suite's label and this test's own, and none may remain.
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { engine, fixtureImage } from "../docker/support.js";
import {
  type Consumer,
  consumerTools,
  installConsumer,
  installedPackages,
  nodeBinary,
  run,
} from "./support.js";

let consumer: Consumer;
let jestBin: string;

/** A label of the test's own beside the suite's: what this consumer created, and nothing else. */
function newMarker(): string {
  return `berth.consumer=${randomUUID().slice(0, 8)}`;
}

function consumerEnv(marker: string = newMarker()): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    BERTH_LABELS: [process.env.BERTH_LABELS, marker].filter(Boolean).join(","),
    BERTH_FIXTURE_IMAGE: fixtureImage(),
    CI: "true",
  };
  // The suite's own runner settings are not the consumer's.
  delete env.NODE_OPTIONS;
  delete env.VITEST;
  delete env.VITEST_POOL_ID;
  delete env.VITEST_WORKER_ID;
  delete env.TEST;
  return env;
}

async function leftovers(marker: string): Promise<string[]> {
  const filters = { label: [marker] };
  const [containers, networks, volumes] = await Promise.all([
    engine.listContainers({ all: true, filters }),
    engine.listNetworks(filters),
    engine.listVolumes(filters),
  ]);
  return [
    ...containers.map((c) => `container ${c.Names?.[0] ?? c.Id}`),
    ...networks.map((n) => `network ${n.Name}`),
    ...volumes.map((v) => `volume ${v.Name}`),
  ];
}

beforeAll(async () => {
  const [installed, tools] = await Promise.all([installConsumer(), consumerTools()]);
  consumer = installed;
  jestBin = join(tools, "node_modules", "jest", "bin", "jest.js");
}, 300_000);

afterAll(() => consumer?.remove());

// One case at a time: run side by side on a loaded 2-core machine they starved each other (a
// reaper watchdog not ready within its 15 s).
describe("the packed package in a new project", { timeout: 240_000 }, () => {
  it("installs few runtime packages, none with an install script", () => {
    const packages = installedPackages(consumer);
    expect(packages.filter((p) => p.hasInstallScript).map((p) => p.path)).toEqual([]);
    expect(packages.length, packages.map((p) => p.path).join("\n")).toBeLessThanOrEqual(25);
  });

  it("ships what a user needs and nothing of the repository's tooling", async () => {
    const { stdout } = await run("tar", ["-tzf", consumer.tarball], { cwd: consumer.dir });
    const files = stdout.split("\n").filter(Boolean);
    expect(files).toEqual(
      expect.arrayContaining([
        "package/LICENSE",
        "package/README.md",
        "package/bin/berth.js",
        // Makes bin/berth.js CommonJS in a "type": "module" package.
        "package/bin/package.json",
        "package/dist/index.js",
      ]),
    );
    expect(files.filter((f) => /^package\/(src|test|scripts|bench|examples|docs)\/|\.map$/.test(f))).toEqual(
      [],
    );
  });

  it("is required and imported on Node 20, 22 and 24", async () => {
    const script = `
      const root = require("berth-docker");
      const entries = ["jest", "proxy", "validate"].map((name) => require("berth-docker/" + name));
      if (typeof root.up !== "function" || entries.some((entry) => Object.keys(entry).length === 0)) process.exit(1);
      import("berth-docker/vitest").then((vitest) => {
        console.log(process.version, Object.keys(root).length, typeof vitest.berthGlobalSetup);
      });`;
    const nodes = [process.execPath, await nodeBinary(22), await nodeBinary(24)];
    for (const node of nodes) {
      const { stdout, stderr } = await run(node, ["-e", script], { cwd: consumer.dir, env: consumerEnv() });
      expect(stdout).toMatch(/^v\d+\.\d+\.\d+ \d+ function\n$/);
      expect(stderr, `${node} warns`).toBe("");
    }
  });

  it("type-checks a TypeScript project with strict and without skipLibCheck", async () => {
    const tsc = join(consumer.dir, "node_modules", "typescript", "bin", "tsc");
    await run(process.execPath, [tsc, "--noEmit", "--strict", "-p", "types"], { cwd: consumer.dir });
    const declarations = readFileSync(
      join(consumer.dir, "node_modules", "berth-docker", "dist", "index.d.ts"),
      "utf8",
    );
    expect(declarations).not.toMatch(/dockerode/);
  });

  it("runs a Vitest project against a 2-service environment", async () => {
    const vitest = join(consumer.dir, "node_modules", "vitest", "vitest.mjs");
    const marker = newMarker();
    const { stdout } = await run(process.execPath, [vitest, "run"], {
      cwd: join(consumer.dir, "vitest"),
      env: consumerEnv(marker),
    });
    expect(stdout).toContain("2 passed");
    expect(await leftovers(marker)).toEqual([]);
  });

  it("runs a Jest project in its default CommonJS mode with require and berth-docker/jest", async () => {
    const marker = newMarker();
    const { stderr } = await run(process.execPath, [jestBin, "--ci"], {
      cwd: join(consumer.dir, "jest"),
      env: consumerEnv(marker),
    });
    expect(stderr).toContain("Tests:       2 passed, 2 total");
    expect(await leftovers(marker)).toEqual([]);
  });

  it("runs a Jest project in its ESM mode", async () => {
    const marker = newMarker();
    const { stderr } = await run(process.execPath, ["--experimental-vm-modules", jestBin, "--ci"], {
      cwd: join(consumer.dir, "jest-esm"),
      env: consumerEnv(marker),
    });
    expect(stderr).toContain("Tests:       1 passed, 1 total");
    expect(await leftovers(marker)).toEqual([]);
  });

  it("runs a node:test file with the environment up in before and down in after", async () => {
    const marker = newMarker();
    const { stdout } = await run(process.execPath, ["--test", "node-test/"], {
      cwd: consumer.dir,
      env: consumerEnv(marker),
    });
    expect(stdout).toMatch(/# pass 1\n/);
    expect(await leftovers(marker)).toEqual([]);
  });

  it("runs npx berth --version, up and down from the consumer's directory", async () => {
    const marker = newMarker();
    const env = consumerEnv(marker);
    const pkg = JSON.parse(
      readFileSync(join(consumer.dir, "node_modules", "berth-docker", "package.json"), "utf8"),
    );
    const version = await run("npx", ["--no-install", "berth", "--version"], { cwd: consumer.dir, env });
    expect(version.stdout.trim()).toContain(pkg.version);
    const project = `consumer-${randomUUID().slice(0, 8)}`;
    try {
      const up = await run(
        "npx",
        ["--no-install", "berth", "up", "-f", "compose.yml", "-p", project, "--json"],
        {
          cwd: consumer.dir,
          env,
        },
      );
      const started = JSON.parse(up.stdout) as { project: string };
      expect(started.project).toBe(project);
    } finally {
      await run("npx", ["--no-install", "berth", "down", "-p", project], { cwd: consumer.dir, env });
    }
    expect(await leftovers(marker)).toEqual([]);
  });
});
