// The docker project's global setup: builds the fixture image, tags every resource berth creates
// in this run with `berth.suite=<run id>` (through BERTH_LABELS, inherited by the workers), and
// ends the run with berth's own leak check: it fails the run if anything labelled with this run,
// or new and unlabelled, remains after a bounded wait. Other runs' resources are ignored.
import { randomUUID } from "node:crypto";
import type { TestProject } from "vitest/node";
import { Engine } from "../../src/engine/engine.js";
import { ensureBusyboxFixture } from "../../src/fixtures/busybox.js";
import { ensureReferenceStackImages } from "../../src/fixtures/reference-stack.js";
import { startLeakCheck } from "../../src/testing/leak-check.js";

// Both docker projects (parallel, then serial) use this setup; the first call owns the run's
// suite id, fixture and leak check, and the later one reuses them. Projects may load this module
// separately, so what is shared lives in the main process's environment.
const SHARED = "BERTH_TEST_GLOBAL_SETUP";

export default async function setup(project: TestProject) {
  const shared = process.env[SHARED]
    ? (JSON.parse(process.env[SHARED]) as { suite: string; fixture: string })
    : undefined;
  if (shared) {
    project.provide("fixtureImage", shared.fixture);
    project.provide("suiteId", shared.suite);
    return;
  }
  const engine = new Engine();
  const suite = `suite-${randomUUID().slice(0, 8)}`;
  process.env.BERTH_LABELS = [process.env.BERTH_LABELS, `berth.suite=${suite}`].filter(Boolean).join(",");
  process.env.BERTH_TEST_SUITE = suite;
  const fixture = await ensureBusyboxFixture(engine);
  project.provide("fixtureImage", fixture.ref);
  project.provide("suiteId", suite);
  process.env[SHARED] = JSON.stringify({ suite, fixture: fixture.ref });
  // The reference stack's images take minutes to build on a new machine (CPU-bound, while most
  // of the parallel phase waits on the daemon's disk): start now, in the background, so the
  // serial phase's reference-stack test finds them built (it waits on the same build lock).
  const referenceImages = ensureReferenceStackImages(engine).then(
    (r) => {
      const built = r.images.filter((i) => i.built).map((i) => i.ref);
      if (built.length > 0)
        process.stdout.write(`Reference images built in the background: ${built.join(", ")}\n`);
    },
    (error: unknown) =>
      process.stdout.write(`Reference images not built in the background: ${(error as Error).message}\n`),
  );
  // Reapers and removals may still be finishing when the last test ends: wait up to 10 s for them.
  const leakCheck = await startLeakCheck({
    engine,
    label: { key: "berth.suite", value: suite },
    includeUnlabelled: true,
    waitMs: 10_000,
  });
  return async () => {
    await referenceImages;
    await leakCheck();
  };
}

declare module "vitest" {
  export interface ProvidedContext {
    fixtureImage: string;
    suiteId: string;
  }
}
