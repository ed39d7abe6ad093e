// The docker project's global setup: builds the fixture image, tags every resource berth creates
// in this run with `berth.suite=<run id>` (through BERTH_LABELS, inherited by the workers), and
// ends the run with berth's own leak check: it fails the run if anything labelled with this run,
// or new and unlabelled, remains after a bounded wait. Other runs' resources are ignored.
import { randomUUID } from "node:crypto";
import type { TestProject } from "vitest/node";
import { Engine } from "../../src/engine/engine.js";
import { ensureBusyboxFixture } from "../../src/fixtures/busybox.js";
import { startLeakCheck } from "../../src/testing/leak-check.js";

export default async function setup(project: TestProject) {
  const engine = new Engine();
  const suite = `suite-${randomUUID().slice(0, 8)}`;
  process.env.BERTH_LABELS = [process.env.BERTH_LABELS, `berth.suite=${suite}`].filter(Boolean).join(",");
  process.env.BERTH_TEST_SUITE = suite;
  const fixture = await ensureBusyboxFixture(engine);
  project.provide("fixtureImage", fixture.ref);
  project.provide("suiteId", suite);
  // Reapers and removals may still be finishing when the last test ends: wait up to 10 s for them.
  return startLeakCheck({
    engine,
    label: { key: "berth.suite", value: suite },
    includeUnlabelled: true,
    waitMs: 10_000,
  });
}

declare module "vitest" {
  export interface ProvidedContext {
    fixtureImage: string;
    suiteId: string;
  }
}
