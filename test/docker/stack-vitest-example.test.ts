import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { engine, fixtureImage } from "./support.js";

const run = promisify(execFile);

describe("examples/vitest", () => {
  it("runs its tests against a berth environment and leaves nothing", { timeout: 240_000 }, async () => {
    const root = join(process.cwd(), "examples", "vitest");
    const vitest = join(process.cwd(), "node_modules", "vitest", "vitest.mjs");
    // A label of its own (beside the suite's) shows what this run of the example created.
    const marker = `berth.example=${randomUUID().slice(0, 8)}`;
    const { stdout } = await run(process.execPath, [vitest, "run", "--root", root], {
      env: {
        ...process.env,
        BERTH_LABELS: [process.env.BERTH_LABELS, marker].filter(Boolean).join(","),
        BERTH_FIXTURE_IMAGE: fixtureImage(),
        CI: "true",
      },
    });
    expect(stdout).toContain("2 passed");
    const filters = { label: [marker] };
    const [containers, networks] = await Promise.all([
      engine.listContainers({ all: true, filters }),
      engine.listNetworks(filters),
    ]);
    expect([...containers, ...networks]).toEqual([]);
  });
});
