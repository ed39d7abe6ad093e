// The run's last scenario, `cleanup.final-leak-count`: whatever still carries the run's label,
// and whatever was created during the run without any owner label, is a leak. Under `--prove` it
// is shown to fail too, with a container nobody labelled planted on the daemon.
import type { Engine } from "../engine/engine.js";
import type { Snapshot } from "../janitor/leaks.js";
import type { Evidence, ScenarioResult } from "./model.js";
import { findRunResources, findUnlabelledSince, type LeakedResource, sweepRunResources } from "./sweep.js";

export const LEAK_SCENARIO = {
  id: "cleanup.final-leak-count",
  category: "cleanup",
  title: "Nothing the run created is left (leak count 0)",
  fault: {
    kind: "setup" as const,
    describe: "an unlabelled container is planted on the daemon before the leak check",
    expect: /resource\(s\) of the run were left behind: container berth-validate-\w+-planted/,
  },
};

export interface LeakCheck {
  result: ScenarioResult;
  leaked: LeakedResource[];
}

/** The name of the container `--prove` plants to show the leak check finds what nobody labelled. */
function plantedName(runId: string): string {
  return `berth-validate-${runId}-planted`;
}

/**
 * Resources carrying the run's label, and resources created since the run began that carry no
 * berth label at all (made by a tool that dropped the labels).
 */
async function findLeaks(engine: Engine, runId: string, before: Snapshot | undefined) {
  const labelled = await findRunResources(engine, runId);
  if (!before) return { labelled, unlabelled: [] };
  const unlabelled = (await findUnlabelledSince(engine, before.resources)).filter(
    (r) => !labelled.some((l) => l.kind === r.kind && l.name === r.name),
  );
  return { labelled, unlabelled };
}

function leakFailure(all: LeakedResource[], unlabelled: LeakedResource[], evidence: Evidence) {
  return {
    message: `${all.length} resource(s) of the run were left behind: ${evidence.resources}`,
    code: "BERTH_LEAK_DETECTED",
    expected: 0,
    actual: all.length,
    hint:
      unlabelled.length > 0
        ? "The labelled ones have been removed; the unlabelled ones were created during the run but carry no berth label, so they are left for you to check."
        : "They have been removed now; the scenario that created them did not clean up.",
  };
}

/** The labelled leaks are removed; the unlabelled ones only reported, as nothing proves they are the run's. */
async function checkLeaks(engine: Engine, runId: string, before: Snapshot | undefined): Promise<LeakCheck> {
  const started = new Date();
  const began = performance.now();
  const { labelled, unlabelled } = await findLeaks(engine, runId, before);
  const sweepErrors = await sweepRunResources(engine, labelled);
  const all: LeakedResource[] = [...labelled, ...unlabelled];
  const evidence: Evidence = { leaked: all.length, resources: all.map((r) => `${r.kind} ${r.name}`) };
  if (unlabelled.length > 0) evidence.unlabelled = unlabelled.map((r) => `${r.kind} ${r.name}`);
  if (sweepErrors.length > 0) evidence.sweepErrors = sweepErrors;
  const result: ScenarioResult = {
    id: LEAK_SCENARIO.id,
    category: LEAK_SCENARIO.category,
    title: LEAK_SCENARIO.title,
    status: all.length === 0 ? "pass" : "fail",
    startedAt: started.toISOString(),
    durationMs: Math.round(performance.now() - began),
    evidence,
    timings: {},
    ...(all.length > 0 ? { failure: leakFailure(all, unlabelled, evidence) } : {}),
  };
  return { result, leaked: all };
}

/** The check under its fault: a container nobody labelled, made straight through the daemon. */
async function proveLeakCheck(
  engine: Engine,
  runId: string,
  before: Snapshot | undefined,
  image: string,
  healthy: ScenarioResult,
) {
  const began = performance.now();
  const planted = await engine.createContainer({ name: plantedName(runId), Image: image, Cmd: ["true"] });
  let faulted: ScenarioResult;
  try {
    faulted = (await checkLeaks(engine, runId, before)).result;
  } finally {
    await engine.removeContainer(planted.id, { volumes: true }).catch(() => {});
  }
  const failedAsExpected =
    faulted.status === "fail" && LEAK_SCENARIO.fault.expect.test(faulted.failure?.message ?? "");
  healthy.proof = {
    fault: LEAK_SCENARIO.fault.describe,
    kind: "setup",
    expected: LEAK_SCENARIO.fault.expect.source,
    status: faulted.status,
    ...(faulted.failure ? { failure: faulted.failure } : {}),
    evidence: faulted.evidence,
    durationMs: Math.round(performance.now() - began),
    proven: healthy.status === "pass" && failedAsExpected,
  };
}

export async function leakCheck(
  engine: Engine,
  runId: string,
  before: Snapshot | undefined,
  prove: { image: string } | undefined,
): Promise<LeakCheck> {
  const check = await checkLeaks(engine, runId, before);
  if (prove) await proveLeakCheck(engine, runId, before, prove.image, check.result);
  return check;
}
