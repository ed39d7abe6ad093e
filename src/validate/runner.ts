// Runs validation scenarios against the live daemon: category by category, scenarios that are
// safe together in a small pool (the machine may have 2 cores), timing- and load-sensitive ones
// alone. Every scenario's resources are cleaned up after it; the run ends with a leak check.
import { randomUUID } from "node:crypto";
import { setMaxListeners } from "node:events";
import type { Engine } from "../engine/engine.js";
import { BerthError } from "../engine/errors.js";
import { ensureBusyboxFixture } from "../fixtures/busybox.js";
import { createEngine, guardOf } from "../guard/guard.js";
import { type Snapshot, snapshot } from "../janitor/leaks.js";
import { createSession } from "../janitor/session.js";
import { startAnswerRelay } from "./answer-relay.js";
import { limiterDescription } from "./guarded-engine.js";
import { machineFacts } from "./machine.js";
import {
  type CategorySummary,
  type Evidence,
  type LimiterPoint,
  PERF_OPERATIONS,
  type PerfOperation,
  RESULTS_SCHEMA,
  type ScenarioProof,
  type ScenarioResult,
  type ValidationResults,
} from "./model.js";
import { createScope, RUN_LABEL, type RunState } from "./run-scope.js";
import { type Category, type Scenario, ScenarioAssertionError, ScenarioSkipped } from "./scenario.js";
import { runLimiterOptions } from "./scenarios/rate-limiting.js";
import { summarize } from "./stats.js";
import { findRunResources, findUnlabelledSince, type LeakedResource, sweepRunResources } from "./sweep.js";

export type ProgressEvent =
  | { kind: "phase"; message: string }
  | {
      kind: "scenario-start";
      scenario: Pick<Scenario, "id" | "title" | "category">;
      done: number;
      total: number;
    }
  | { kind: "scenario-end"; result: ScenarioResult; done: number; total: number };

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
  berthVersion?: string;
  onProgress?(event: ProgressEvent): void;
}

const DEFAULT_TIMEOUT_MS = 120_000;
const LEAK_SCENARIO = {
  id: "cleanup.final-leak-count",
  category: "cleanup",
  title: "Nothing the run created is left (leak count 0)",
  fault: {
    kind: "setup" as const,
    describe: "an unlabelled container is planted on the daemon before the leak check",
    expect: /resource\(s\) of the run were left behind: container berth-validate-\w+-planted/,
  },
};

function failureOf(error: unknown): ScenarioResult["failure"] {
  if (error instanceof ScenarioAssertionError) {
    return {
      message: error.message,
      code: error.code,
      expected: error.expected,
      actual: error.actual,
      hint: error.hint,
    };
  }
  if (error instanceof BerthError) {
    return { message: error.message, code: error.code, hint: error.hint };
  }
  return { message: (error as Error)?.message ?? String(error), code: "BERTH_INTERNAL" };
}

async function runScenario(state: RunState, scenario: Scenario, faulted = false): Promise<ScenarioResult> {
  const startedAt = new Date();
  const began = performance.now();
  const timeoutMs = scenario.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const abort = new AbortController();
  // Every engine call and wait of the scenario listens on this signal; many may be pending at once.
  setMaxListeners(200, abort.signal);
  const scope = createScope(state, abort.signal, faulted);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new ScenarioAssertionError(`did not finish within ${timeoutMs / 1000} s`, {
        hint: "The daemon may be overloaded; see the evidence for the last phase reached.",
      });
      abort.abort(error);
      reject(error);
    }, timeoutMs);
  });
  let status: ScenarioResult["status"] = "pass";
  let failure: ScenarioResult["failure"];
  let skipReason: string | undefined;
  try {
    const returned = await Promise.race([scenario.run(scope.ctx), timedOut]);
    Object.assign(scope.evidence, returned ?? {});
  } catch (error) {
    if (error instanceof ScenarioSkipped) {
      status = "skip";
      skipReason = error.reason;
    } else {
      status = "fail";
      failure = failureOf(error);
    }
  } finally {
    clearTimeout(timer);
  }
  const cleanupErrors = await scope.cleanup();
  if (cleanupErrors.length > 0) {
    scope.evidence.cleanupErrors = cleanupErrors;
    if (status === "pass") {
      status = "fail";
      failure = { message: `cleanup failed: ${cleanupErrors.join("; ")}`, code: "BERTH_VALIDATE_CLEANUP" };
    }
  }
  return {
    id: scenario.id,
    category: scenario.category,
    title: scenario.title,
    status,
    startedAt: startedAt.toISOString(),
    durationMs: Math.round(performance.now() - began),
    evidence: scope.evidence,
    timings: scope.timings,
    ...(failure ? { failure } : {}),
    ...(skipReason ? { skipReason } : {}),
  };
}

