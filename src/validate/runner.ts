// Runs validation scenarios against the live daemon, in phases: learn about the daemon and build
// the fixture, guard the run's session, run the scenarios healthy category by category (those
// safe together two at a time, timing- and load-sensitive ones alone), prove them under their
// faults (`--prove`), then the leak check, and add it all up into the results.
import { randomUUID } from "node:crypto";
import type { Engine } from "../engine/engine.js";
import { ensureBusyboxFixture } from "../fixtures/busybox.js";
import { type Snapshot, snapshot } from "../janitor/leaks.js";
import { createSession } from "../janitor/session.js";
import { limiterDescription } from "./guarded-engine.js";
import { LEAK_SCENARIO, leakCheck } from "./leak-check.js";
import { machineFacts } from "./machine.js";
import {
  type MachineFacts,
  PERF_OPERATIONS,
  RESULTS_SCHEMA,
  type ScenarioResult,
  type ValidationResults,
} from "./model.js";
import { PROVE_PARALLELISM, type ProofTask, proveAll } from "./prove.js";
import {
  performanceOf,
  recordApiLatency,
  recordLimiter,
  summarizeCategory,
  summaryOf,
} from "./run-figures.js";
import { pool, runScenario, skippedResult } from "./run-scenario.js";
import { RUN_LABEL, type RunState } from "./run-scope.js";
import type { Category, Scenario } from "./scenario.js";
import type { LeakedResource } from "./sweep.js";

export type ProgressEvent =
  | { kind: "phase"; message: string }
  | {
      kind: "scenario-start";
      scenario: Pick<Scenario, "id" | "title" | "category">;
      done: number;
      total: number;
    }
  | { kind: "scenario-end"; result: ScenarioResult; done: number; total: number }
  /** `--prove`: `result.proof` tells how the scenario did under its fault. */
  | { kind: "proof-end"; result: ScenarioResult; done: number; total: number };

export interface RunOptions {
  /** The engine to validate through (the CLI passes its guarded engine). */
  engine: Engine;
  /** Categories to run, already selected (see `selectCategories`). */
  categories: Category[];
  quick?: boolean;
  /** Also run every scenario under its fault and record whether it failed as expected. */
  prove?: boolean;
  /** Skipped scenarios do not fail the run (they still count against the success rate). */
  allowSkips?: boolean;
  /**
   * The final leak check also counts resources created during the run with no owner label
   * (default true). Turn it off only where other tools create resources on the same daemon
   * during the run, as the files of a parallel test suite do: they would count as the run's.
   */
  checkUnlabelled?: boolean;
  /** Scenarios run at once within a category (default 2). */
  parallelism?: number;
  /** Fault runs at once under `--prove`, exclusive scenarios aside (default 4). */
  proveParallelism?: number;
  berthVersion?: string;
  onProgress?(event: ProgressEvent): void;
}

/** What every phase of a run works with. */
interface Run {
  options: RunOptions;
  prove: boolean;
  progress: (event: ProgressEvent) => void;
  state: RunState;
  machine: MachineFacts;
  /** What the daemon held before the run (absent when unlabelled resources are not checked). */
  before: Snapshot | undefined;
  /** The selected categories, cut to the quick subset when asked. */
  selected: Category[];
  startedAt: Date;
  began: number;
}

/** The results as they come in, in any order, told to the progress as they do. */
interface Tally {
  results: Map<string, ScenarioResult>;
  /** Scenarios of the run, the leak check included. */
  total: number;
  categoryWall: Map<string, number>;
  record(result: ScenarioResult): void;
}

/** Phase 1: the daemon's facts, the fixture image, what the daemon holds now, the run's state. */
async function prepareRun(options: RunOptions): Promise<Run> {
  const { engine } = options;
  const quick = options.quick ?? false;
  const progress = options.onProgress ?? (() => {});
  const startedAt = new Date();
  const began = performance.now();
  progress({ kind: "phase", message: "asking the daemon about itself" });
  await engine.ping();
  const machine = await machineFacts(engine, limiterDescription(engine));
  progress({ kind: "phase", message: "building the fixture image (skipped when unchanged)" });
  const fixture = await ensureBusyboxFixture(engine);
  // What the daemon holds before the run: anything new and unlabelled at the end is the run's leak.
  const before = options.checkUnlabelled === false ? undefined : await snapshot(engine);
  const runId = randomUUID().replace(/-/g, "").slice(0, 8);
  const state: RunState = {
    engine,
    image: fixture.ref,
    runId,
    session: createSession(engine, { project: `berth-validate-${runId}` }),
    quick,
    samples: Object.fromEntries(PERF_OPERATIONS.map((op) => [op, []])) as unknown as RunState["samples"],
    concurrency: [],
    names: { next: 0 },
  };
  const selected = options.categories.map((c) => ({
    ...c,
    scenarios: quick ? c.scenarios.filter((s) => s.quick) : c.scenarios,
  }));
  return {
    options,
    prove: options.prove ?? false,
    progress,
    state,
    machine,
    before,
    selected,
    startedAt,
    began,
  };
}

/** Adds the run's label to BERTH_LABELS, so resources berth creates anywhere in the run carry it. */
function labelEverything(runId: string): () => void {
  const previous = process.env.BERTH_LABELS;
  process.env.BERTH_LABELS = [previous, `${RUN_LABEL}=${runId}`].filter(Boolean).join(",");
  return () => {
    if (previous === undefined) delete process.env.BERTH_LABELS;
    else process.env.BERTH_LABELS = previous;
  };
}

