// The docker project's global setup: builds the fixture image, tags every resource berth creates
// in this run with `berth.suite=<run id>` (through BERTH_LABELS, inherited by the workers), and
// ends the run with a leak check that fails it if anything created by the tests remains.
import { randomUUID } from "node:crypto";
import type { TestProject } from "vitest/node";
import { Engine } from "../../src/engine/engine.js";
import { ensureBusyboxFixture } from "../../src/fixtures/busybox.js";

interface Inventory {
  containers: Map<string, Record<string, string>>;
  networks: Map<string, Record<string, string>>;
  volumes: Map<string, Record<string, string>>;
}

async function inventory(engine: Engine): Promise<Inventory> {
  const [containers, networks, volumes] = await Promise.all([
    engine.listContainers({ all: true }),
    engine.listNetworks(),
    engine.listVolumes(),
  ]);
  return {
    containers: new Map(containers.map((c) => [`${c.Names[0] ?? c.Id}`, c.Labels ?? {}])),
    networks: new Map(networks.map((n) => [n.Name, n.Labels ?? {}])),
    volumes: new Map(volumes.map((v) => [v.Name, (v.Labels ?? {}) as Record<string, string>])),
  };
}

/** New resources that belong to this run: labelled with its suite id, or unlabelled and new. */
function leaksOf(before: Inventory, after: Inventory, suite: string): string[] {
  const found: string[] = [];
  for (const kind of ["containers", "networks", "volumes"] as const) {
    for (const [name, labels] of after[kind]) {
      const owner = labels["berth.suite"];
      const ours = owner === suite || (owner === undefined && !before[kind].has(name));
      if (ours) found.push(`${kind.slice(0, -1)} ${name}`);
    }
  }
  return found;
}

export default async function setup(project: TestProject) {
  const engine = new Engine();
  const suite = `suite-${randomUUID().slice(0, 8)}`;
  process.env.BERTH_LABELS = [process.env.BERTH_LABELS, `berth.suite=${suite}`].filter(Boolean).join(",");
  process.env.BERTH_TEST_SUITE = suite;
  const fixture = await ensureBusyboxFixture(engine);
  project.provide("fixtureImage", fixture.ref);
  project.provide("suiteId", suite);
  const before = await inventory(engine);

  return async () => {
    let leaks: string[] = [];
    // Give asynchronous cleanups (watchdogs, removals in flight) a bounded moment to finish.
    for (let attempt = 0; attempt < 20; attempt++) {
      leaks = leaksOf(before, await inventory(engine), suite);
      if (leaks.length === 0) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    if (leaks.length > 0) {
      // vitest reports an error thrown here but still exits 0: set the exit code ourselves.
      process.exitCode = 1;
      throw new Error(
        `Leak check: the test run left ${leaks.length} resource(s) behind:\n  ${leaks.join("\n  ")}`,
      );
    }
    process.stdout.write("Leak check: no containers, networks or volumes left by this run.\n");
  };
}

declare module "vitest" {
  export interface ProvidedContext {
    fixtureImage: string;
    suiteId: string;
  }
}