/**
 * The run's state with another engine and fresh figures (a fault run adds nothing to the run's
 * figures), telling `names` every name the fault run hands out.
 */
function faultState(state: RunState, engine: Engine, names: string[]): RunState {
  const samples = Object.fromEntries(PERF_OPERATIONS.map((op) => [op, []])) as unknown as RunState["samples"];
  return {
    ...state,
    engine,
    samples,
    concurrency: [],
    cleanupEngine: state.engine,
    onName: (name) => names.push(name),
  };
}

/**
 * What a fault run left: a broken check can stop a scenario before its own removals, and a relay
 * that lies about a container misleads its cleanup. Everything of the run named after a name the
 * fault run handed out is removed with the run's own engine, and reported in the proof.
 */
async function sweepFaultRun(state: RunState, names: string[]): Promise<string[]> {
  if (names.length === 0) return [];
  const left = (await findRunResources(state.engine, state.runId)).filter((r) =>
    names.some((name) => r.name.startsWith(name)),
  );
  await sweepRunResources(state.engine, left);
  return left.map((r) => `${r.kind} ${r.name}`);
}

/** Runs `scenario` again under its fault; proven when it fails there with the expected failure. */
async function proveScenario(
  state: RunState,
  scenario: Scenario,
  healthy: ScenarioResult,
): Promise<ScenarioProof> {
  const { fault } = scenario;
  let result: ScenarioResult;
  const names: string[] = [];
  if (fault.kind === "relay") {
    const relay = await startAnswerRelay(state.engine.endpoint, fault.rules);
    const engine = createEngine({ dockerHost: relay.dockerHost, limiter: runLimiterOptions(state.engine) });
    try {
      result = await runScenario(faultState(state, engine, names), scenario, true);
    } finally {
      engine.close();
      await relay.close();
    }
    result.evidence.relayChanged = relay.changed;
  } else {
    result = await runScenario(faultState(state, state.engine, names), scenario, true);
  }
  const leftovers = await sweepFaultRun(state, names);
  if (leftovers.length > 0) result.evidence.removedAfterFault = leftovers;
  const failedAsExpected = result.status === "fail" && fault.expect.test(result.failure?.message ?? "");
  return {
    fault: fault.describe,
    kind: fault.kind,
    expected: fault.expect.source,
    status: result.status,
    ...(result.failure ? { failure: result.failure } : {}),
    evidence: result.evidence,
    durationMs: result.durationMs,
    proven: healthy.status === "pass" && failedAsExpected,
  };
}

/** Runs `tasks` with at most `limit` at once, preserving nothing but completion. */
async function pool<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await work(items[next++]!);
  });
  await Promise.all(workers);
}

function summarizeCategory(category: Category, results: ScenarioResult[], wallMs?: number): CategorySummary {
  const own = results.filter((r) => r.category === category.id);
  const passed = own.filter((r) => r.status === "pass").length;
  const failed = own.filter((r) => r.status === "fail").length;
  return {
    category: category.id,
    title: category.title,
    total: own.length,
    passed,
    failed,
    skipped: own.length - passed - failed,
    passRate: own.length === 0 ? 1 : passed / own.length,
    durationMs: Math.round(wallMs ?? own.reduce((sum, r) => sum + r.durationMs, 0)),
  };
}