/**
 * Phase 2: label everything the run creates, record the engine's round trips and the limiter,
 * and have the reaper guard the run from its first resource (a killed run leaves nothing).
 */
async function startRecording(run: Run) {
  const { engine, runId, session } = run.state;
  const api = recordApiLatency(engine);
  const limiter = recordLimiter(engine, run.began);
  const restoreLabels = labelEverything(runId);
  const stop = () => {
    restoreLabels();
    api.stop();
    limiter.stop();
  };
  try {
    await session.beforeCreate();
    await session.confirmGuard();
  } catch (error) {
    stop();
    throw error;
  }
  return { api: api.samples, limiter: limiter.points, stop };
}

function tally(run: Run): Tally {
  const total = run.selected.reduce((n, c) => n + c.scenarios.length, 0) + 1;
  const results = new Map<string, ScenarioResult>();
  let done = 0;
  return {
    results,
    total,
    categoryWall: new Map(),
    record: (result) => {
      results.set(result.id, result);
      run.progress({ kind: "scenario-end", result, done: ++done, total });
    },
  };
}

/**
 * Phase 3: every scenario as it is, category by category: those that share the daemon well
 * `parallelism` at a time, then the exclusive ones alone. A category that cannot run here is
 * recorded as skipped, with its reason.
 */
async function runHealthy(run: Run, tally: Tally): Promise<void> {
  const { engine } = run.state;
  const execute = async (scenario: Scenario) => {
    run.progress({ kind: "scenario-start", scenario, done: tally.results.size, total: tally.total });
    tally.record(await runScenario(run.state, scenario));
  };
  for (const category of run.selected) {
    if (category.scenarios.length === 0) continue;
    const reason = category.unavailable ? await category.unavailable(engine) : undefined;
    if (reason) {
      for (const scenario of category.scenarios) tally.record(skippedResult(scenario, reason));
      continue;
    }
    run.progress({ kind: "phase", message: `category ${category.id}` });
    const began = performance.now();
    await pool(
      category.scenarios.filter((s) => !s.exclusive),
      run.options.parallelism ?? 2,
      execute,
    );
    for (const scenario of category.scenarios.filter((s) => s.exclusive)) await execute(scenario);
    tally.categoryWall.set(category.id, performance.now() - began);
  }
}

/** Phase 4 (`--prove`): every scenario that ran, again under its fault. */
async function proveRun(run: Run, tally: Tally): Promise<void> {
  const tasks: ProofTask[] = run.selected
    .flatMap((c) => c.scenarios)
    .map((scenario) => ({ scenario, healthy: tally.results.get(scenario.id)! }))
    .filter((t) => t.healthy && t.healthy.status !== "skip");
  const parallelism = run.options.proveParallelism ?? PROVE_PARALLELISM;
  run.progress({
    kind: "phase",
    message: `proving ${tasks.length} scenarios under their faults (${parallelism} at a time, exclusive ones alone)`,
  });
  let done = 0;
  await proveAll(run.state, tasks, parallelism, (result) =>
    run.progress({ kind: "proof-end", result, done: ++done, total: tasks.length }),
  );
}

/** Phase 5: the leak check (proven too under `--prove`), and the end of the run's session. */
async function finishRun(run: Run, tally: Tally): Promise<LeakedResource[]> {
  run.progress({ kind: "phase", message: "checking for leaks" });
  const { engine, runId, image, session } = run.state;
  const check = await leakCheck(engine, runId, run.before, run.prove ? { image } : undefined);
  tally.record(check.result);
  await session.end();
  return check.leaked;
}

/** Phase 6: the results file's content, scenarios in catalogue order and the leak check last. */
function resultsOf(
  run: Run,
  tally: Tally,
  recorded: Awaited<ReturnType<typeof startRecording>>,
  leaked: LeakedResource[],
): ValidationResults {
  const { selected, state } = run;
  const order = [...selected.flatMap((c) => c.scenarios.map((s) => s.id)), LEAK_SCENARIO.id];
  const scenarios = order.map((id) => tally.results.get(id)!).filter(Boolean);
  const categories = selected.map((c) => summarizeCategory(c, scenarios, tally.categoryWall.get(c.id)));
  if (!selected.some((c) => c.id === "cleanup"))
    categories.push(summarizeCategory({ id: "cleanup", title: "Cleanup and leaks" }, scenarios));
  run.machine.limiter = limiterDescription(state.engine, recorded.limiter);
  return {
    schema: RESULTS_SCHEMA,
    berthVersion: run.options.berthVersion ?? "unknown",
    runId: state.runId,
    startedAt: run.startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    durationMs: Math.round(performance.now() - run.began),
    options: {
      quick: state.quick,
      categories: selected.map((c) => c.id),
      prove: run.prove,
      allowSkips: run.options.allowSkips ?? false,
    },
    machine: run.machine,
    summary: summaryOf(scenarios, categories, leaked.length, run.prove),
    scenarios,
    performance: performanceOf(state, recorded.api, recorded.limiter),
    leaks: { count: leaked.length, resources: leaked },
  };
}

export async function runValidation(options: RunOptions): Promise<ValidationResults> {
  const run = await prepareRun(options);
  const recorded = await startRecording(run);
  const results = tally(run);
  let leaked: LeakedResource[] = [];
  try {
    await runHealthy(run, results);
    if (run.prove) await proveRun(run, results);
  } finally {
    recorded.stop();
    leaked = await finishRun(run, results);
  }
  return resultsOf(run, results, recorded, leaked);
}