function leakEvidence(leaked: LeakedResource[]): Evidence {
  return {
    leaked: leaked.length,
    resources: leaked.map((r) => `${r.kind} ${r.name}`),
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
 * Samples the guard's lifecycle limit every 100 ms and keeps a point whenever the limit, the
 * calls in flight or the queue changed: the series the report draws and describes the run by.
 */
function recordLimiter(engine: Engine, began: number): { points: LimiterPoint[]; stop(): void } {
  const points: LimiterPoint[] = [];
  const limiter = guardOf(engine)?.limiter;
  if (!limiter) return { points, stop: () => {} };
  const take = () => {
    const snap = limiter.snapshot();
    const point: LimiterPoint = {
      atMs: Math.round(performance.now() - began),
      limit: Number.isFinite(snap.limit) ? snap.limit : null,
      inFlight: snap.inFlight,
      queued: snap.queued,
    };
    const last = points.at(-1);
    if (
      !last ||
      last.limit !== point.limit ||
      last.inFlight !== point.inFlight ||
      last.queued !== point.queued
    )
      points.push(point);
  };
  take();
  const timer = setInterval(take, 100);
  timer.unref();
  return {
    points,
    stop: () => {
      clearInterval(timer);
      take();
    },
  };
}

/** The name of the container `--prove` plants to show the leak check finds what nobody labelled. */
function plantedName(runId: string): string {
  return `berth-validate-${runId}-planted`;
}

/**
 * The final leak check: resources carrying the run's label, and resources created since the run
 * began that carry no berth label at all (made by a tool that dropped the labels). The first
 * are removed; the unlabelled ones are only reported, since nothing proves they are the run's.
 */
async function findLeaks(engine: Engine, runId: string, before: Snapshot | undefined) {
  const labelled = await findRunResources(engine, runId);
  if (!before) return { labelled, unlabelled: [] };
  const unlabelled = (await findUnlabelledSince(engine, before.resources)).filter(
    (r) => !labelled.some((l) => l.kind === r.kind && l.name === r.name),
  );
  return { labelled, unlabelled };
}

interface LeakCheck {
  result: ScenarioResult;
  leaked: LeakedResource[];
}

async function checkLeaks(engine: Engine, runId: string, before: Snapshot | undefined): Promise<LeakCheck> {
  const started = new Date();
  const began = performance.now();
  const { labelled, unlabelled } = await findLeaks(engine, runId, before);
  const sweepErrors = await sweepRunResources(engine, labelled);
  const all: LeakedResource[] = [...labelled, ...unlabelled];
  const evidence = leakEvidence(all);
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
    ...(all.length > 0
      ? {
          failure: {
            message: `${all.length} resource(s) of the run were left behind: ${evidence.resources}`,
            code: "BERTH_LEAK_DETECTED",
            expected: 0,
            actual: all.length,
            hint:
              unlabelled.length > 0
                ? "The labelled ones have been removed; the unlabelled ones were created during the run but carry no berth label, so they are left for you to check."
                : "They have been removed now; the scenario that created them did not clean up.",
          },
        }
      : {}),
  };
  return { result, leaked: all };
}

async function leakCheck(
  engine: Engine,
  runId: string,
  before: Snapshot | undefined,
  prove: { image: string } | undefined,
): Promise<LeakCheck> {
  const check = await checkLeaks(engine, runId, before);
  if (!prove) return check;
  const { result } = check;
  // The fault: a container nobody labelled, made straight through the daemon during the run.
  const began = performance.now();
  const planted = await engine.createContainer({
    name: plantedName(runId),
    Image: prove.image,
    Cmd: ["true"],
  });
  let faulted: ScenarioResult;
  try {
    faulted = (await checkLeaks(engine, runId, before)).result;
  } finally {
    await engine.removeContainer(planted.id, { volumes: true }).catch(() => {});
  }
  const failedAsExpected =
    faulted.status === "fail" && LEAK_SCENARIO.fault.expect.test(faulted.failure?.message ?? "");
  result.proof = {
    fault: LEAK_SCENARIO.fault.describe,
    kind: "setup",
    expected: LEAK_SCENARIO.fault.expect.source,
    status: faulted.status,
    ...(faulted.failure ? { failure: faulted.failure } : {}),
    evidence: faulted.evidence,
    durationMs: Math.round(performance.now() - began),
    proven: result.status === "pass" && failedAsExpected,
  };
  return check;
}

export async function runValidation(options: RunOptions): Promise<ValidationResults> {
  const { engine, categories } = options;
  const quick = options.quick ?? false;
  const prove = options.prove ?? false;
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
  const session = createSession(engine, { project: `berth-validate-${runId}` });
  const state: RunState = {
    engine,
    image: fixture.ref,
    runId,
    session,
    quick,
    samples: Object.fromEntries(PERF_OPERATIONS.map((op) => [op, []])) as unknown as Record<
      PerfOperation,
      number[]
    >,
    concurrency: [],
    names: { next: 0 },
  };
  const apiLatency = new Map<string, number[]>();
  const stopObserving = engine.observe((record) => {
    if (record.class === "stream" || record.outcome !== "ok") return;
    const list = apiLatency.get(record.operation) ?? [];
    list.push(record.durationMs);
    apiLatency.set(record.operation, list);
  });
  const limiterSeries = recordLimiter(engine, began);
  const restoreLabels = labelEverything(runId);
  // The reaper guards the run from its first resource: a killed `berth validate` leaves nothing.
  await (async () => {
    await session.beforeCreate();
    await session.confirmGuard();
  })().catch((error) => {
    restoreLabels();
    stopObserving();
    throw error;
  });

  const selected = categories.map((c) => ({
    ...c,
    scenarios: quick ? c.scenarios.filter((s) => s.quick) : c.scenarios,
  }));
  const total = selected.reduce((n, c) => n + c.scenarios.length, 0) + 1;
  const results = new Map<string, ScenarioResult>();
  let done = 0;
  const record = (result: ScenarioResult) => {
    results.set(result.id, result);
    progress({ kind: "scenario-end", result, done: ++done, total });
  };
  const execute = async (scenario: Scenario) => {
    progress({ kind: "scenario-start", scenario, done, total });
    const result = await runScenario(state, scenario);
    if (prove && result.status !== "skip") result.proof = await proveScenario(state, scenario, result);
    record(result);
  };

  let leaked: LeakedResource[] = [];
  const categoryWall = new Map<string, number>();
  try {
    for (const category of selected) {
      if (category.scenarios.length === 0) continue;
      const reason = category.unavailable ? await category.unavailable(engine) : undefined;
      if (reason) {
        for (const scenario of category.scenarios) {
          record({
            id: scenario.id,
            category: scenario.category,
            title: scenario.title,
            status: "skip",
            startedAt: new Date().toISOString(),
            durationMs: 0,
            evidence: {},
            timings: {},
            skipReason: reason,
          });
        }
        continue;
      }
      progress({ kind: "phase", message: `category ${category.id}` });
      const categoryStart = performance.now();
      const shared = category.scenarios.filter((s) => !s.exclusive);
      await pool(shared, options.parallelism ?? 2, execute);
      for (const scenario of category.scenarios.filter((s) => s.exclusive)) await execute(scenario);
      categoryWall.set(category.id, performance.now() - categoryStart);
    }
  } finally {
    restoreLabels();
    stopObserving();
    limiterSeries.stop();
    progress({ kind: "phase", message: "checking for leaks" });
    const check = await leakCheck(engine, runId, before, prove ? { image: fixture.ref } : undefined);
    record(check.result);
    leaked = check.leaked;
    await session.end();
  }

  const order = [...selected.flatMap((c) => c.scenarios.map((s) => s.id)), LEAK_SCENARIO.id];
  const scenarios = order.map((id) => results.get(id)!).filter(Boolean);
  const summaryCategories = selected.map((c) => summarizeCategory(c, scenarios, categoryWall.get(c.id)));
  if (!selected.some((c) => c.id === "cleanup")) {
    summaryCategories.push(
      summarizeCategory({ id: "cleanup", title: "Cleanup and leaks", scenarios: [] }, scenarios),
    );
  }
  const passed = scenarios.filter((r) => r.status === "pass").length;
  const failed = scenarios.filter((r) => r.status === "fail").length;
  const operations = Object.fromEntries(
    PERF_OPERATIONS.filter((op) => state.samples[op].length > 0).map((op) => [
      op,
      { ...summarize(state.samples[op]), samples: state.samples[op] },
    ]),
  );
  machine.limiter = limiterDescription(engine, limiterSeries.points);
  return {
    schema: RESULTS_SCHEMA,
    berthVersion: options.berthVersion ?? "unknown",
    runId,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    durationMs: Math.round(performance.now() - began),
    options: { quick, categories: selected.map((c) => c.id), prove, allowSkips: options.allowSkips ?? false },
    machine,
    summary: {
      total: scenarios.length,
      passed,
      failed,
      skipped: scenarios.length - passed - failed,
      successRate: scenarios.length === 0 ? 1 : passed / scenarios.length,
      leaks: leaked.length,
      ...(prove ? { proven: scenarios.filter((r) => r.proof?.proven).length } : {}),
      categories: summaryCategories,
    },
    scenarios,
    performance: {
      operations,
      concurrency: state.concurrency,
      throughput: Math.max(0, ...state.concurrency.map((c) => c.throughput)),
      api: Object.fromEntries(
        [...apiLatency]
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([op, v]) => [op, { ...summarize(v), samples: v.map((ms) => Math.round(ms * 100) / 100) }]),
      ),
      limiter: limiterSeries.points,
    },
    leaks: { count: leaked.length, resources: leaked },
  };
}
